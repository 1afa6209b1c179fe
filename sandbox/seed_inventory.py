"""Seed data for locations, stock per location and fulfillment capacity.

Three regions, each with one fulfillment center and two stores. Stock is varied on
purpose: some SKUs are out of stock at some locations, some everywhere. The demo
region (central, ST-CHICAGO) is guaranteed several size-10 running shoes under $120
on the shelf so that "pick up today" has real answers.
"""

from __future__ import annotations

import random

from sandbox.seed_catalog import SeedProduct

# location_id, name, kind, region, city, postcode, pickup cut-off, same-day cut-off, tz
LOCATIONS: list[tuple[str, str, str, str, str, str, str | None, str, str]] = [
    (
        "FC-WEST",
        "West Fulfillment Center (Reno)",
        "fulfillment_center",
        "west",
        "Reno",
        "89502",
        None,
        "12:00",
        "America/Los_Angeles",
    ),
    (
        "FC-CENTRAL",
        "Central Fulfillment Center (Kansas City)",
        "fulfillment_center",
        "central",
        "Kansas City",
        "64101",
        None,
        "12:00",
        "America/Chicago",
    ),
    (
        "FC-EAST",
        "East Fulfillment Center (Allentown)",
        "fulfillment_center",
        "east",
        "Allentown",
        "18101",
        None,
        "12:00",
        "America/New_York",
    ),
    (
        "ST-SEATTLE",
        "Seattle Pike Street Store",
        "store",
        "west",
        "Seattle",
        "98101",
        "20:00",
        "14:00",
        "America/Los_Angeles",
    ),
    (
        "ST-PORTLAND",
        "Portland Pearl District Store",
        "store",
        "west",
        "Portland",
        "97209",
        "18:00",
        "13:00",
        "America/Los_Angeles",
    ),
    (
        "ST-CHICAGO",
        "Chicago Loop Store",
        "store",
        "central",
        "Chicago",
        "60601",
        "20:00",
        "14:00",
        "America/Chicago",
    ),
    (
        "ST-AUSTIN",
        "Austin South Congress Store",
        "store",
        "central",
        "Austin",
        "78704",
        "19:00",
        "13:00",
        "America/Chicago",
    ),
    (
        "ST-BOSTON",
        "Boston Back Bay Store",
        "store",
        "east",
        "Boston",
        "02116",
        "19:00",
        "14:00",
        "America/New_York",
    ),
    (
        "ST-NEWYORK",
        "New York Flatiron Store",
        "store",
        "east",
        "New York",
        "10010",
        "20:00",
        "14:00",
        "America/New_York",
    ),
]
DEMO_STORE = "ST-CHICAGO"

# kind -> daily capacity at a fulfillment center / a store (None: not offered there)
CAPACITY = {
    "same_day": (25, 6),
    "next_day": (60, None),
    "standard": (1000, None),
    "store_pickup": (None, 40),
}

# How likely a category is carried by a store, and its typical on-hand ranges.
_STORE_CARRY = {
    "running-shoes": 0.6,
    "running-accessories": 0.7,
    "apparel": 0.6,
    "laptop-accessories": 0.5,
    "gaming-laptops": 0.35,
    "video-games": 0.6,
    "home-fitness": 0.3,
}


def location_rows() -> list[tuple[object, ...]]:
    """Rows for the locations table."""
    return [
        (lid, name, kind, region, city, postcode, int(pc is not None), pc, sd, tz)
        for lid, name, kind, region, city, postcode, pc, sd, tz in LOCATIONS
    ]


def capacity_rows() -> list[tuple[str, str, int]]:
    """(kind, location_id, daily_limit) for every kind a location offers."""
    rows: list[tuple[str, str, int]] = []
    for lid, _, kind, *_rest in LOCATIONS:
        for fkind, (fc_limit, store_limit) in sorted(CAPACITY.items()):
            limit = fc_limit if kind == "fulfillment_center" else store_limit
            if limit is not None:
                rows.append((fkind, lid, limit))
    return rows


def _is_demo_shoe(p: SeedProduct) -> bool:
    return p.category == "running-shoes" and p.attributes["size"] == "10" and p.list_cents < 12000


def stock_rows(rng: random.Random, products: list[SeedProduct]) -> list[tuple[str, str, int]]:
    """(sku, location_id, on_hand) for every SKU at every location."""
    rows: list[tuple[str, str, int]] = []
    demo_seen = 0
    for p in products:
        sold_out = rng.random() < 0.05
        for lid, _, kind, *_rest in LOCATIONS:
            if kind == "fulfillment_center":
                on_hand = rng.randint(2, 40) if rng.random() < 0.75 else 0
            else:
                carried = rng.random() < _STORE_CARRY[p.category]
                on_hand = rng.randint(1, 8) if carried and rng.random() < 0.8 else 0
            if _is_demo_shoe(p) and lid == DEMO_STORE:
                demo_seen += 1
                # every fourth demo shoe is sold out here, the rest are on the shelf
                on_hand = 0 if demo_seen % 4 == 0 else max(on_hand, 2 + demo_seen % 3)
                sold_out = sold_out and on_hand == 0
            rows.append((p.sku, lid, 0 if sold_out else on_hand))
    return rows
