"""``arbiter mcp``: the guarded tools for MCP clients, over stdio.

    arbiter mcp --customer C1001 [--channel shopper|copilot] [--session ID]

An MCP client (a desktop assistant, an IDE, an agent framework) launches this command
and speaks the protocol on its stdin and stdout, so everything meant for people goes to
stderr. The customer and channel are fixed here, for the whole connection; every action
the client calls passes the same validator as a chat turn (see ``api/mcp_server.py``).
``--session`` continues a session of the same customer and channel: its budget, rate
limits and idempotency keys carry over, so a client restarted mid-retry cannot apply
an action twice.
"""

from __future__ import annotations

from typing import Annotated, get_args

import typer

from arbiter.commands.common import err, run
from arbiter.settings import Settings
from tools.spec import Channel

CHANNELS: tuple[str, ...] = get_args(Channel)


def mcp(
    customer: Annotated[
        str, typer.Option("--customer", "-c", help="The customer every call acts for.")
    ],
    channel: Annotated[
        str, typer.Option(help="shopper or copilot: which channel's policy applies.")
    ] = "shopper",
    session: Annotated[
        str | None, typer.Option(help="Continue this session (same customer and channel).")
    ] = None,
) -> None:
    """Serve the guarded tools to an MCP client over stdio, as one customer."""
    if channel not in CHANNELS:
        raise typer.BadParameter(f"use one of {', '.join(CHANNELS)}", param_hint="--channel")
    settings = Settings()
    try:
        run(lambda: serve_stdio(settings, customer, channel, session))
    except KeyboardInterrupt:
        err.print("MCP server stopped.")


async def serve_stdio(
    settings: Settings, customer_id: str, channel: str, session_id: str | None = None
) -> None:
    """Open the runtime, bind the session, and serve MCP on stdin/stdout until EOF."""
    from mcp.server.stdio import stdio_server

    from agent.runtime import Arbiter
    from api.mcp_server import build_server

    bound: Channel = "copilot" if channel == "copilot" else "shopper"
    async with Arbiter.open(settings) as runtime:
        session = await runtime.start_session(customer_id, bound, session_id)
        err.print(
            f"Arbiter MCP server on stdio: customer {customer_id}, channel {bound}, "
            f"session {session.session_id}.",
            highlight=False,
            soft_wrap=True,
        )
        server = build_server(runtime, session)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
