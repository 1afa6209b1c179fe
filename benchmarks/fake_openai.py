"""A fake OpenAI-compatible chat-completions endpoint for load tests: it sleeps, then answers.

    .venv/bin/python -m benchmarks.fake_openai [--port 0] [--delay-ms 300]

Raw asyncio HTTP/1.1 (keep-alive, ``Content-Length`` or chunked request bodies) rather
than a web framework, so that on a small machine it takes as little as possible of the
CPU that the server under test and the load generator share with it.

Every ``POST .../chat/completions`` waits ``--delay-ms`` and answers deterministically,
like a model that looks something up and then answers:

- the first call of a turn (its last message is the user's) returns one tool call:
  ``search_products`` (size-10 running shoes under $120), or ``get_price`` for
  ``RUN-00005`` on odd-numbered turns of a benchmark session;
- any later call (after the tool result, or the final-answer prompt) returns
  ``Here is what I found.``: plain text with no price or stock claim to check.

Requests are counted in total and per turn: a user message may carry a tag
``[bench:<tag>]`` (letters, digits, ``.``, ``_``, ``-``), and ``GET /stats`` returns
``{"requests": n, "delay_ms": d, "by_tag": {tag: calls}}``. The first line on stdout is
``LISTENING <port>``, so a parent that asked for port 0 learns the port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

TAG = re.compile(r"\[bench:([A-Za-z0-9._-]{1,80})\]")
TURN_NUMBER = re.compile(r"\.t(\d+)$")
ANSWER = "Here is what I found."
SEARCH_ARGS = {
    "query": "running shoes",
    "category": "running-shoes",
    "brand": None,
    "min_price": None,
    "max_price": 120,
    "attributes": [{"name": "size", "value": "10"}],
    "in_stock_only": True,
    "limit": 5,
}
PRICE_ARGS = {"sku": "RUN-00005"}
MAX_BODY = 4 * 1024 * 1024


@dataclass
class FakeModel:
    """The fake's behaviour and its counters."""

    delay_s: float = 0.3
    requests: int = 0
    by_tag: Counter[str] = field(default_factory=Counter)
    ms_by_tag: dict[str, float] = field(default_factory=dict)
    """Time the fake itself spent per turn tag: request read to response written."""

    def stats(self) -> dict[str, Any]:
        """What ``GET /stats`` returns."""
        return {
            "requests": self.requests,
            "delay_ms": self.delay_s * 1000,
            "by_tag": dict(self.by_tag),
            "ms_by_tag": dict(self.ms_by_tag),
        }

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion: count it, sleep, answer."""
        self.requests += 1
        messages: list[dict[str, Any]] = body.get("messages") or []
        tag = turn_tag(messages)
        if tag is not None:
            self.by_tag[tag] += 1
        await asyncio.sleep(self.delay_s)
        if body.get("tool_choice") == "none" or not messages or messages[-1].get("role") != "user":
            return completion(self.requests, text=ANSWER)
        number = TURN_NUMBER.search(tag or "")
        if number is not None and int(number.group(1)) % 2 == 1:
            return completion(self.requests, call=("get_price", PRICE_ARGS))
        return completion(self.requests, call=("search_products", SEARCH_ARGS))


def turn_tag(messages: list[dict[str, Any]]) -> str | None:
    """The ``[bench:...]`` tag of the last user message (this turn's), if any."""
    for message in reversed(messages):
        if message.get("role") == "user":
            found = TAG.search(str(message.get("content") or ""))
            return found.group(1) if found else None
    return None


def completion(
    n: int, *, text: str | None = None, call: tuple[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A chat completion in the wire shape the openai SDK parses."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if call is not None:
        name, arguments = call
        message["tool_calls"] = [
            {
                "id": f"call_{n}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ]
    return {
        "id": f"chatcmpl-fake-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls" if call else "stop",
                "message": message,
            }
        ],
        "usage": {"prompt_tokens": 900, "completion_tokens": 20, "total_tokens": 920},
    }


class BadRequest(Exception):
    """The bytes on the wire are not a request this server understands."""


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    """Method, path, lower-cased headers and body of one HTTP/1.1 request."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest(lines[0])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY:
            raise BadRequest("body too large")
        body = await reader.readexactly(length) if length else b""
    return parts[0], parts[1], headers, body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def response(status: int, payload: Any) -> bytes:
    """An HTTP/1.1 response with a JSON body."""
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def handle(
    model: FakeModel, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve one keep-alive connection."""
    try:
        while True:
            try:
                method, path, headers, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            path = path.split("?", 1)[0]
            started = time.perf_counter()
            tag: str | None = None
            if method == "POST" and path.endswith("/chat/completions"):
                try:
                    request = json.loads(body)
                    tag = turn_tag(request.get("messages") or [])
                    payload = await model.complete(request)
                    status = 200
                except (ValueError, AttributeError) as exc:
                    status, payload = 400, {"error": {"message": f"bad request: {exc}"}}
            elif method == "GET" and path == "/stats":
                status, payload = 200, model.stats()
            else:
                status, payload = 404, {"error": {"message": f"no route {method} {path}"}}
            writer.write(response(status, payload))
            await writer.drain()
            if tag is not None:
                spent = (time.perf_counter() - started) * 1000
                model.ms_by_tag[tag] = model.ms_by_tag.get(tag, 0.0) + spent
            if headers.get("connection", "").lower() == "close":
                return
    except (BadRequest, asyncio.LimitOverrunError, ConnectionError, ValueError):
        return
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def serve(
    host: str, port: int, delay_ms: float, ready: asyncio.Future[int] | None = None
) -> None:
    """Serve until cancelled; ``ready`` gets the bound port."""
    model = FakeModel(delay_s=delay_ms / 1000)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Shutdown cancels open connections; Python 3.11's stream callback would log that.
        with contextlib.suppress(asyncio.CancelledError):
            await handle(model, reader, writer)

    server = await asyncio.start_server(on_connect, host, port, backlog=2048, limit=MAX_BODY)
    bound = int(server.sockets[0].getsockname()[1])
    if ready is not None:
        ready.set_result(bound)
    async with server:
        await server.serve_forever()


async def _main(host: str, port: int, delay_ms: float) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    task = asyncio.create_task(serve(host, port, delay_ms, ready))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    bound = await ready
    sys.stdout.write(f"LISTENING {bound}\n")
    sys.stdout.flush()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="Interface (loopback by default).")
    parser.add_argument("--port", type=int, default=0, help="Port; 0 picks a free one.")
    parser.add_argument("--delay-ms", type=float, default=300.0, help="Simulated model time.")
    args = parser.parse_args()
    asyncio.run(_main(args.host, args.port, args.delay_ms))


if __name__ == "__main__":
    main()
