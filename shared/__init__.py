"""Code shared by the wa-gateway, api and worker services."""
