"""One turn at a time per session, across processes: the session lease."""

from __future__ import annotations

import asyncio

import pytest

from agent.runtime import Arbiter
from arbiter.errors import ConflictError
from arbiter.settings import Settings


async def test_a_turn_held_elsewhere_is_a_conflict_until_its_lease_lapses(
    settings: Settings,
) -> None:
    async with Arbiter.open(settings) as arbiter:
        session = await arbiter.start_session("C1001")
        # Another process is running a turn of this session.
        assert arbiter.sessions.lease(session.session_id, "other-process", 60)
        with pytest.raises(ConflictError, match="turn in progress"):
            await arbiter.ask(session.session_id, "hello")
        assert arbiter.deps.audit.for_session(session.session_id) == []
        arbiter.sessions.release(session.session_id, "other-process")
        assert (await arbiter.ask(session.session_id, "hello")).status == "answered"

        # A process that died holding a lease does not block the session for ever.
        assert arbiter.sessions.lease(session.session_id, "crashed-process", 0.05)
        await asyncio.sleep(0.1)
        assert (await arbiter.ask(session.session_id, "hello")).status == "answered"


async def test_the_lease_is_given_back_after_every_turn(settings: Settings) -> None:
    async with Arbiter.open(settings) as first, Arbiter.open(settings) as second:
        session = await first.start_session("C1001")
        await first.ask(session.session_id, "hello")
        # A second process (same stores) can take the next turn at once.
        assert (await second.ask(session.session_id, "hello")).status == "answered"
        assert second.sessions.lease(session.session_id, "probe", 1)
        assert not first.sessions.lease(session.session_id, "another", 1)
