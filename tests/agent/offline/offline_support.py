"""Synthetic conversations for the offline planner: a tiny fake world answering tool calls."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.models.base import ChatMessage, ModelRequest, ModelResponse, ToolCall, tool_envelope
from agent.offline.planner import plan_step

Responder = Callable[[ToolCall], str]

# One utterance per intent (and a few variants), for the cross-cutting tests.
UTTERANCES = [
    "I need running shoes size 10 under $120 that I can pick up today",
    "show me gaming laptops with an RTX 4070 under $2000",
    "price of the Pegasus",
    "how much is RUN-00042",
    "is RUN-00042 available for delivery tomorrow?",
    "apply RUNNER10",
    "any promo codes?",
    "can I get 50% off RUN-00042",
    "give me a discount",
    "price match RunMart at $89",
    "add RUN-00042 to my cart",
    "remove RUN-00042 from my cart",
    "what's in my cart",
    "where is my order O100123",
    "order status",
    "I want to return order O100123",
    "refund my order O100123",
    "cancel order O100123",
    "I want to return my shoes",
    "talk to a human",
    "hi",
    "tell me a joke",
]

PICKUP_READY = "2026-11-24T16:30:00-06:00"
PICKUP_LATER = "2026-11-25T12:00:00-06:00"


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role="assistant", content=text)


def ok(data: Any) -> str:
    return tool_envelope("ok", data=data)


def error(code: str = "service_unavailable", message: str = "pricing is down") -> str:
    return tool_envelope("error", error={"code": code, "message": message})


def item(sku: str, name: str, brand: str, price: float) -> dict[str, Any]:
    return {
        "sku": sku,
        "product_id": "P-" + sku[:7],
        "name": name,
        "brand": brand,
        "category": "running-shoes",
        "list_price": price,
        "attributes": {"size": "10", "width": "standard"},
        "rating": 4.5,
    }


def pickup(location_id: str, name: str, ready_by: str, today: bool) -> dict[str, Any]:
    return {
        "option_id": f"pickup-{location_id}",
        "kind": "store_pickup",
        "location_id": location_id,
        "location_name": name,
        "available": True,
        "reason": None,
        "ready_by": ready_by,
        "cutoff": "2026-11-24T15:00:00-06:00",
        "price": 0.0,
        "capacity_remaining": 5,
        "ready_today": today,
    }


def standard() -> dict[str, Any]:
    return {
        "option_id": "std-FC-WEST",
        "kind": "standard",
        "location_id": "FC-WEST",
        "location_name": "West fulfillment center",
        "available": True,
        "reason": None,
        "ready_by": "2026-11-28T18:00:00-06:00",
        "cutoff": None,
        "price": 4.99,
        "capacity_remaining": 100,
        "ready_today": False,
    }


def cart(lines: list[tuple[str, str, int, float, float]]) -> dict[str, Any]:
    """Cart from (sku, name, quantity, unit_price, discount_percent) lines."""
    built: list[dict[str, Any]] = [
        {
            "sku": sku,
            "name": name,
            "quantity": qty,
            "unit_price": price,
            "discount_percent": pct,
            "line_total": round(qty * price * (1 - pct / 100), 2),
        }
        for sku, name, qty, price, pct in lines
    ]
    subtotal = round(sum(ln["quantity"] * ln["unit_price"] for ln in built), 2)
    total = round(sum(ln["line_total"] for ln in built), 2)
    return {
        "cart_id": "CART-0123456789ab" if built else None,
        "lines": built,
        "promotions": [],
        "subtotal": subtotal,
        "discount_total": round(subtotal - total, 2),
        "total": total,
    }


@dataclass
class World:
    """Default answers per tool; tests override one tool with ``answers[name]``."""

    answers: dict[str, Callable[[dict[str, Any]], str]] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(
        default_factory=lambda: [
            item("RUN-00042", "Pegasus 41", "Nike", 89.99),
            item("RUN-00043", "Ghost 16", "Brooks", 109.99),
            item("RUN-00044", "Cloudrunner", "On", 119.0),
        ]
    )

    def respond(self, call: ToolCall) -> str:
        if call.name in self.answers:
            return self.answers[call.name](call.arguments)
        handler = getattr(self, f"_{call.name}", None)
        if handler is None:
            return error("invalid_arguments", f"no fake for {call.name}")
        result: str = handler(call.arguments)
        return result

    def _search_products(self, args: dict[str, Any]) -> str:
        return ok({"items": copy.deepcopy(self.items), "total": len(self.items)})

    def _get_price(self, args: dict[str, Any]) -> str:
        sku = args["sku"]
        price = next((i["list_price"] for i in self.items if i["sku"] == sku), 50.0)
        competitors = [
            {
                "competitor": "RunMart",
                "price": 84.99,
                "observed_at": "2026-11-24T08:00:00+00:00",
                "url": "https://runmart.example/p/42",
            }
        ]
        return ok(
            {
                "sku": sku,
                "list_price": price,
                "map_price": None,
                "currency": "USD",
                "as_of": "2026-11-24T16:30:00+00:00",
                "competitor_prices": competitors if sku == "RUN-00042" else [],
            }
        )

    def _get_delivery_options(self, args: dict[str, Any]) -> str:
        sku = args["sku"]
        options = {
            "RUN-00042": [pickup("ST-SEATTLE", "Seattle Store", PICKUP_READY, True), standard()],
            "RUN-00043": [pickup("ST-TACOMA", "Tacoma Store", PICKUP_LATER, False), standard()],
            "RUN-00044": [
                pickup("ST-BELLEVUE", "Bellevue Store", "2026-11-24T17:00:00-06:00", True)
            ],
        }.get(sku, [standard()])
        return ok({"sku": sku, "region": "west", "as_of": PICKUP_READY, "options": options})

    def _check_inventory(self, args: dict[str, Any]) -> str:
        location = {
            "location_id": "ST-SEATTLE",
            "kind": "store",
            "region": "west",
            "on_hand": 7,
            "reserved": 1,
            "available": 6,
        }
        data = {"sku": args["sku"], "as_of": PICKUP_READY, "total_available": 6}
        return ok({**data, "locations": [location]})

    def _get_cart(self, args: dict[str, Any]) -> str:
        return ok(cart([("RUN-00042", "Pegasus 41", 1, 89.99, 0)]))

    def _list_orders(self, args: dict[str, Any]) -> str:
        orders = [
            {"order_id": "O100120", "status": "delivered", "placed_at": "2026-10-01", "total": 5},
            {"order_id": "O100123", "status": "shipped", "placed_at": "2026-11-20", "total": 9},
        ]
        return ok({"items": orders})

    def _get_order(self, args: dict[str, Any]) -> str:
        return ok(
            {
                "order_id": args["order_id"],
                "status": "delivered",
                "placed_at": "2026-11-10T10:00:00+00:00",
                "delivered_at": "2026-11-14T15:00:00+00:00",
                "lines": [
                    {
                        "sku": "RUN-00042",
                        "name": "Pegasus 41",
                        "quantity": 1,
                        "unit_price": 89.99,
                        "line_total": 89.99,
                    },
                    {
                        "sku": "RUN-00777",
                        "name": "Trail Socks",
                        "quantity": 2,
                        "unit_price": 12.0,
                        "line_total": 24.0,
                    },
                ],
                "total": 113.99,
                "refunds": [],
                "refundable_amount": 113.99,
                "return_window_ends": "2026-12-14T15:00:00+00:00",
                "tracking": {"carrier": "UPS", "number": "1Z999", "eta": "2026-11-14"},
            }
        )

    def _list_promotions(self, args: dict[str, Any]) -> str:
        promo = {
            "code": "RUNNER10",
            "kind": "code",
            "description": "10% off running shoes",
            "active": True,
        }
        return ok({"items": [promo]})

    def _apply_promotion(self, args: dict[str, Any]) -> str:
        data = cart([("RUN-00042", "Pegasus 41", 1, 89.99, 10)])
        data["promotions"] = [args["code"]]
        return tool_envelope("executed", action={"type": "apply_promotion"}, data=data)

    def _offer_discount(self, args: dict[str, Any]) -> str:
        data = cart([("RUN-00042", "Pegasus 41", 1, 89.99, args.get("percent") or 5)])
        return tool_envelope("executed", action={"type": "offer_discount"}, data=data)

    def _add_to_cart(self, args: dict[str, Any]) -> str:
        data = cart([(args["sku"], "Pegasus 41", args["quantity"], 89.99, 0)])
        return tool_envelope("executed", action={"type": "add_to_cart"}, data=data)

    def _remove_from_cart(self, args: dict[str, Any]) -> str:
        return tool_envelope("executed", action={"type": "remove_from_cart"}, data=cart([]))

    def _request_return(self, args: dict[str, Any]) -> str:
        data = {
            "return_id": "R5001",
            "order_id": args["order_id"],
            "skus": args["skus"],
            "status": "authorized",
            "label_url": "https://labels.example/R5001.pdf",
        }
        return tool_envelope("executed", action={"type": "request_return"}, data=data)

    def _request_refund(self, args: dict[str, Any]) -> str:
        data = {"refund_id": "RF77", "amount": args["amount"] or 113.99, "method": args["method"]}
        return tool_envelope("executed", action={"type": "request_refund"}, data=data)

    def _cancel_order(self, args: dict[str, Any]) -> str:
        data = {"order_id": args["order_id"], "status": "cancelled"}
        return tool_envelope("executed", action={"type": "cancel_order"}, data=data)

    def _escalate_to_human(self, args: dict[str, Any]) -> str:
        data = {"ticket_id": "T900", "status": "open", "queue": "support"}
        return tool_envelope("executed", action={"type": "escalate_to_human"}, data=data)


@dataclass
class TurnRun:
    """What one simulated turn produced."""

    answer: str
    steps: list[list[ToolCall]]
    messages: list[ChatMessage]
    responses: list[ModelResponse]

    @property
    def calls(self) -> list[ToolCall]:
        return [call for step in self.steps for call in step]

    def names(self) -> list[str]:
        return [call.name for call in self.calls]


def run_turn(
    text: str,
    responder: Responder | World | None = None,
    history: list[ChatMessage] | None = None,
    max_steps: int = 6,
    tools: list[dict[str, Any]] | None = None,
) -> TurnRun:
    """Drive one turn like the graph does, answering each tool call with ``responder``."""
    if responder is None:
        responder = World()
    respond = responder.respond if isinstance(responder, World) else responder
    messages = [ChatMessage(role="system", content="You are a shopping assistant.")]
    messages += [*(history or []), user(text)]
    steps: list[list[ToolCall]] = []
    responses: list[ModelResponse] = []
    for _ in range(max_steps):
        response = plan_step(ModelRequest(messages=list(messages), tools=tools or []))
        responses.append(response)
        if not response.tool_calls:
            assert response.text, "the planner must answer with text when it calls no tool"
            return TurnRun(response.text, steps, messages, responses)
        steps.append(response.tool_calls)
        messages.append(ChatMessage(role="assistant", tool_calls=response.tool_calls))
        for call in response.tool_calls:
            messages.append(
                ChatMessage(
                    role="tool", tool_call_id=call.id, name=call.name, content=respond(call)
                )
            )
    raise AssertionError(f"no answer within {max_steps} steps: {steps}")


_FIGURE_RE = re.compile(r"\$(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)%")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")


def invented_figures(run: TurnRun) -> list[str]:
    """Money and percent figures in the answer found neither in tool results nor the user text."""
    current_user = next(m for m in reversed(run.messages) if m.role == "user")
    sources = [m.content or "" for m in run.messages if m.role == "tool"]
    sources.append(current_user.content or "")
    known = {float(n) for text in sources for n in _NUMBER_RE.findall(text)}
    return [
        m.group(0)
        for m in _FIGURE_RE.finditer(run.answer)
        if float(m.group(1) or m.group(2)) not in known
    ]
