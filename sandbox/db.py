"""SQLite access for the sandbox: schema, connections and write transactions.

One connection per request (stdlib sqlite3, autocommit mode so that every write
opens its own ``BEGIN IMMEDIATE`` transaction), WAL journal and a busy timeout so
concurrent requests queue instead of failing. Endpoints are ``async def`` and run their
statements inline on the event loop: each is well under a millisecond, and FastAPI's
thread hop for a plain ``def`` endpoint cost more (about 1 ms of CPU a call when the
services run inside ``arbiter serve``). Money is stored in integer cents and
times as UTC ISO-8601 strings (``2026-11-24T16:30:00+00:00``), which sort correctly
as text.
"""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request

BUSY_TIMEOUT_MS = 5000

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE products (
    sku TEXT PRIMARY KEY, product_id TEXT NOT NULL, name TEXT NOT NULL,
    brand TEXT NOT NULL, category TEXT NOT NULL, description TEXT NOT NULL,
    attributes TEXT NOT NULL, rating REAL NOT NULL, restricted_regions TEXT NOT NULL,
    age_restricted INTEGER NOT NULL, related_skus TEXT NOT NULL, search_text TEXT NOT NULL
);
CREATE INDEX products_category ON products (category);
CREATE TABLE prices (
    sku TEXT PRIMARY KEY, list_cents INTEGER NOT NULL, cost_cents INTEGER NOT NULL,
    map_cents INTEGER, as_of TEXT NOT NULL
);
CREATE TABLE competitor_prices (
    id INTEGER PRIMARY KEY, sku TEXT NOT NULL, competitor TEXT NOT NULL,
    price_cents INTEGER NOT NULL, observed_at TEXT NOT NULL, url TEXT NOT NULL
);
CREATE INDEX competitor_prices_sku ON competitor_prices (sku);
CREATE TABLE locations (
    location_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
    region TEXT NOT NULL, city TEXT NOT NULL, postcode TEXT NOT NULL,
    pickup INTEGER NOT NULL, pickup_cutoff_local TEXT, same_day_cutoff_local TEXT,
    timezone TEXT NOT NULL
);
CREATE TABLE stock (
    sku TEXT NOT NULL, location_id TEXT NOT NULL, on_hand INTEGER NOT NULL,
    PRIMARY KEY (sku, location_id)
);
CREATE TABLE reservations (
    reservation_id TEXT PRIMARY KEY, sku TEXT NOT NULL, location_id TEXT NOT NULL,
    quantity INTEGER NOT NULL, customer_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE INDEX reservations_sku ON reservations (sku, status);
CREATE TABLE promotions (
    code TEXT PRIMARY KEY, kind TEXT NOT NULL, description TEXT NOT NULL,
    discount_type TEXT NOT NULL, value REAL NOT NULL, categories TEXT, brands TEXT,
    tiers TEXT, min_spend_cents INTEGER, stackable INTEGER NOT NULL,
    valid_from TEXT NOT NULL, valid_to TEXT NOT NULL
);
CREATE TABLE capacity (
    kind TEXT NOT NULL, location_id TEXT NOT NULL, daily_limit INTEGER NOT NULL,
    PRIMARY KEY (kind, location_id)
);
CREATE TABLE capacity_used (
    kind TEXT NOT NULL, location_id TEXT NOT NULL, day TEXT NOT NULL,
    used INTEGER NOT NULL, PRIMARY KEY (kind, location_id, day)
);
CREATE TABLE promises (
    promise_id TEXT PRIMARY KEY, option_id TEXT NOT NULL, kind TEXT NOT NULL,
    location_id TEXT NOT NULL, ready_by TEXT NOT NULL, customer_id TEXT NOT NULL,
    sku TEXT NOT NULL, quantity INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
    region TEXT NOT NULL, postcode TEXT NOT NULL, city TEXT NOT NULL,
    loyalty_tier TEXT NOT NULL, price_sensitivity TEXT NOT NULL,
    age_verified INTEGER NOT NULL, member_since TEXT NOT NULL,
    lifetime_spend_cents INTEGER NOT NULL
);
CREATE TABLE support_issues (
    issue_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, opened_at TEXT NOT NULL,
    kind TEXT NOT NULL, summary TEXT NOT NULL, resolved INTEGER NOT NULL
);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL,
    placed_at TEXT NOT NULL, delivered_at TEXT, total_cents INTEGER NOT NULL,
    paid_cents INTEGER NOT NULL, payment_kind TEXT NOT NULL, payment_last4 TEXT,
    tracking_carrier TEXT, tracking_number TEXT, tracking_eta TEXT
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE order_lines (
    order_id TEXT NOT NULL, line_no INTEGER NOT NULL, sku TEXT NOT NULL,
    name TEXT NOT NULL, quantity INTEGER NOT NULL, unit_cents INTEGER NOT NULL,
    line_total_cents INTEGER NOT NULL, PRIMARY KEY (order_id, line_no)
);
CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL,
    method TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE returns (
    return_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, skus TEXT NOT NULL,
    reason TEXT NOT NULL, status TEXT NOT NULL, label_url TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE carts (
    cart_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX carts_customer ON carts (customer_id, status);
CREATE TABLE cart_lines (
    cart_id TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL,
    discount_percent REAL NOT NULL, discount_reason TEXT, competitor TEXT,
    seq INTEGER NOT NULL, PRIMARY KEY (cart_id, sku)
);
CREATE TABLE cart_promotions (
    cart_id TEXT NOT NULL, code TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (cart_id, code)
);
CREATE TABLE tickets (
    ticket_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, summary TEXT NOT NULL,
    order_id TEXT, priority TEXT NOT NULL, status TEXT NOT NULL, queue TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, state TEXT NOT NULL,
    started_at REAL NOT NULL, status_code INTEGER, body BLOB
);
"""


def table_names(conn: sqlite3.Connection) -> list[str]:
    """Every table of the schema, in creation order."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
    return [str(r[0]) for r in rows]


def connect(db_path: Path) -> sqlite3.Connection:
    """Open a connection in autocommit mode; callers open transactions explicitly."""
    conn = sqlite3.connect(
        str(db_path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; roll back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def db_path_of(request: Request) -> Path:
    """The database file of the app serving ``request``."""
    path: Path = request.app.state.db_path
    return path


class ConnectionPool:
    """Idle connections to one database file, reused by later requests.

    A request holds its connection alone; one left in a transaction is rolled back
    before it is reused. Pointed at another file (an eval trial re-binding the app),
    the pool drops what it holds.
    """

    def __init__(self, db_path: Path, max_idle: int = 8) -> None:
        self.db_path = db_path
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._max_idle = max_idle

    def take(self) -> sqlite3.Connection:
        """An idle connection, or a new one."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return connect(self.db_path)

    def give(self, conn: sqlite3.Connection) -> None:
        """Return a connection (closed instead when the pool is full)."""
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if self._idle.qsize() < self._max_idle:
            self._idle.put(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def pool_of(request: Request) -> ConnectionPool:
    """The app's connection pool for its current database file."""
    state = request.app.state
    path = db_path_of(request)
    pool: ConnectionPool | None = getattr(state, "db_pool", None)
    if pool is None or pool.db_path != path:
        if pool is not None:
            pool.close()
        pool = state.db_pool = ConnectionPool(path)
    return pool


async def get_db(request: Request) -> AsyncIterator[sqlite3.Connection]:
    """FastAPI dependency: a connection for the request alone, back to the pool afterwards.

    An ``async`` dependency: opening and returning the connection need no thread hop.
    """
    pool = pool_of(request)
    conn = pool.take()
    try:
        yield conn
    finally:
        if pool.db_path == db_path_of(request):
            pool.give(conn)
        else:
            conn.close()
