"""Sessions, messages (plain and streamed), the copilot's drafts, decisions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from agent.progress import StepEvent
from agent.record import DecisionRecord
from agent.results import TurnResult
from agent.runtime import Arbiter
from api.auth import Caller
from api.deps import AnyCaller, ArbiterDep, Staff, check_customer, session_for
from api.errors import ApiError, error_body, from_arbiter_error
from api.schemas import (
    ApprovalView,
    DecisionSummary,
    DraftCreate,
    MessageCreate,
    SessionCreate,
    SessionDetail,
    SessionView,
    TranscriptEntry,
    TurnView,
)
from arbiter.errors import ArbiterError, ConflictError

router = APIRouter(prefix="/v1")
SessionId = Annotated[str, Path(pattern=r"^ses_[A-Za-z0-9_-]{4,60}$", max_length=64)]
TurnId = Annotated[str, Path(pattern=r"^turn_[A-Za-z0-9_-]{4,60}$", max_length=64)]


def observe(request: Request, result: TurnResult, channel: str) -> None:
    """Count a turn in the metrics."""
    metrics = request.app.state.metrics
    if result.recorded is not None:
        metrics.observe(result.recorded)
    else:
        metrics.paused(channel)


def _check_text(arbiter: Arbiter, text: str) -> None:
    limit = arbiter.settings.max_message_chars
    if len(text) > limit:
        raise ApiError(
            422,
            "message_too_long",
            f"the message is {len(text)} characters; the limit is {limit}",
            field="text",
        )


@router.post("/sessions", status_code=201, tags=["sessions"])
async def create_session(
    body: SessionCreate, arbiter: ArbiterDep, caller: AnyCaller
) -> SessionView:
    """Start a conversation bound to a customer and a channel."""
    check_customer(caller, body.customer_id)
    if caller.role == "storefront" and body.channel != "shopper":
        raise ApiError(
            403, "forbidden", "storefront keys open shopper sessions only", field="channel"
        )
    session = await arbiter.start_session(body.customer_id, channel=body.channel)
    return SessionView.of(session)


@router.get("/sessions/{session_id}", tags=["sessions"])
async def read_session(
    session_id: SessionId, arbiter: ArbiterDep, caller: AnyCaller
) -> SessionDetail:
    """A session, its transcript and any turn waiting for approval."""
    session = session_for(arbiter, caller, session_id)
    records = arbiter.deps.audit.for_session(session_id)
    return SessionDetail(
        **SessionView.of(session).model_dump(),
        transcript=[
            TranscriptEntry(
                turn_id=r.turn_id, user=r.user_message, assistant=r.final_text, at=r.finished_at
            )
            for r in records
        ],
        pending_approvals=[
            ApprovalView.of(row)
            for row in arbiter.approvals.query(status="pending", session_id=session_id)
        ],
    )


@router.post("/sessions/{session_id}/messages", tags=["sessions"])
async def post_message(
    session_id: SessionId,
    body: MessageCreate,
    request: Request,
    arbiter: ArbiterDep,
    caller: AnyCaller,
) -> TurnView:
    """Send a message; the answer comes back with a summary of how it was decided."""
    session = session_for(arbiter, caller, session_id)
    _check_text(arbiter, body.text)
    result = await arbiter.ask(session_id, body.text, turn_id=body.turn_id)
    observe(request, result, session.principal.channel)
    return TurnView.of(result)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


@router.post(
    "/sessions/{session_id}/messages/stream",
    tags=["sessions"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream_message(
    session_id: SessionId,
    body: MessageCreate,
    request: Request,
    arbiter: ArbiterDep,
    caller: AnyCaller,
) -> StreamingResponse:
    """The turn as Server-Sent Events: ``step`` per graph node, then ``turn`` (or ``error``)."""
    session = session_for(arbiter, caller, session_id)
    _check_text(arbiter, body.text)
    if arbiter.approvals.has_pending(session_id):
        raise ConflictError(f"session {session_id} has a turn waiting for approval")
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def on_step(event: StepEvent) -> None:
        await queue.put(("step", event.model_dump(mode="json")))

    async def run() -> None:
        try:
            result = await arbiter.ask(session_id, body.text, turn_id=body.turn_id, on_step=on_step)
        except ArbiterError as exc:
            err = from_arbiter_error(exc)
            await queue.put(("error", error_body(err.code, err.message, err.field)))
        else:
            observe(request, result, session.principal.channel)
            await queue.put(("turn", TurnView.of(result).model_dump(mode="json")))
        await queue.put(("", None))

    async def events() -> AsyncIterator[str]:
        task = asyncio.create_task(run())
        try:
            while True:
                name, data = await queue.get()
                if not name:
                    break
                yield _sse(name, data)
        finally:
            await task  # the turn finishes and is recorded even if the client went away

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.post("/copilot/drafts", tags=["copilot"])
async def draft(
    body: DraftCreate, request: Request, arbiter: ArbiterDep, caller: Staff
) -> TurnView:
    """The copilot drafts actions for a customer; every write waits for a person's approval."""
    text = (
        body.instruction if body.order_id is None else f"{body.instruction} (order {body.order_id})"
    )
    _check_text(arbiter, text)
    session = await arbiter.start_session(body.customer_id, channel="copilot")
    result = await arbiter.ask(session.session_id, text)
    observe(request, result, "copilot")
    return TurnView.of(result)


def _readable(caller: Caller, record: DecisionRecord | None, what: str) -> DecisionRecord:
    if record is None:
        raise ApiError(404, "not_found", f"unknown {what}")
    check_customer(caller, record.principal.customer_id)
    return record


@router.get("/decisions/{turn_id}", tags=["decisions"])
async def read_decision(turn_id: TurnId, arbiter: ArbiterDep, caller: AnyCaller) -> dict[str, Any]:
    """A turn's full DecisionRecord."""
    record = arbiter.deps.audit.get(turn_id)
    if record is None:
        waiting = arbiter.approvals.query(status="pending", turn_id=turn_id, limit=1)
        if waiting:
            check_customer(caller, waiting[0].request.customer_id)
            raise ApiError(
                409,
                "pending_approval",
                f"turn {turn_id} waits for approval {waiting[0].approval_id}; "
                "its record is written when it finishes",
            )
    return _readable(caller, record, f"turn {turn_id}").model_dump(mode="json")


@router.get("/sessions/{session_id}/decisions", tags=["decisions"])
async def session_decisions(
    session_id: SessionId, arbiter: ArbiterDep, caller: AnyCaller
) -> list[DecisionSummary]:
    """A summary of each turn of a session, oldest first (full records by turn id)."""
    session_for(arbiter, caller, session_id)
    return [DecisionSummary.of(r) for r in arbiter.deps.audit.for_session(session_id)]
