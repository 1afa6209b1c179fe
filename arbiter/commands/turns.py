"""Talking to Arbiter: ``ask``, ``chat`` and the sample ``customers``."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer

from arbiter.commands.common import customer_or_sample, err, out, run
from arbiter.errors import ConflictError, InputError
from arbiter.settings import Settings

CustomerOpt = Annotated[
    str | None,
    typer.Option("--customer", "-c", help="Customer id (see `arbiter customers`)."),
]


def ask(
    text: Annotated[str, typer.Argument(help="What the shopper says.")],
    customer: CustomerOpt = None,
    session: Annotated[
        str | None, typer.Option(help="Continue a session (its customer is fixed).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer and the full DecisionRecord.")
    ] = False,
) -> None:
    """Answer one message and exit."""
    from agent.models.factory import describe_model
    from agent.runtime import Arbiter
    from arbiter.render import render_result

    settings = Settings()
    if session is None and customer is None:
        raise typer.BadParameter("give --customer (or --session)", param_hint="--customer")

    async def go() -> None:
        async with Arbiter.open(settings) as arbiter:
            if session is None:
                assert customer is not None
                session_id = (await arbiter.start_session(customer)).session_id
            else:
                session_id = session
                owner = arbiter.sessions.get(session).principal.customer_id
                if customer is not None and customer != owner:
                    raise InputError(f"session {session} belongs to customer {owner}")
            result = await arbiter.ask(session_id, text)
        if as_json:
            payload = {
                "status": result.status,
                "answer": result.text,
                "record": result.recorded.model_dump(mode="json") if result.recorded else None,
                "pending": [r.model_dump(mode="json") for r in result.pending],
            }
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            render_result(out, result)
        if result.recorded is not None and result.recorded.error:
            err.print(f"[red]error:[/red] {result.recorded.error}", highlight=False)
            raise typer.Exit(1)

    if not as_json:
        err.print(describe_model(settings), style="dim")
    run(go)


def chat(customer: CustomerOpt = None) -> None:
    """Chat interactively (type 'exit' or press Ctrl-D to leave)."""
    from agent.models.factory import describe_model
    from agent.runtime import Arbiter
    from arbiter.render import render_result

    settings = Settings()
    customer_id = customer_or_sample(customer)
    err.print(describe_model(settings), style="dim")

    async def go() -> None:
        async with Arbiter.open(settings) as arbiter:
            session = await arbiter.start_session(customer_id)
            out.print(
                f"Session {session.session_id} for customer {customer_id}. "
                "Try: 'I need running shoes size 10 under $120 that I can pick up today'."
            )
            while True:
                try:
                    line = await asyncio.to_thread(input, "you> ")
                except (EOFError, KeyboardInterrupt):
                    out.print()
                    return
                if line.strip().lower() in {"exit", "quit", ":q"}:
                    return
                if not line.strip():
                    continue
                try:
                    result = await arbiter.ask(session.session_id, line)
                except (InputError, ConflictError) as exc:
                    err.print(f"[red]error:[/red] {exc}", highlight=False)
                    continue
                render_result(out, result)

    run(go)


def customers(
    limit: Annotated[int, typer.Option(help="How many to list.", min=1, max=200)] = 50,
) -> None:
    """List sample customers to chat as."""
    from rich.table import Table

    from agent.runtime import capability_http
    from tools.client import CapabilityClient

    settings = Settings()

    async def go() -> None:
        async with capability_http(settings) as http:
            body = await CapabilityClient(http).get("/customers", params={"limit": limit})
        table = Table("customer", "name", "region", "tier")
        for item in body["items"]:
            table.add_row(item["customer_id"], item["name"], item["region"], item["loyalty_tier"])
        out.print(table)

    run(go)
