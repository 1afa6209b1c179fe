"""The LangGraph checkpointer: where conversations and paused turns live.

SQLite in the data directory by default; PostgreSQL (langgraph-checkpoint-postgres)
when ``ARBITER_DATABASE_URL`` is set, so a turn paused for approval on one replica
can be resumed by any other, and survives a restart either way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.state import CHECKPOINT_TYPES
from arbiter.errors import ConfigError
from arbiter.settings import Settings


def serializer() -> JsonPlusSerializer:
    """Checkpoint serde that only revives Arbiter's own state types."""
    return JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)


@asynccontextmanager
async def open_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The configured checkpointer, set up and closed with the context."""
    if not settings.database_url:
        async with aiosqlite.connect(settings.path("checkpoints.sqlite")) as conn:
            # As the other stores: WAL (set by the saver) with synchronous=NORMAL survives
            # a process crash at every commit without an fsync per turn (~1 ms each).
            await conn.execute("PRAGMA synchronous=NORMAL")
            yield AsyncSqliteSaver(conn, serde=serializer())
        return
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    except ImportError as exc:
        raise ConfigError(
            "ARBITER_DATABASE_URL is set but langgraph-checkpoint-postgres is missing: "
            "pip install 'arbiter-commerce[postgres]'"
        ) from exc
    async with AsyncPostgresSaver.from_conn_string(
        settings.database_url, serde=serializer()
    ) as saver:
        await saver.setup()
        yield saver
