"""The three processes: wa_gateway, api and worker."""
