"""The retail dataset in SQLite: one row per user, order and product, nested parts as JSON.

The peer data is document-shaped (a user holds addresses and payment methods, an
order holds items, payment history and fulfillments), and every write of the
support domain rewrites one order or one user as a whole, so documents keyed by id
are the natural unit. The columns beside each document are what lookups filter on.
Money stays in dollars with two decimals, as in the peer data; arithmetic on it is
done in integer cents (``sandbox.money``).

``load_retail_database`` builds the file beside the target and moves it into place,
so a reader never sees a half-loaded database.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from sandbox.db import connect, transaction

RETAIL_SCHEMA = """
CREATE TABLE retail_users (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL, first_name TEXT NOT NULL,
    last_name TEXT NOT NULL, zip TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX retail_users_email ON retail_users (email);
CREATE INDEX retail_users_name_zip ON retail_users (first_name, last_name, zip);
CREATE TABLE retail_orders (
    order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX retail_orders_user ON retail_orders (user_id);
CREATE TABLE retail_products (product_id TEXT PRIMARY KEY, name TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE retail_items (item_id TEXT PRIMARY KEY, product_id TEXT NOT NULL);
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, state TEXT NOT NULL,
    started_at REAL NOT NULL, status_code INTEGER, body BLOB
);
"""

Doc = dict[str, Any]


def read_peer_data(source: Path) -> tuple[Doc, Doc, Doc]:
    """(users, orders, products) from a ``db.json`` file or a folder of the three files."""
    if source.is_dir() and (source / "db.json").exists():
        source = source / "db.json"
    if source.is_file():
        data = json.loads(source.read_text())
        return data["users"], data["orders"], data["products"]
    users, orders, products = (
        json.loads((source / f"{name}.json").read_text())
        for name in ("users", "orders", "products")
    )
    return users, orders, products


def populate(conn: sqlite3.Connection, users: Doc, orders: Doc, products: Doc) -> None:
    """Insert the dataset into empty tables (caller owns the transaction).

    Documents carry their own id (the original set's users do not; tau2's do).
    """
    users = {uid: {"user_id": uid, **u} for uid, u in users.items()}
    conn.executemany(
        "INSERT INTO retail_users VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                uid,
                u["email"],
                u["name"]["first_name"],
                u["name"]["last_name"],
                u["address"]["zip"],
                json.dumps(u),
            )
            for uid, u in users.items()
        ],
    )
    conn.executemany(
        "INSERT INTO retail_orders VALUES (?, ?, ?, ?)",
        [(oid, o["user_id"], o["status"], json.dumps(o)) for oid, o in orders.items()],
    )
    conn.executemany(
        "INSERT INTO retail_products VALUES (?, ?, ?)",
        [(pid, p["name"], json.dumps(p)) for pid, p in products.items()],
    )
    conn.executemany(
        "INSERT INTO retail_items VALUES (?, ?)",
        [(iid, pid) for pid, p in products.items() for iid in p["variants"]],
    )


def load_retail_database(source: Path, db_path: Path) -> Path:
    """Build ``db_path`` from the peer data at ``source``; returns ``db_path``."""
    users, orders, products = read_peer_data(source)
    partial = db_path.with_name(f".{db_path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    conn = connect(partial)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(RETAIL_SCHEMA)
        with transaction(conn):
            populate(conn, users, orders, products)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    os.replace(partial, db_path)
    return db_path


def get_doc(conn: sqlite3.Connection, table: str, key: str, ident: str) -> Doc | None:
    """One document by id, or None."""
    row = conn.execute(f"SELECT doc FROM {table} WHERE {key} = ?", (ident,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def put_order(conn: sqlite3.Connection, order: Doc) -> None:
    """Rewrite one order document (and its status column)."""
    conn.execute(
        "UPDATE retail_orders SET status = ?, doc = ? WHERE order_id = ?",
        (order["status"], json.dumps(order), order["order_id"]),
    )


def put_user(conn: sqlite3.Connection, user: Doc) -> None:
    """Rewrite one user document (and its lookup columns)."""
    conn.execute(
        "UPDATE retail_users SET zip = ?, doc = ? WHERE user_id = ?",
        (user["address"]["zip"], json.dumps(user), user["user_id"]),
    )


def put_product(conn: sqlite3.Connection, product: Doc) -> None:
    """Rewrite one product document."""
    conn.execute(
        "UPDATE retail_products SET doc = ? WHERE product_id = ?",
        (json.dumps(product), product["product_id"]),
    )
