"""Seed: deterministic, fast, and rich enough for the documented scenarios."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from sandbox.seed import SAMPLE_CUSTOMER_ID, main, seed_database

NOW = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            name: conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()
            for name in sorted(names)
            if name != "meta"
        }
    finally:
        conn.close()


def test_same_seed_gives_identical_content(tmp_path: Path) -> None:
    seed_database(tmp_path / "a.db", now=NOW)
    seed_database(tmp_path / "b.db", now=NOW)
    assert _dump(tmp_path / "a.db") == _dump(tmp_path / "b.db")


def test_seeding_overwrites_and_is_fast(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"not a database")
    started = time.perf_counter()
    seed_database(path, now=NOW)
    assert time.perf_counter() - started < 1.0
    assert _dump(path)["products"]


def test_cli_seeds_a_database(tmp_path: Path) -> None:
    main(["--db", str(tmp_path / "cli.db")])
    assert len(_dump(tmp_path / "cli.db")["customers"]) >= 50


def test_counts_meet_the_minimums(db: sqlite3.Connection) -> None:
    def scalar(sql: str) -> int:
        value: int = db.execute(sql).fetchone()[0]
        return value

    assert scalar("SELECT COUNT(*) FROM products") >= 300
    assert scalar("SELECT COUNT(DISTINCT category) FROM products") >= 6
    assert scalar("SELECT COUNT(*) FROM customers") >= 50
    assert scalar("SELECT COUNT(*) FROM locations WHERE kind = 'fulfillment_center'") >= 3
    assert scalar("SELECT COUNT(*) FROM locations WHERE kind = 'store'") >= 6
    assert scalar("SELECT COUNT(DISTINCT region) FROM locations") >= 3
    assert scalar("SELECT COUNT(DISTINCT region) FROM customers") >= 3
    assert scalar("SELECT COUNT(DISTINCT loyalty_tier) FROM customers") == 4


def test_data_covers_the_interesting_cases(db: sqlite3.Connection) -> None:
    statuses = {r[0] for r in db.execute("SELECT DISTINCT status FROM orders")}
    assert statuses == {"pending", "processing", "shipped", "delivered", "cancelled", "returned"}
    now = "2026-11-24T16:30:00+00:00"
    recent = db.execute(
        "SELECT COUNT(*) FROM orders WHERE status = 'delivered' "
        "AND delivered_at > datetime(?, '-30 days')",
        (now,),
    ).fetchone()[0]
    old = db.execute(
        "SELECT COUNT(*) FROM orders WHERE status = 'delivered' "
        "AND delivered_at < datetime(?, '-31 days')",
        (now,),
    ).fetchone()[0]
    assert recent > 0 and old > 0
    partial = db.execute(
        "SELECT COUNT(*) FROM orders o WHERE o.status = 'delivered' AND "
        "(SELECT SUM(amount_cents) FROM refunds r WHERE r.order_id = o.order_id) < o.paid_cents"
    ).fetchone()[0]
    assert partial > 0
    assert db.execute("SELECT COUNT(*) FROM support_issues").fetchone()[0] > 0
    assert db.execute("SELECT COUNT(*) FROM prices WHERE map_cents IS NOT NULL").fetchone()[0]
    margins = db.execute(
        "SELECT MIN(cost_cents * 1.0 / list_cents), MAX(cost_cents * 1.0 / list_cents) FROM prices"
    ).fetchone()
    assert margins[0] > 0.44 and margins[1] < 0.71
    ages = [r[0] for r in db.execute("SELECT observed_at FROM competitor_prices")]
    assert min(ages) < "2026-10-31" and max(ages) > "2026-11-23T16:30"
    sold_out = db.execute(
        "SELECT COUNT(*) FROM (SELECT sku FROM stock GROUP BY sku HAVING SUM(on_hand) = 0)"
    ).fetchone()[0]
    assert sold_out > 0
    assert db.execute("SELECT COUNT(*) FROM products WHERE restricted_regions != '[]'").fetchone()[
        0
    ]
    m_rated = db.execute(
        "SELECT age_restricted FROM products WHERE json_extract(attributes, '$.rating') = 'M'"
    ).fetchall()
    assert m_rated and all(r[0] == 1 for r in m_rated)


async def test_demo_question_has_several_in_stock_pickup_answers(
    client: httpx.AsyncClient,
) -> None:
    """'Running shoes size 10 under $120 that I can pick up today' for the demo customer."""
    customer = (await client.get(f"/customers/{SAMPLE_CUSTOMER_ID}")).json()
    found = await client.get(
        "/catalog/products",
        params={
            "category": "running-shoes",
            "attr": "size:10",
            "max_price": 120,
            "in_stock": "true",
            "limit": 50,
        },
    )
    skus = [item["sku"] for item in found.json()["items"]]
    assert len(skus) >= 5
    pickup_today = set()
    for sku in skus:
        options = await client.get(
            "/fulfillment/options", params={"sku": sku, "postcode": customer["postcode"]}
        )
        if any(
            o["kind"] == "store_pickup" and o["available"] and o["ready_today"]
            for o in options.json()["options"]
        ):
            pickup_today.add(sku)
    assert len(pickup_today) >= 5
