"""The audit hash chain: intact chains verify, any edit or removal is named, pruning anchors."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.audit_chain import GENESIS, body_of, canonical_json, chain_hash
from agent.audit_pg import PostgresAuditStore
from agent.audit_store import AuditChainError, AuditStore, record_hash
from agent.record import DecisionRecord
from agent.runtime import Arbiter
from arbiter.settings import Settings
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import OpenArbiter
from tests.guardrails.test_ledger_postgres import BACKENDS, postgres_schema

MESSAGES = ["hello", "how much is RUN-00005?", "add RUN-00005 to my cart", "what's in my cart?"]


async def _turns(arbiter: Arbiter, messages: list[str] = MESSAGES) -> list[DecisionRecord]:
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    return [(await arbiter.ask(session.session_id, m)).record for m in messages]


@pytest.fixture(params=BACKENDS)
async def arbiter(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Arbiter]:
    """The runtime with its audit chain in SQLite, or in PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        async with Arbiter.open(settings) as opened:
            yield opened
        return
    with postgres_schema() as url:
        async with Arbiter.open(settings.model_copy(update={"database_url": url})) as opened:
            yield opened


class Raw:
    """The audit table reached directly, as an attacker with database access would."""

    def __init__(self, arbiter: Arbiter) -> None:
        self.settings = arbiter.settings

    def sql(self, statement: str, *args: object) -> list[tuple[object, ...]]:
        """Run one statement (``?`` placeholders, table ``records``) and commit."""
        statement = statement.replace("records", "decision_records")
        url = self.settings.database_url
        if url is None:
            with sqlite3.connect(self.settings.data_dir / "audit.sqlite") as conn:
                return conn.execute(statement, args).fetchall()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(statement.replace("?", "%s"), args)
            return [tuple(r) for r in cursor.fetchall()] if cursor.description else []


def _raw(arbiter: Arbiter) -> Raw:
    return Raw(arbiter)


def _edit(raw: Raw, seq: int, change: Callable[[dict[str, object]], None]) -> None:
    """Change a stored record's JSON directly in the database."""
    ((text,),) = raw.sql("SELECT record FROM records WHERE seq = ?", seq)
    record = json.loads(str(text))
    change(record)
    raw.sql("UPDATE records SET record = ? WHERE seq = ?", json.dumps(record), seq)


def _sql(raw: Raw, statement: str, *args: object) -> None:
    raw.sql(statement, *args)


async def test_an_intact_chain_verifies(arbiter: Arbiter) -> None:
    records = await _turns(arbiter)
    report = arbiter.deps.audit.verify()
    assert report.ok and report.first_broken is None and report.anchor is None
    assert report.checked == len(records) == 4
    assert (report.head_seq, report.head_hash) == (4, records[-1].record_hash)


def test_an_empty_store_verifies(tmp_path: Path) -> None:
    report = AuditStore(tmp_path / "audit.sqlite").verify()
    assert report.ok and report.checked == 0 and report.head_hash is None


async def test_the_hash_is_recomputable_from_the_stored_json_alone(arbiter: Arbiter) -> None:
    first, second, *_ = await _turns(arbiter)
    assert first.prev_hash == GENESIS and second.prev_hash == first.record_hash
    row = arbiter.deps.audit.get_row(second.turn_id)
    assert row is not None
    body = body_of(json.loads(row.record))
    assert (
        chain_hash(row.prev_hash, body) == row.record_hash == record_hash(second, first.record_hash)
    )
    canonical = canonical_json(body)
    assert " " not in canonical[:40] and canonical.startswith('{"approvals":')


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda r: r.update(final_text="We refunded you $500."), id="final_text"),
        pytest.param(lambda r: r["verdicts"][0].update(outcome="deny"), id="verdict_outcome"),
        pytest.param(lambda r: r["executions"][0]["params"].update(quantity=9), id="params"),
        pytest.param(lambda r: r.update(record_hash="f" * 64), id="embedded_hash"),
    ],
)
async def test_editing_one_field_names_exactly_that_record(
    arbiter: Arbiter, change: Callable[[dict[str, object]], None]
) -> None:
    records = await _turns(arbiter)
    _edit(_raw(arbiter), 3, change)
    report = arbiter.deps.audit.verify()
    broken = report.first_broken
    assert not report.ok and broken is not None and report.checked == 2
    assert (broken.seq, broken.turn_id, broken.reason) == (
        3,
        records[2].turn_id,
        "content_mismatch",
    )


async def test_a_rehashed_edit_still_breaks_the_link_to_the_next_record(arbiter: Arbiter) -> None:
    records = await _turns(arbiter)
    raw = _raw(arbiter)

    def forge(record: dict[str, object]) -> None:
        record["final_text"] = "forged"
        record["record_hash"] = chain_hash(str(record["prev_hash"]), body_of(record))

    _edit(raw, 2, forge)
    ((text,),) = raw.sql("SELECT record FROM records WHERE seq = 2")
    raw.sql(
        "UPDATE records SET record_hash = ? WHERE seq = 2", json.loads(str(text))["record_hash"]
    )
    broken = arbiter.deps.audit.verify().first_broken
    assert broken is not None
    assert (broken.seq, broken.turn_id, broken.reason) == (3, records[2].turn_id, "broken_link")


async def test_a_deleted_middle_record_is_named_as_a_gap(arbiter: Arbiter) -> None:
    records = await _turns(arbiter)
    _sql(_raw(arbiter), "DELETE FROM records WHERE seq = 2")
    report = arbiter.deps.audit.verify()
    broken = report.first_broken
    assert broken is not None and report.checked == 1
    assert (broken.seq, broken.turn_id, broken.reason) == (2, None, "gap")
    assert records[2].turn_id in broken.detail


async def test_a_deleted_last_record_is_noticed(arbiter: Arbiter) -> None:
    await _turns(arbiter)
    _sql(_raw(arbiter), "DELETE FROM records WHERE seq = 4")
    broken = arbiter.deps.audit.verify().first_broken
    assert broken is not None and (broken.seq, broken.reason) == (4, "gap")


async def test_a_moved_index_column_is_caught(arbiter: Arbiter) -> None:
    records = await _turns(arbiter)
    _sql(_raw(arbiter), "UPDATE records SET created_at = '2001-01-01' WHERE seq = 1")
    broken = arbiter.deps.audit.verify().first_broken
    assert broken is not None and (broken.turn_id, broken.reason) == (
        records[0].turn_id,
        "content_mismatch",
    )
    assert "created_at" in broken.detail
    with pytest.raises(AuditChainError, match="refusing to prune"):
        arbiter.deps.audit.prune(datetime.now(UTC) + timedelta(days=1))
    assert arbiter.deps.audit.count() == 4


async def test_prune_anchors_the_chain_and_keeps_newer_records(arbiter: Arbiter) -> None:
    store = arbiter.deps.audit
    records = await _turns(arbiter)
    assert store.prune(records[2].finished_at) == 2
    assert [r.turn_id for r in store.iter_since()] == [r.turn_id for r in records[2:]]
    anchor = store.anchor()
    assert anchor is not None
    assert (anchor.seq, anchor.record_hash, anchor.pruned_count) == (2, records[1].record_hash, 2)
    report = store.verify()
    assert report.ok and report.checked == 2 and report.anchor == anchor

    more = await _turns(arbiter, ["hello", "how much is RUN-00005?"])
    assert more[0].prev_hash == records[-1].record_hash
    report = store.verify()
    assert report.ok and report.checked == 4 and report.head_hash == more[-1].record_hash


async def test_pruning_everything_then_appending_continues_from_the_anchor(
    arbiter: Arbiter,
) -> None:
    store = arbiter.deps.audit
    records = await _turns(arbiter, ["hello", "hi"])
    assert store.prune(datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert store.count() == 0 and store.verify().ok
    (after,) = await _turns(arbiter, ["hello"])
    assert after.prev_hash == records[-1].record_hash
    report = store.verify()
    assert report.ok and report.checked == 1 and report.head_seq == 3


async def test_prune_stops_at_the_first_newer_record(arbiter: Arbiter) -> None:
    store = arbiter.deps.audit
    records = await _turns(arbiter)
    assert store.prune(records[0].finished_at) == 0
    assert store.prune(records[0].finished_at - timedelta(days=365)) == 0
    assert store.count() == 4 and store.anchor() is None
    # a later record that looks older (clock skew) must not pull newer ones with it
    assert store.prune(records[1].finished_at) == 1
    assert [r.turn_id for r in store.iter_since()] == [r.turn_id for r in records[1:]]
    assert store.verify().ok


async def test_a_pruned_prefix_edit_after_the_anchor_is_still_caught(arbiter: Arbiter) -> None:
    store = arbiter.deps.audit
    records = await _turns(arbiter)
    store.prune(records[2].finished_at)
    _edit(_raw(arbiter), 4, lambda r: r.update(user_message="something else"))
    broken = store.verify().first_broken
    assert broken is not None and (broken.seq, broken.turn_id) == (4, records[3].turn_id)


async def test_iter_since_is_in_chain_order_and_filters_by_time(arbiter: Arbiter) -> None:
    store = arbiter.deps.audit
    records = await _turns(arbiter)
    assert [r.turn_id for r in store.iter_since(records[1].finished_at)] == [
        r.turn_id for r in records[1:]
    ]
    assert list(store.iter_since(datetime.now(UTC) + timedelta(hours=1))) == []
    assert [row.seq for row in store.iter_rows()] == [1, 2, 3, 4]


async def test_replicas_appending_at_once_keep_one_chain(open_arbiter: OpenArbiter) -> None:
    """Two PostgreSQL stores with their own pools (two replicas) append from four threads."""
    async with open_arbiter() as sqlite_runtime:
        (template,) = await _turns(sqlite_runtime, ["hello"])
    with postgres_schema() as url:
        replicas = [PostgresAuditStore.connect(url) for _ in range(2)]
        try:

            def append(n: int) -> str:
                record = template.model_copy(update={"turn_id": f"turn_replica_{n:04d}"})
                return replicas[n % 2].append(record).record_hash

            with ThreadPoolExecutor(max_workers=4) as pool:
                hashes = list(pool.map(append, range(40)))
            assert len(set(hashes)) == 40
            report = replicas[0].verify()
            assert report.ok and report.checked == 40 and report.head_seq == 40
            twice = template.model_copy(update={"turn_id": "turn_replica_0007"})
            assert replicas[1].append(twice).record_hash == hashes[7]  # the first one stays
            assert replicas[1].count() == 40
        finally:
            for store in replicas:
                store.close()
