"""Seed data for the catalog and pricing: ~370 SKUs in 7 categories.

Brands and titles are invented. Every choice draws from the one ``random.Random``
passed in, in a fixed order, so the same seed gives the same catalog.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Brands that impose a minimum advertised price (MAP), as a share of list price.
MAP_BRANDS = {"Velox": 0.90, "Kinetica": 0.92, "Vortex": 0.93, "Helion": 0.95, "Pulsewave": 0.9}
# Categories whose products are sold alongside another's (for related_skus).
RELATED_CATEGORY = {
    "running-shoes": "running-accessories",
    "gaming-laptops": "laptop-accessories",
    "laptop-accessories": "gaming-laptops",
    "running-accessories": "running-shoes",
    "apparel": "running-accessories",
    "video-games": "laptop-accessories",
    "home-fitness": "apparel",
}
CATEGORY_CODES = {
    "running-shoes": "RUN",
    "gaming-laptops": "LAP",
    "laptop-accessories": "ACC",
    "running-accessories": "RAC",
    "apparel": "APP",
    "video-games": "VGM",
    "home-fitness": "FIT",
}


@dataclass
class SeedProduct:
    """One SKU as generated, before it becomes table rows."""

    sku: str
    product_id: str
    name: str
    brand: str
    category: str
    description: str
    attributes: dict[str, str]
    list_cents: int
    rating: float
    restricted_regions: list[str] = field(default_factory=list)
    age_restricted: bool = False
    related_skus: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.products: list[SeedProduct] = []
        self._sku_counts: dict[str, int] = {}
        self._style_counts: dict[str, int] = {}

    def style(self, category: str) -> str:
        code = CATEGORY_CODES[category]
        self._style_counts[code] = self._style_counts.get(code, 0) + 1
        return f"P-{code}-{self._style_counts[code]:03d}"

    def add(
        self,
        product_id: str,
        category: str,
        name: str,
        brand: str,
        description: str,
        attributes: dict[str, str],
        price: float,
        **extra: object,
    ) -> None:
        code = CATEGORY_CODES[category]
        self._sku_counts[code] = self._sku_counts.get(code, 0) + 1
        product = SeedProduct(
            sku=f"{code}-{self._sku_counts[code]:05d}",
            product_id=product_id,
            name=name,
            brand=brand,
            category=category,
            description=description,
            attributes=attributes,
            list_cents=round(price * 100),
            rating=round(self.rng.uniform(3.3, 4.9), 1),
        )
        for key, value in extra.items():
            setattr(product, key, value)
        self.products.append(product)


_SHOE_SIZES = [f"{s / 2:g}" for s in range(14, 27)]  # "7" .. "13" incl. halves
_SHOE_STYLES = [
    # brand, model, gender, surface, drop, price
    ("Stride", "Glide 5", "men", "road", 8, 89.99),
    ("Stride", "Glide 5", "women", "road", 8, 89.99),
    ("Velox", "Pulse 3", "men", "road", 10, 119.99),
    ("Kinetica", "Ridge Trail 2", "men", "trail", 6, 109.99),
    ("Northpeak", "Summit XT", "unisex", "trail", 4, 139.99),
    ("Cadence", "Tempo Lite", "men", "road", 8, 79.99),
    ("Cadence", "Tempo Lite", "women", "road", 8, 79.99),
    ("Velox", "Cloudline Max", "women", "road", 12, 159.99),
    ("Stride", "Surge Pro", "men", "road", 6, 179.99),
    ("Kinetica", "Swift 4", "women", "road", 10, 114.99),
    ("Northpeak", "Drift Runner", "men", "road", 8, 99.99),
    ("Tempo Labs", "Arc Daily", "unisex", "road", 10, 69.99),
    ("Tempo Labs", "Vista Trail", "men", "trail", 6, 129.99),
    ("Velox", "Pulse 3", "women", "road", 10, 119.99),
]


def _running_shoes(b: _Builder) -> None:
    for brand, model, gender, surface, drop, price in _SHOE_STYLES:
        pid = b.style("running-shoes")
        low = 0 if gender == "women" else 2  # women's 7-11.5, men's/unisex 8-13
        pool = _SHOE_SIZES[low : low + 10] if gender == "women" else _SHOE_SIZES[low:]
        sizes = sorted(set(b.rng.sample(pool, 8)) | {"10"}, key=float)
        wide = sorted(set(b.rng.sample(sizes, 3)), key=float)
        label = {"men": "Men's", "women": "Women's", "unisex": "Unisex"}[gender]
        desc = (
            f"{brand} {model}: a {surface} running shoe with a {drop} mm heel-to-toe drop, "
            f"breathable mesh upper and responsive foam midsole."
        )
        for width, size_list in (("standard", sizes), ("wide", wide)):
            for size in size_list:
                suffix = f"Size {size}" + (", Wide" if width == "wide" else "")
                attrs = {
                    "size": size,
                    "width": width,
                    "gender": gender,
                    "surface": surface,
                    "drop_mm": str(drop),
                }
                b.add(
                    pid,
                    "running-shoes",
                    f"{brand} {model} {label} Running Shoe ({suffix})",
                    brand,
                    desc,
                    attrs,
                    price,
                )


_LAPTOPS = [
    ("Vortex", "Blade 15", "RTX 4060", "15.6", "165", "Core i7-13700H", 1299.99),
    ("Vortex", "Blade 17", "RTX 4080", "17.3", "240", "Core i9-13900HX", 2699.99),
    ("Helion", "Nova 16", "RTX 4070", "16", "240", "Ryzen 9 7945HX", 1899.99),
    ("Helion", "Nova 14", "RTX 4060", "14", "165", "Ryzen 7 7840HS", 1399.99),
    ("Corvid", "Strike 15", "RTX 4050", "15.6", "144", "Core i5-13500H", 999.99),
    ("Corvid", "Strike 17", "RTX 4060", "17.3", "144", "Core i7-13650HX", 1249.99),
    ("Titanix", "Forge 16", "RTX 4070", "16", "240", "Core i9-14900HX", 2199.99),
    ("Titanix", "Forge 18", "RTX 4090", "18", "240", "Core i9-14900HX", 3199.99),
    ("Corvid", "Raid 16", "RX 7600S", "16", "165", "Ryzen 7 7735HS", 1099.99),
    ("Helion", "Zephyr 15", "RTX 4050", "15.6", "144", "Ryzen 5 7640HS", 949.99),
    ("Vortex", "Stealth 14", "RTX 4070", "14", "120", "Core Ultra 9 185H", 1999.99),
    ("Titanix", "Aegis 17", "RTX 4080", "17.3", "240", "Ryzen 9 7945HX", 2499.99),
]


def _gaming_laptops(b: _Builder) -> None:
    for brand, model, gpu, screen, hz, cpu, price in _LAPTOPS:
        pid = b.style("gaming-laptops")
        for ram, storage, extra in (("16", "512", 0.0), ("32", "1024", 300.0)):
            attrs = {
                "gpu": gpu,
                "ram_gb": ram,
                "screen_in": screen,
                "refresh_hz": hz,
                "storage_gb": storage,
                "cpu": cpu,
            }
            desc = (
                f"{brand} {model} gaming laptop: {gpu} graphics, {cpu}, {ram} GB RAM, "
                f"{storage} GB SSD and a {screen}-inch {hz} Hz display."
            )
            name = f"{brand} {model} Gaming Laptop ({gpu}, {ram}GB, {storage}GB)"
            b.add(pid, "gaming-laptops", name, brand, desc, attrs, price + extra)


_SIMPLE: dict[str, list[tuple[str, str, str, float, dict[str, str]]]] = {
    # category -> (brand, name, type, price, attributes)
    "laptop-accessories": [
        ("Vortex", "Viper Wireless Gaming Mouse", "mouse", 79.99, {"compatible_with": "all"}),
        ("Keyforge", "Glide Pro Mouse", "mouse", 49.99, {"compatible_with": "all"}),
        ("Keyforge", "Featherlight Mouse", "mouse", 39.99, {"compatible_with": "all"}),
        ("Aurum Audio", "Halo 7.1 Headset", "headset", 129.99, {"compatible_with": "all"}),
        ("Aurum Audio", "Halo Lite Headset", "headset", 59.99, {"compatible_with": "all"}),
        ("Pulsewave", "Arena Wireless Headset", "headset", 179.99, {"compatible_with": "all"}),
        (
            "Chillbase",
            "Frost 17 Cooling Pad",
            "cooling pad",
            44.99,
            {"compatible_with": "laptops up to 17.3 in"},
        ),
        (
            "Chillbase",
            "Frost 15 Cooling Pad",
            "cooling pad",
            34.99,
            {"compatible_with": "laptops up to 15.6 in"},
        ),
        (
            "Packwell",
            "Commuter 17 Backpack",
            "bag",
            89.99,
            {"compatible_with": "laptops up to 17.3 in"},
        ),
        ("Packwell", "Slim 15 Sleeve", "bag", 29.99, {"compatible_with": "laptops up to 15.6 in"}),
        ("Packwell", "Tech Tote 16", "bag", 69.99, {"compatible_with": "laptops up to 16 in"}),
        ("Vortex", "Thunder Dock 12-in-1", "dock", 229.99, {"compatible_with": "usb-c"}),
        ("Keyforge", "Hub 7-in-1", "dock", 59.99, {"compatible_with": "usb-c"}),
        ("Keyforge", "TKL Mechanical Keyboard", "keyboard", 99.99, {"compatible_with": "all"}),
        ("Vortex", "Hex RGB Keyboard", "keyboard", 149.99, {"compatible_with": "all"}),
        (
            "Voltcell",
            "PowerMax 140W Power Bank",
            "power bank",
            139.99,
            {"compatible_with": "usb-c"},
        ),
        (
            "Voltcell",
            "330W Gaming Charger",
            "charger",
            119.99,
            {"compatible_with": "Vortex,Titanix"},
        ),
        ("Keyforge", "XL Desk Mat", "mouse pad", 24.99, {"compatible_with": "all"}),
        ("Pulsewave", "Stream Mic", "microphone", 99.99, {"compatible_with": "all"}),
        ("Aurum Audio", "Orbit Earbuds", "headset", 79.99, {"compatible_with": "all"}),
    ],
    "running-accessories": [
        ("Stride", "Cushion Crew Running Socks (3-pack)", "socks", 19.99, {"size": "M"}),
        ("Stride", "Cushion Crew Running Socks (3-pack)", "socks", 19.99, {"size": "L"}),
        ("Northpeak", "Merino Trail Socks", "socks", 22.99, {"size": "M"}),
        ("Northpeak", "Merino Trail Socks", "socks", 22.99, {"size": "L"}),
        ("Cadence", "No-Show Tab Socks (6-pack)", "socks", 24.99, {"size": "S"}),
        ("Cadence", "No-Show Tab Socks (6-pack)", "socks", 24.99, {"size": "M"}),
        ("Pacelab", "Forerunner GPS Watch", "watch", 249.99, {"gps": "yes"}),
        ("Pacelab", "Trail GPS Watch Pro", "watch", 449.99, {"gps": "yes"}),
        ("Pacelab", "Fit Band 3", "watch", 99.99, {"gps": "no"}),
        ("Hydrafuel", "Race Vest 5L", "hydration", 119.99, {"capacity_l": "5"}),
        ("Hydrafuel", "Handheld Bottle 500 ml", "hydration", 24.99, {"capacity_l": "0.5"}),
        ("Hydrafuel", "Hip Belt Duo", "hydration", 39.99, {"capacity_l": "1"}),
        ("Hydrafuel", "Energy Gel Box (24)", "nutrition", 36.99, {"flavor": "citrus"}),
        ("Hydrafuel", "Electrolyte Tabs (4 tubes)", "nutrition", 27.99, {"flavor": "berry"}),
        ("Northpeak", "Beam 400 Headlamp", "headlamp", 44.99, {"lumens": "400"}),
        ("Stride", "Reflective Running Belt", "belt", 21.99, {"size": "one size"}),
        ("Cadence", "Insoles Performance", "insoles", 44.99, {"size": "M"}),
        ("Cadence", "Insoles Performance", "insoles", 44.99, {"size": "L"}),
        ("Pacelab", "Chest Heart Rate Strap", "sensor", 79.99, {"gps": "no"}),
        ("Stride", "Lace Lock Elastic Laces", "laces", 9.99, {"size": "one size"}),
    ],
    "home-fitness": [
        (
            "IronHaus",
            "Adjustable Dumbbells 5-52 lb (pair)",
            "dumbbells",
            349.99,
            {"weight_lb": "52"},
        ),
        ("IronHaus", "Hex Dumbbell 25 lb", "dumbbells", 54.99, {"weight_lb": "25"}),
        ("IronHaus", "Kettlebell 35 lb", "kettlebell", 69.99, {"weight_lb": "35"}),
        ("IronHaus", "Kettlebell 20 lb", "kettlebell", 44.99, {"weight_lb": "20"}),
        ("Zenmat", "Pro Yoga Mat 6 mm", "yoga mat", 79.99, {"thickness_mm": "6"}),
        ("Zenmat", "Travel Yoga Mat 2 mm", "yoga mat", 39.99, {"thickness_mm": "2"}),
        ("Flexa", "Resistance Band Set", "bands", 29.99, {"pieces": "5"}),
        ("Flexa", "Pull-Up Assist Bands", "bands", 34.99, {"pieces": "4"}),
        ("Treadline", "T600 Folding Treadmill", "treadmill", 1299.99, {"max_speed_mph": "10"}),
        ("Treadline", "T900 Incline Treadmill", "treadmill", 2199.99, {"max_speed_mph": "12"}),
        ("Treadline", "C300 Spin Bike", "bike", 899.99, {"resistance": "magnetic"}),
        ("Treadline", "R200 Rowing Machine", "rower", 999.99, {"resistance": "air"}),
        ("Flexa", "Foam Roller 36 in", "recovery", 24.99, {"firmness": "medium"}),
        ("Flexa", "Massage Gun Mini", "recovery", 119.99, {"firmness": "adjustable"}),
        ("IronHaus", "Adjustable Bench", "bench", 249.99, {"weight_lb": "600"}),
        ("Zenmat", "Cork Yoga Block (2)", "yoga block", 24.99, {"pieces": "2"}),
        ("Flexa", "Speed Jump Rope", "cardio", 19.99, {"pieces": "1"}),
        ("IronHaus", "Doorway Pull-Up Bar", "bar", 39.99, {"weight_lb": "300"}),
        ("Treadline", "Under-Desk Walking Pad", "treadmill", 599.99, {"max_speed_mph": "4"}),
        ("Flexa", "Ab Roller Wheel", "core", 21.99, {"pieces": "1"}),
    ],
}

_APPAREL = [
    ("Stride", "Breeze Running Tee", "men", 34.99),
    ("Stride", "Breeze Running Tee", "women", 34.99),
    ("Northpeak", "Trail Shell Jacket", "unisex", 149.99),
    ("Cadence", "Split Shorts 5 in", "men", 39.99),
    ("Cadence", "Pocket Tights", "women", 69.99),
    ("Tempo Labs", "Thermal Half-Zip", "men", 79.99),
    ("Tempo Labs", "Thermal Half-Zip", "women", 79.99),
    ("Velox", "Race Singlet", "men", 44.99),
    ("Velox", "Sports Bra High Support", "women", 54.99),
    ("Northpeak", "Merino Base Layer", "unisex", 89.99),
    ("Stride", "Wind Vest", "unisex", 69.99),
    ("Cadence", "Training Joggers", "men", 64.99),
    ("Cadence", "Running Cap", "unisex", 24.99),
    ("Tempo Labs", "Reflective Gloves", "unisex", 29.99),
    ("Kinetica", "Seamless Long Sleeve", "women", 59.99),
]

_GAMES = [
    ("Ember Tales", "E"),
    ("Skyward Racers", "E"),
    ("Puzzle Harbor", "E"),
    ("Galaxy Kart Cup", "E"),
    ("Farmstead Friends", "E"),
    ("Pixel Soccer 26", "E"),
    ("Starfall Legends", "T"),
    ("Mech Arena Prime", "T"),
    ("Shadow Guild", "T"),
    ("Crown of Ash", "T"),
    ("Neon Drift", "T"),
    ("Frontier Outpost", "T"),
    ("Iron Requiem", "M"),
    ("Night Protocol", "M"),
    ("Hollow Crypt", "M"),
    ("Warzone Delta", "M"),
    ("Dead Harbor", "M"),
    ("Blood Moon Rising", "M"),
]
_PLATFORMS = ["PC", "Nova Console", "Orbit Console"]
_PUBLISHERS = ["Brightforge", "Lumen Games", "Ironclad Interactive"]


def _simple(b: _Builder) -> None:
    for category, items in sorted(_SIMPLE.items()):
        by_name: dict[str, str] = {}
        for brand, name, kind, price, attrs in items:
            pid = by_name.get(name) or b.style(category)
            by_name[name] = pid
            size = f" ({attrs['size']})" if "size" in attrs else ""
            restricted: list[str] = []
            if kind == "power bank":
                restricted = ["west"]  # lithium battery above the air-freight limit
            elif kind in ("treadmill", "rower"):
                restricted = ["east"]  # freight carrier not contracted there
            desc = f"{brand} {name}: {kind} from {brand}. " + ", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in sorted(attrs.items())
            )
            b.add(
                pid,
                category,
                f"{brand} {name}{size}",
                brand,
                desc,
                {"type": kind, **attrs},
                price,
                restricted_regions=restricted,
            )


def _apparel(b: _Builder) -> None:
    for brand, name, gender, price in _APPAREL:
        pid = b.style("apparel")
        for size in ("S", "M", "L", "XL"):
            attrs = {"size": size, "gender": gender}
            desc = f"{brand} {name} ({gender}): lightweight, moisture-wicking running apparel."
            b.add(pid, "apparel", f"{brand} {name} ({gender}, {size})", brand, desc, attrs, price)


def _video_games(b: _Builder) -> None:
    for i, (title, rating) in enumerate(_GAMES):
        pid = b.style("video-games")
        publisher = _PUBLISHERS[i % len(_PUBLISHERS)]
        platforms = _PLATFORMS if i % 3 == 0 else _PLATFORMS[i % 3 - 1 : i % 3 + 1]
        for platform in platforms:
            price = 69.99 if rating == "M" or i % 2 else 49.99
            attrs = {"rating": rating, "platform": platform, "publisher": publisher}
            desc = f"{title} ({platform}) from {publisher}; rated {rating}."
            b.add(
                pid,
                "video-games",
                f"{title} ({platform})",
                publisher,
                desc,
                attrs,
                price,
                age_restricted=rating == "M",
            )


def build_catalog(rng: random.Random) -> list[SeedProduct]:
    """Every SKU, with related SKUs filled in."""
    b = _Builder(rng)
    _running_shoes(b)
    _gaming_laptops(b)
    _simple(b)
    _apparel(b)
    _video_games(b)
    by_category: dict[str, list[str]] = {}
    for p in b.products:
        by_category.setdefault(p.category, []).append(p.sku)
    for p in b.products:
        p.related_skus = sorted(rng.sample(by_category[RELATED_CATEGORY[p.category]], 3))
    return b.products


COMPETITORS = ("MegaMart", "RunnerDepot", "PixelPeak", "BargainHub", "ShopCity")


def price_rows(
    rng: random.Random, products: list[SeedProduct]
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(prices rows, competitor price rows); times are hours-ago floats, resolved later."""
    prices: list[tuple[object, ...]] = []
    competitors: list[tuple[object, ...]] = []
    for p in products:
        cost = round(p.list_cents * rng.uniform(0.45, 0.70))
        share = MAP_BRANDS.get(p.brand)
        map_cents = (p.list_cents * share // 100) * 100 - 1 if share else None
        prices.append((p.sku, p.list_cents, cost, map_cents, rng.uniform(24, 24 * 20)))
        if rng.random() < 0.35:
            continue
        for name in sorted(rng.sample(COMPETITORS, rng.randint(1, 3))):
            observed = rng.uniform(1, 20) if rng.random() < 0.5 else rng.uniform(48, 24 * 42)
            cents = (round(p.list_cents * rng.uniform(0.82, 1.05)) // 100) * 100 + 99
            url = f"https://{name.lower()}.example/p/{p.sku.lower()}"
            competitors.append((p.sku, name, cents, observed, url))
    return prices, competitors
