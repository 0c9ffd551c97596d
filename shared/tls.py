"""The one TLS context of a process: every outgoing HTTP client verifies servers with it.

A client left to its default (``verify=True``) loads a CA bundle into a context of its own, about
2.5 MB of memory each. A worker process has three such clients (the api's send proxy, the LLM SDK,
YClients), and the worker's main process loads this context before it forks them, so they share
its pages instead of each loading it three times. Same trust as httpx's default: certifi's bundle,
or SSL_CERT_FILE / SSL_CERT_DIR when set.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def preload_http_client() -> None:
    """Make and drop one client with the shared context, for a process about to fork its workers.

    httpx imports its transport (httpcore, h11, anyio: about 3 MB) when the first client is made; made
    here, the forked processes share those modules instead of each importing its own copy.
    """
    httpx.Client(verify=tls_context()).close()
