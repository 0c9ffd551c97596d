from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import anyio
import httpx
import redis
from fastapi import Depends, Request
from rq import Queue

from services.api.settings import ApiSettings
from shared.batching import BatchStore
from shared.errors import NotAuthenticated
from shared.signing import API_KEY_HEADER, api_key_matches


@dataclass
class ApiState:
    settings: ApiSettings
    redis: redis.Redis
    """Sync client: RQ is synchronous, so every Redis call runs in a worker thread."""
    queue: Queue
    batches: BatchStore
    http: httpx.AsyncClient
    redis_limiter: anyio.CapacityLimiter
    """Bounds Redis threads so enqueueing can't starve Starlette's shared thread pool."""


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


def require_api_key(request: Request, state: StateDep) -> None:
    expected = state.settings.api_key.get_secret_value()
    if expected and not api_key_matches(expected, request.headers.get(API_KEY_HEADER)):
        raise NotAuthenticated(f"missing or wrong {API_KEY_HEADER} header")
