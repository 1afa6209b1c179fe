"""The LangGraph checkpointer: where conversations and paused turns live.

SQLite in the data directory by default; PostgreSQL (langgraph-checkpoint-postgres)
when ``ARBITER_DATABASE_URL`` is set, so a turn paused for approval on one replica
can be resumed by any other, and survives a restart either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.state import CHECKPOINT_TYPES
from arbiter.errors import ConfigError
from arbiter.settings import Settings


def serializer() -> JsonPlusSerializer:
    """Checkpoint serde that only revives Arbiter's own state types."""
    return JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)


class InlineSqliteSaver(SqliteSaver):
    """The SQLite saver with its async methods run inline on the event loop's thread.

    A checkpoint read or write is a sub-millisecond statement; aiosqlite's hop to its
    own thread and back cost more than that (about 1.2 ms of CPU a turn), and the other
    small stores already run their statements inline.
    """

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)


@asynccontextmanager
async def open_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The configured checkpointer, set up and closed with the context."""
    if not settings.database_url:
        conn = sqlite3.connect(
            settings.path("checkpoints.sqlite"), timeout=10.0, check_same_thread=False
        )
        try:
            # As the other stores: WAL (set by the saver) with synchronous=NORMAL survives
            # a process crash at every commit without an fsync per turn (~1 ms each).
            conn.execute("PRAGMA synchronous=NORMAL")
            yield InlineSqliteSaver(conn, serde=serializer())
        finally:
            conn.close()
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
