from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
import redis
from fastapi import Depends, Path, Request
from redis.asyncio import Redis as AsyncRedis
from rq import Queue

from services.api.ingest import Ingestor
from services.api.settings import ApiSettings
from shared.blocking import BlockingPool
from shared.booking.backend import BookingBackend
from shared.conversations import ConversationStore
from shared.signing import check_api_key
from shared.wire import COMPANY_ID_PATTERN


@dataclass
class ApiState:
    settings: ApiSettings
    redis: redis.Redis
    """Sync client: RQ is synchronous, so every Redis call runs in a worker thread."""
    async_redis: AsyncRedis
    """For the webhook's hot path: one Lua call per request, on the event loop, no thread hop."""
    ingestor: Ingestor
    queue: Queue
    http: httpx.AsyncClient
    redis_pool: BlockingPool
    """Threads for Redis and RQ calls, bounded so enqueueing can't starve anything else."""
    backend: BookingBackend
    """The salon's book (read here for the bookings listing); sync, so called from a worker thread."""
    backend_pool: BlockingPool
    """Threads for booking-backend calls, apart from Redis': a slow YClients must not stall message intake."""
    conversations: ConversationStore
    """The chats' transcripts (SQLite on this machine); read and paused through ``run_blocking``."""


# Dependencies are coroutines on purpose: FastAPI runs a plain ``def`` dependency on a worker thread,
# a thread hop per request for what is an attribute lookup.
async def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


async def require_api_key(request: Request, state: StateDep) -> None:
    check_api_key(state.settings.api_key.get_secret_value(), request.headers)


CompanyIdPath = Annotated[str, Path(alias="companyId", pattern=COMPANY_ID_PATTERN)]
