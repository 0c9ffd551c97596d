"""api: receives the gateway's webhooks, queues them for the worker, proxies sends to the gateway."""
