"""Deterministic seed of the sandbox database: ``python -m sandbox.seed --db PATH``.

Everything is generated in code from ``SEED``; the only input besides the seed is
the sandbox's "now" at seed time (see :mod:`sandbox.clock`), which every seeded
timestamp is relative to. The file is built beside the target and moved into place,
so a reader never sees a half-seeded database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from sandbox.clock import ClockSpec, iso, seed_moment, write_clock
from sandbox.db import SCHEMA, connect, table_names
from sandbox.seed_catalog import build_catalog, price_rows
from sandbox.seed_customers import SAMPLE_CUSTOMER_ID, build_customers
from sandbox.seed_inventory import capacity_rows, location_rows, stock_rows
from sandbox.seed_promotions import promotion_rows

SEED = 20261124

__all__ = ["SAMPLE_CUSTOMER_ID", "SEED", "populate", "seed_database"]


def _search_text(*parts: str) -> str:
    return " ".join(parts).lower()


def populate(conn: sqlite3.Connection, now: datetime) -> None:
    """Insert the seeded rows into empty tables (caller owns the transaction)."""
    rng = random.Random(SEED)
    catalog = build_catalog(rng)
    conn.executemany(
        "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                p.sku,
                p.product_id,
                p.name,
                p.brand,
                p.category,
                p.description,
                json.dumps(p.attributes, sort_keys=True),
                p.rating,
                json.dumps(p.restricted_regions),
                int(p.age_restricted),
                json.dumps(p.related_skus),
                _search_text(p.name, p.brand, p.category, p.description, *p.attributes.values()),
            )
            for p in catalog
        ],
    )
    prices, competitors = price_rows(rng, catalog)

    def hours_ago(hours: object) -> str:
        assert isinstance(hours, float)
        return iso(now - timedelta(hours=hours))

    conn.executemany(
        "INSERT INTO prices VALUES (?, ?, ?, ?, ?)",
        [(*row[:4], hours_ago(row[4])) for row in prices],
    )
    conn.executemany(
        "INSERT INTO competitor_prices (sku, competitor, price_cents, observed_at, url) "
        "VALUES (?, ?, ?, ?, ?)",
        [(*row[:3], hours_ago(row[3]), row[4]) for row in competitors],
    )
    conn.executemany("INSERT INTO locations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", location_rows())
    conn.executemany("INSERT INTO stock VALUES (?, ?, ?)", stock_rows(rng, catalog))
    conn.executemany("INSERT INTO capacity VALUES (?, ?, ?)", capacity_rows())
    conn.executemany(
        "INSERT INTO promotions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", promotion_rows(now)
    )
    people = build_customers(rng, now, catalog)
    conn.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", people.customers
    )
    conn.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", people.orders
    )
    conn.executemany("INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?, ?)", people.order_lines)
    conn.executemany("INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?)", people.refunds)
    conn.executemany("INSERT INTO support_issues VALUES (?, ?, ?, ?, ?, ?)", people.issues)
    conn.execute("INSERT INTO meta (key, value) VALUES ('seeded_at', ?)", (iso(now),))
    write_clock(conn, real=False, anchor=now)


def reseed(conn: sqlite3.Connection, now: datetime) -> None:
    """Empty every table and populate again (caller owns the transaction)."""
    for name in table_names(conn):
        conn.execute(f"DELETE FROM {name}")
    populate(conn, now)


def seed_database(db_path: Path, *, now: datetime | None = None) -> None:
    """(Re)generate the database at ``db_path`` from the fixed seed, overwriting it.

    ``now`` is the sandbox time the data is generated against; by default 10:30 in
    the retailer's time zone today (the default clock's anchor).
    """
    moment = now if now is not None else seed_moment(ClockSpec())
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.seeding")
    tmp.unlink(missing_ok=True)
    conn = connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        populate(conn, moment)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, db_path)


def main(argv: list[str] | None = None) -> None:
    """CLI: ``python -m sandbox.seed --db PATH``."""
    parser = argparse.ArgumentParser(description="Regenerate the sandbox database.")
    parser.add_argument("--db", type=Path, required=True, help="SQLite file to (re)create")
    args = parser.parse_args(argv)
    seed_database(args.db)
    print(f"seeded {args.db}")


if __name__ == "__main__":
    main()
