"""The idempotency contract shared by every mutating route.

A route declares ``idem: Idempotent = Depends(idempotency)`` and returns
``idem.run(work, status_code=201)`` where ``work(conn)`` does the business reads and
writes and returns the response model. The steps:

1. a short ``BEGIN IMMEDIATE`` transaction claims the key: a new key gets an
   ``in_flight`` marker (committed on its own, so a concurrent retry sees 409); a
   finished key with the same request hash is replayed byte-for-byte; a different
   hash is 422 ``idempotency_key_reused``; a live marker is 409
   ``idempotency_in_flight`` and a marker older than 60 s is taken over;
2. ``work`` runs in a second ``BEGIN IMMEDIATE`` transaction that also stores the
   response, so the business write and the stored response commit together;
3. an :class:`ApiError` (4xx) rolls the business writes back and stores the error;
   anything else (a 5xx) rolls back, deletes the marker and propagates.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Header, Request, Response
from pydantic import BaseModel

from sandbox.db import connect, db_path_of, transaction
from sandbox.errors import ApiError

IN_FLIGHT_TTL_SECONDS = 60.0
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"


def request_hash(method: str, path: str, body: bytes) -> str:
    """sha256 over method, path and the canonical JSON of the body."""
    try:
        canonical = json.dumps(
            json.loads(body) if body else None, sort_keys=True, separators=(",", ":")
        )
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def _json_response(status: int, body: bytes, *, replayed: bool = False) -> Response:
    headers = {REPLAY_HEADER: "true"} if replayed else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


@dataclass(frozen=True)
class Idempotent:
    """A claimed-or-replayable idempotent request; see the module docstring."""

    key: str
    request_hash: str
    db_path: Path

    def run(
        self, work: Callable[[sqlite3.Connection], BaseModel], *, status_code: int = 200
    ) -> Response:
        """Run ``work`` exactly once for this key and return its (stored) response."""
        conn = connect(self.db_path)
        try:
            replay = self._claim(conn)
            if replay is not None:
                return replay
            return self._execute(conn, work, status_code)
        finally:
            conn.close()

    def _claim(self, conn: sqlite3.Connection) -> Response | None:
        with transaction(conn):
            row = conn.execute(
                "SELECT request_hash, state, started_at, status_code, body "
                "FROM idempotency_keys WHERE key = ?",
                (self.key,),
            ).fetchone()
            now = time.time()
            if row is None:
                conn.execute(
                    "INSERT INTO idempotency_keys (key, request_hash, state, started_at) "
                    "VALUES (?, ?, 'in_flight', ?)",
                    (self.key, self.request_hash, now),
                )
                return None
            if row["request_hash"] != self.request_hash:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different method, path or body",
                )
            if row["state"] == "done":
                return _json_response(int(row["status_code"]), bytes(row["body"]), replayed=True)
            if now - float(row["started_at"]) < IN_FLIGHT_TTL_SECONDS:
                raise ApiError(
                    409,
                    "idempotency_in_flight",
                    "a request with this Idempotency-Key is still being processed",
                )
            conn.execute(
                "UPDATE idempotency_keys SET started_at = ? WHERE key = ?", (now, self.key)
            )
            return None

    def _execute(
        self,
        conn: sqlite3.Connection,
        work: Callable[[sqlite3.Connection], BaseModel],
        status_code: int,
    ) -> Response:
        try:
            with transaction(conn):
                body = work(conn).model_dump_json().encode()
                self._store(conn, status_code, body)
            return _json_response(status_code, body)
        except ApiError as exc:
            if exc.status >= 500:
                self._release(conn)
                raise
            body = json.dumps(exc.body()).encode()
            with transaction(conn):
                self._store(conn, exc.status, body)
            return _json_response(exc.status, body)
        except BaseException:
            self._release(conn)
            raise

    def _store(self, conn: sqlite3.Connection, status: int, body: bytes) -> None:
        conn.execute(
            "UPDATE idempotency_keys SET state = 'done', status_code = ?, body = ? WHERE key = ?",
            (status, body, self.key),
        )

    def _release(self, conn: sqlite3.Connection) -> None:
        with transaction(conn):
            conn.execute(
                "DELETE FROM idempotency_keys WHERE key = ? AND state = 'in_flight'", (self.key,)
            )


async def idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(description="1-255 characters; required on every mutating call.")
    ] = None,
) -> Idempotent:
    """FastAPI dependency: validate the ``Idempotency-Key`` header and hash the request."""
    if idempotency_key is None or not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ApiError(
            400,
            "idempotency_key_required",
            "the Idempotency-Key header (1-255 characters) is required on this endpoint",
        )
    body = await request.body()
    return Idempotent(
        key=idempotency_key,
        request_hash=request_hash(request.method, request.url.path, body),
        db_path=db_path_of(request),
    )
