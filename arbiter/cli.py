"""The ``arbiter`` command line: chat, ask, customers, sandbox, policy."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from arbiter.errors import ArbiterError, InputError
from arbiter.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="Arbiter: an LLM proposes, deterministic rules decide, every turn is recorded.",
    no_args_is_help=True,
    add_completion=False,
)
sandbox_app = typer.Typer(help="The reference capability services.", no_args_is_help=True)
policy_app = typer.Typer(help="Policy files.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(policy_app, name="policy")

out = Console()
err = Console(stderr=True)

CustomerOpt = Annotated[
    str | None,
    typer.Option("--customer", "-c", help="Customer id (see `arbiter customers`)."),
]


def _run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; ArbiterErrors become one line on stderr and a non-zero exit."""
    try:
        return asyncio.run(_call(coro_fn))
    except InputError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except ArbiterError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


async def _call(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return await coro_fn()


def _customer_or_sample(customer: str | None) -> str:
    if customer:
        return customer
    from sandbox.seed import SAMPLE_CUSTOMER_ID

    err.print(f"No --customer given: chatting as sample customer {SAMPLE_CUSTOMER_ID}.")
    return str(SAMPLE_CUSTOMER_ID)


@app.command()
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
    from agent.runtime import Arbiter
    from arbiter.render import render_turn

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
            payload = {"answer": result.text, "record": result.record.model_dump(mode="json")}
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            render_turn(out, result.record)
        if result.record.error:
            err.print(f"[red]error:[/red] {result.record.error}", highlight=False)
            raise typer.Exit(1)

    if not as_json:
        from agent.models.factory import describe_model

        err.print(describe_model(settings), style="dim")
    _run(go)


@app.command()
def chat(customer: CustomerOpt = None) -> None:
    """Chat interactively (type 'exit' or press Ctrl-D to leave)."""
    from agent.models.factory import describe_model
    from agent.runtime import Arbiter
    from arbiter.render import render_turn

    settings = Settings()
    customer_id = _customer_or_sample(customer)
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
                except InputError as exc:
                    err.print(f"[red]error:[/red] {exc}", highlight=False)
                    continue
                render_turn(out, result.record)

    _run(go)


@app.command()
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

    _run(go)


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8100,
) -> None:
    """Serve the capability services over HTTP (point ARBITER_SANDBOX_URL at it)."""
    import uvicorn

    from sandbox.app import create_app

    settings = Settings()
    app_ = create_app(settings.path("sandbox.sqlite"))
    err.print(f"Sandbox services on http://{host}:{port} (set ARBITER_SANDBOX_URL to use it).")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@sandbox_app.command("reset")
def sandbox_reset() -> None:
    """Regenerate the sandbox database from its fixed seed."""
    from sandbox.seed import seed_database

    path = Settings().path("sandbox.sqlite")
    seed_database(path)
    out.print(f"Sandbox data regenerated at {path}.")


@policy_app.command("validate")
def policy_validate(
    file: Annotated[Path, typer.Argument(help="Policy YAML file.")],
) -> None:
    """Check a policy file; every problem is printed with its path in the file."""
    from guardrails.policy import PolicyError, load_policy
    from tools.registry import ACTION_TOOLS

    try:
        loaded = load_policy(file, known_actions={t.name for t in ACTION_TOOLS})
    except PolicyError as exc:
        err.print(f"[red]invalid policy[/red] {exc.source}:", highlight=False)
        for problem in exc.problems:
            err.print(f"  - {problem}", highlight=False)
        raise typer.Exit(1) from None
    out.print(
        f"ok: {loaded.policy.name}, {len(loaded.policy.rules)} rules, version {loaded.version}"
    )


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
