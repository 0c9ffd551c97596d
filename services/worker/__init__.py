"""worker: RQ jobs that answer a chat's batch with the AI and reply through the api."""
