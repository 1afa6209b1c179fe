"""The approvals queue: list, read, approve, reject (support agents and operators)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from api.deps import ArbiterDep, Staff
from api.errors import ApiError
from api.routes.conversations import observe
from api.schemas import ApprovalView, DecisionBody, TurnView

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])
ApprovalId = Annotated[str, Path(pattern=r"^apr_[A-Za-z0-9_-]{4,100}$", max_length=120)]
Status = Literal["pending", "approved", "rejected", "expired"]


@router.get("")
async def list_approvals(
    arbiter: ArbiterDep,
    caller: Staff,
    status: Annotated[Status | None, Query(description="Filter; default pending.")] = "pending",
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApprovalView]:
    """Approvals with the proposed action, reasons and facts used (overdue ones expire first)."""
    await arbiter.expire_due()
    rows = arbiter.approvals.query(status=status, customer_id=customer_id, limit=limit)
    return [ApprovalView.of(row) for row in rows]


@router.get("/{approval_id}")
async def read_approval(
    approval_id: ApprovalId, arbiter: ArbiterDep, caller: Staff
) -> ApprovalView:
    """One approval."""
    row = arbiter.approvals.get(approval_id)
    if row is None:
        raise ApiError(404, "not_found", f"unknown approval {approval_id}")
    return ApprovalView.of(row)


async def _decide(
    approval_id: str,
    decision: Literal["approved", "rejected"],
    body: DecisionBody,
    request: Request,
    arbiter: ArbiterDep,
    caller: Staff,
) -> TurnView:
    row = arbiter.approvals.get(approval_id)
    result = await arbiter.decide(
        approval_id, decision, by=caller.identity, comment=body.comment, digest=body.digest
    )
    observe(request, result, row.request.channel if row else "copilot")
    return TurnView.of(result)


@router.post("/{approval_id}/approve")
async def approve(
    approval_id: ApprovalId,
    body: DecisionBody,
    request: Request,
    arbiter: ArbiterDep,
    caller: Staff,
) -> TurnView:
    """Approve: the rules run again on facts read now; unchanged, the action executes once.

    If the arguments, policy or facts moved since it was shown, the paused turn shows it
    again as a new approval instead (``pending_approvals`` of the response).
    """
    return await _decide(approval_id, "approved", body, request, arbiter, caller)


@router.post("/{approval_id}/reject")
async def reject(
    approval_id: ApprovalId,
    body: DecisionBody,
    request: Request,
    arbiter: ArbiterDep,
    caller: Staff,
) -> TurnView:
    """Reject: nothing runs, and the turn tells the shopper or agent so."""
    return await _decide(approval_id, "rejected", body, request, arbiter, caller)
