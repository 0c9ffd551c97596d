"""``ai-admin``: the operator's command line for a running stack (status, sends, pairing, chats, failed jobs).

A client of the stack like a browser is: it talks to the api and the gateway over HTTP and reads Redis,
and never runs any service's code in its own process. ``app.py`` is the root; one module per command group.
"""
