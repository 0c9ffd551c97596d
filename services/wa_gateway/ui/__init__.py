"""The operator's page, served by the gateway at ``/``: the session, pairing, and the salon's conversations."""
