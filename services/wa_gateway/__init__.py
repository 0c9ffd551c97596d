"""wa-gateway: the only owner of the salon's WhatsApp session."""
