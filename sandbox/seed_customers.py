"""Seed data for customers, their order history, refunds and past support issues.

60 customers across the three regions, every loyalty tier and price sensitivity, and
orders in every status: delivered inside and outside the 30-day return window (some
partly refunded), shipped, processing, pending (paid and unpaid), cancelled and
returned. ``C1001`` is the demo customer (Chicago, gold tier).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.clock import iso
from sandbox.seed_catalog import SeedProduct

SAMPLE_CUSTOMER_ID = "C1001"
CUSTOMER_COUNT = 60
RETURN_WINDOW_DAYS = 30

_CITIES = [  # city, postcode, region
    ("Chicago", "60614", "central"),
    ("Seattle", "98103", "west"),
    ("Boston", "02118", "east"),
    ("Austin", "78704", "central"),
    ("Portland", "97214", "west"),
    ("New York", "10011", "east"),
    ("Minneapolis", "55408", "central"),
    ("San Diego", "92104", "west"),
    ("Philadelphia", "19103", "east"),
    ("Dallas", "75204", "central"),
    ("Denver", "80205", "west"),
    ("Atlanta", "30308", "east"),
]
_FIRST = [
    "Maya",
    "Liam",
    "Sofia",
    "Noah",
    "Ava",
    "Ethan",
    "Priya",
    "Mateo",
    "Chloe",
    "Omar",
    "Hannah",
    "Kenji",
    "Zoe",
    "Lucas",
    "Aisha",
    "Daniel",
    "Elena",
    "Marcus",
    "Grace",
    "Diego",
    "Nora",
    "Samuel",
    "Leila",
    "Owen",
]
_LAST = [
    "Thompson",
    "Nguyen",
    "Garcia",
    "Patel",
    "Kowalski",
    "Okafor",
    "Rossi",
    "Chen",
    "Johansson",
    "Haddad",
    "Murphy",
    "Silva",
    "Tanaka",
    "Brooks",
    "Fischer",
    "Reyes",
    "Adeyemi",
    "Larsen",
    "Moreau",
    "Kim",
]
_TIERS = ["bronze"] * 4 + ["silver"] * 3 + ["gold"] * 2 + ["platinum"]
_SENSITIVITY = ["low", "medium", "medium", "high"]
_STATUS_PLAN = [
    "delivered_recent",
    "delivered_old",
    "shipped",
    "pending",
    "processing",
    "cancelled",
    "returned",
    "pending_unpaid",
    "delivered_recent",
    "delivered_old",
]
_CARRIERS = ["ParcelPro", "SwiftShip", "Coastline Freight"]
_ISSUES = [
    ("late_delivery", "Package arrived three days after the promised date."),
    ("damaged_item", "Box arrived crushed; item scuffed."),
    ("wrong_size", "Received the wrong size; exchange requested."),
    ("refund_delay", "Refund took longer than expected to appear."),
    ("billing", "Charged twice for one order."),
    ("missing_item", "One item missing from a multi-item order."),
]
_REFUND_REASONS = ["price adjustment", "damaged packaging", "late delivery goodwill"]


@dataclass
class SeedRows:
    """Rows for the customer-side tables."""

    customers: list[tuple[object, ...]] = field(default_factory=list)
    orders: list[tuple[object, ...]] = field(default_factory=list)
    order_lines: list[tuple[object, ...]] = field(default_factory=list)
    refunds: list[tuple[object, ...]] = field(default_factory=list)
    issues: list[tuple[object, ...]] = field(default_factory=list)


class _OrderMaker:
    def __init__(self, rng: random.Random, now: datetime, catalog: list[SeedProduct]) -> None:
        self.rng = rng
        self.now = now
        self.catalog = [p for p in catalog if not p.age_restricted]
        self.rows = SeedRows()
        self.count = 0

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def make(self, customer_id: str, plan: str, products: list[SeedProduct] | None = None) -> int:
        """Add one order; returns the amount the customer kept paying for (cents)."""
        rng = self.rng
        self.count += 1
        order_id = f"O{100000 + self.count}"
        chosen = products or rng.sample(self.catalog, rng.randint(1, 3))
        total = 0
        for line_no, p in enumerate(chosen, start=1):
            qty = 1 if p.list_cents > 10000 else rng.randint(1, 2)
            unit = p.list_cents if rng.random() < 0.7 else (p.list_cents * 9 // 1000) * 100 - 1
            total += unit * qty
            self.rows.order_lines.append((order_id, line_no, p.sku, p.name, qty, unit, unit * qty))
        status = plan.split("_")[0]
        delivered: datetime | None = None
        eta: datetime | None = None
        if plan in ("delivered_recent", "delivered_old", "returned"):
            low, high = {
                "delivered_recent": (1, 25),
                "delivered_old": (35, 300),
                "returned": (10, 40),
            }[plan]
            delivered = self.days_ago(low, high)
            placed = delivered - timedelta(days=rng.uniform(2, 6))
            eta = delivered
        elif plan == "shipped":
            placed = self.days_ago(1, 3)
            eta = self.now + timedelta(days=rng.uniform(1, 3))
        elif plan == "processing":
            placed = self.now - timedelta(hours=rng.uniform(2, 20))
        elif plan == "cancelled":
            placed = self.days_ago(3, 60)
        else:
            placed = self.now - timedelta(hours=rng.uniform(0.2, 6))
        kind = (
            "paypal"
            if plan == "pending_unpaid"
            else rng.choice(["card", "card", "paypal", "gift_card"])
        )
        last4 = None if kind == "paypal" else f"{rng.randint(0, 9999):04d}"
        paid = 0 if plan == "pending_unpaid" else total
        refunded = 0
        if plan in ("cancelled", "returned"):
            refunded = paid
            reason = "order cancelled" if plan == "cancelled" else "items returned"
            self._refund(order_id, paid, reason, (delivered or placed) + timedelta(days=1))
        elif delivered is not None and rng.random() < 0.3:
            refunded = round(total * rng.uniform(0.1, 0.4))
            self._refund(
                order_id,
                refunded,
                rng.choice(_REFUND_REASONS),
                delivered + timedelta(days=rng.uniform(0.5, 3)),
            )
        tracking = (rng.choice(_CARRIERS), f"TRK{rng.randint(10**9, 10**10 - 1)}") if eta else None
        self.rows.orders.append(
            (
                order_id,
                customer_id,
                status,
                iso(placed),
                iso(delivered) if delivered else None,
                total,
                paid,
                kind,
                last4,
                tracking[0] if tracking else None,
                tracking[1] if tracking else None,
                iso(eta) if eta else None,
            )
        )
        return paid - refunded

    def _refund(self, order_id: str, amount: int, reason: str, when: datetime) -> None:
        created = min(when, self.now)
        refund_id = f"RF-{order_id[1:]}-{len(self.rows.refunds) + 1:03d}"
        self.rows.refunds.append((refund_id, order_id, amount, "original", reason, iso(created)))


def _demo_products(catalog: list[SeedProduct]) -> list[list[SeedProduct]]:
    by_sku = {p.sku: p for p in catalog}
    shoe = next(
        p
        for p in catalog
        if p.category == "running-shoes"
        and p.attributes["size"] == "10"
        and p.attributes["width"] == "standard"
    )
    socks = next(p for p in catalog if p.category == "running-accessories")
    mouse = next(p for p in catalog if p.category == "laptop-accessories")
    return [[shoe, socks], [by_sku[mouse.sku]], [socks]]


def build_customers(rng: random.Random, now: datetime, catalog: list[SeedProduct]) -> SeedRows:
    """Customers with orders, refunds and support issues."""
    maker = _OrderMaker(rng, now, catalog)
    rows = maker.rows
    plan_index = 0
    for i in range(CUSTOMER_COUNT):
        customer_id = f"C{1001 + i}"
        city, postcode, region = _CITIES[i % len(_CITIES)]
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7) % len(_LAST)]
        tier = "gold" if i == 0 else rng.choice(_TIERS)
        sensitivity = "medium" if i == 0 else rng.choice(_SENSITIVITY)
        kept = 0
        if i == 0:
            for plan, products in zip(
                ("delivered_recent", "delivered_old", "pending"),
                _demo_products(catalog),
                strict=True,
            ):
                kept += maker.make(customer_id, plan, products)
        else:
            for _ in range(rng.randint(0, 4)):
                if plan_index < len(_STATUS_PLAN):
                    plan = _STATUS_PLAN[plan_index]
                else:
                    plan = rng.choice(_STATUS_PLAN)
                plan_index += 1
                kept += maker.make(customer_id, plan)
        history = {"bronze": 200, "silver": 900, "gold": 2500, "platinum": 6000}[tier]
        lifetime = kept + round(history * 100 * rng.uniform(0.5, 1.5))
        member_since = iso(now - timedelta(days=rng.uniform(60, 3000)))
        rows.customers.append(
            (
                customer_id,
                f"{first} {last}",
                f"{first}.{last}{i + 1}@example.com".lower(),
                region,
                postcode,
                city,
                tier,
                sensitivity,
                int(i == 0 or rng.random() < 0.7),
                member_since,
                lifetime,
            )
        )
        for _ in range(1 if i == 0 else (rng.randint(1, 2) if rng.random() < 0.45 else 0)):
            kind, summary = rng.choice(_ISSUES)
            opened = iso(now - timedelta(days=rng.uniform(5, 400)))
            issue_id = f"ISS-{len(rows.issues) + 1:04d}"
            rows.issues.append(
                (issue_id, customer_id, opened, kind, summary, int(rng.random() < 0.8))
            )
    return rows
