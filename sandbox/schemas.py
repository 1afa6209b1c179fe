"""Request and response models of the sandbox API (docs/sandbox-api.md).

Money is a float in dollars with two decimals; times are ISO-8601 strings in UTC
with an explicit ``+00:00`` offset, kept as strings so they render exactly as stored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Region = str
Tier = Literal["bronze", "silver", "gold", "platinum"]
FulfillmentKind = Literal["same_day", "next_day", "standard", "store_pickup"]


class Body(BaseModel):
    """Base for request bodies: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


# --- catalog -----------------------------------------------------------------


class ProductSummary(BaseModel):
    sku: str = Field(description="Variant identifier, e.g. RUN-00042.")
    product_id: str = Field(description="Style the SKU is a variant of, e.g. P-RUN-004.")
    name: str
    brand: str
    category: str
    list_price: float = Field(description="Current list price in USD.")
    attributes: dict[str, str] = Field(description="Category attributes, e.g. size, width.")
    rating: float = Field(description="Average review rating, 1-5.")


class Product(ProductSummary):
    description: str
    restricted_regions: list[Region] = Field(description="Regions the SKU cannot ship to.")
    age_restricted: bool = Field(description="Buyer must be age-verified (e.g. M-rated games).")
    related_skus: list[str] = Field(description="Complementary SKUs (accessories etc.).")


class ProductPage(BaseModel):
    items: list[ProductSummary]
    total: int = Field(description="Matches before limit/offset.")


class CategoryCount(BaseModel):
    category: str
    count: int = Field(description="Number of SKUs in the category.")


# --- pricing -----------------------------------------------------------------


class CompetitorPrice(BaseModel):
    competitor: str
    price: float
    observed_at: str = Field(description="When the competitor price was observed.")
    url: str


class Price(BaseModel):
    sku: str
    list_price: float
    unit_cost: float = Field(description="What the retailer pays per unit.")
    map_price: float | None = Field(description="Brand's minimum advertised price, if any.")
    currency: Literal["USD"] = "USD"
    as_of: str = Field(description="The service's current time when it answered.")
    updated_at: str = Field(description="When the list price was last set.")
    competitor_prices: list[CompetitorPrice]


class PriceList(BaseModel):
    items: list[Price]


# --- inventory ---------------------------------------------------------------


class Location(BaseModel):
    location_id: str
    name: str
    kind: Literal["fulfillment_center", "store"]
    region: Region
    city: str
    postcode: str
    pickup: bool = Field(description="Offers store pickup.")
    pickup_cutoff_local: str | None = Field(description="Local HH:MM for same-day pickup.")
    timezone: str = Field(description="IANA time zone of the location.")


class LocationStock(BaseModel):
    location_id: str
    kind: Literal["fulfillment_center", "store"]
    region: Region
    on_hand: int
    reserved: int = Field(description="Units held by active reservations.")
    available: int = Field(description="on_hand - reserved.")


class Stock(BaseModel):
    sku: str
    as_of: str
    total_available: int
    locations: list[LocationStock]


class ReservationRequest(Body):
    sku: str
    location_id: str
    quantity: int = Field(ge=1, le=100)
    customer_id: str
    ttl_seconds: int = Field(default=900, ge=1, le=86400, description="Hold duration.")


class Reservation(BaseModel):
    reservation_id: str
    sku: str
    location_id: str
    quantity: int
    customer_id: str
    status: Literal["active", "released", "expired", "consumed"]
    expires_at: str


# --- promotions --------------------------------------------------------------


class Eligibility(BaseModel):
    categories: list[str] | None = Field(description="Eligible categories; null = any.")
    brands: list[str] | None = Field(description="Eligible brands; null = any.")
    tiers: list[Tier] | None = Field(description="Loyalty tiers allowed; null = all.")
    min_spend: float | None = Field(description="Minimum eligible spend in USD.")


class Promotion(BaseModel):
    code: str
    kind: Literal["code", "automatic"] = Field(description="Entered by the shopper or applied.")
    description: str
    discount_type: Literal["percent", "amount"]
    value: float = Field(description="Percent off, or USD off for kind amount.")
    eligibility: Eligibility
    stackable: bool = Field(description="May combine with other promotions.")
    valid_from: str
    valid_to: str
    active: bool = Field(description="Valid at the sandbox's current time.")


class PromotionList(BaseModel):
    items: list[Promotion]


# --- fulfillment -------------------------------------------------------------


class DeliveryOption(BaseModel):
    option_id: str = Field(description="Stable for the same (kind, location, ready_by).")
    kind: FulfillmentKind
    location_id: str
    location_name: str
    available: bool
    reason: str | None = Field(description="Why the option is unavailable, if it is.")
    ready_by: str = Field(description="When the goods arrive or are ready for pickup.")
    cutoff: str = Field(description="Order by this time for this window.")
    price: float
    capacity_remaining: int = Field(description="Slots left for this window.")
    ready_today: bool = Field(description="ready_by is on the location's current local date.")


class FulfillmentOptions(BaseModel):
    sku: str
    region: Region
    as_of: str
    options: list[DeliveryOption]


class PromiseRequest(Body):
    customer_id: str
    sku: str
    quantity: int = Field(default=1, ge=1, le=100)
    option_id: str


class Promise(BaseModel):
    promise_id: str
    option_id: str
    kind: FulfillmentKind
    location_id: str
    ready_by: str
    customer_id: str
    sku: str
    quantity: int


# --- customers ---------------------------------------------------------------


class CustomerSummary(BaseModel):
    customer_id: str
    name: str
    region: Region
    loyalty_tier: Tier


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    total: int


class SupportIssue(BaseModel):
    issue_id: str
    opened_at: str
    kind: str = Field(description="e.g. late_delivery, damaged_item, wrong_size.")
    summary: str
    resolved: bool


class Customer(BaseModel):
    customer_id: str
    name: str
    email: str
    region: Region
    postcode: str
    city: str
    loyalty_tier: Tier
    price_sensitivity: Literal["low", "medium", "high"]
    age_verified: bool
    member_since: str
    lifetime_spend: float
    order_ids: list[str]
    support_issues: list[SupportIssue]


# --- carts -------------------------------------------------------------------


class CartLine(BaseModel):
    sku: str
    name: str
    category: str
    quantity: int
    unit_price: float = Field(description="Current list price.")
    discount_percent: float = Field(description="Line discount set via /discounts.")
    discount_reason: str | None
    line_total: float = Field(description="quantity x unit_price less the line discount.")


class Cart(BaseModel):
    cart_id: str
    customer_id: str
    status: Literal["open", "checked_out"]
    lines: list[CartLine]
    promotions: list[str] = Field(description="Codes (and automatic offers) applied now.")
    subtotal: float = Field(description="Sum of quantity x unit_price.")
    discount_total: float = Field(description="Line discounts plus promotions.")
    total: float
    currency: Literal["USD"] = "USD"
    updated_at: str


class CartRequest(Body):
    customer_id: str


class LineRequest(Body):
    sku: str
    quantity: int = Field(ge=1, le=100)


class PromotionCodeRequest(Body):
    code: str = Field(min_length=1, max_length=64)


class DiscountRequest(Body):
    sku: str
    percent: float = Field(ge=0, le=100)
    reason: Literal["goodwill", "price_match", "loyalty"]
    competitor: str | None = None


class CheckoutRequest(Body):
    payment_method: Literal["card", "gift_card", "paypal"]


# --- orders ------------------------------------------------------------------


class OrderSummary(BaseModel):
    order_id: str
    status: str
    placed_at: str
    total: float


class OrderSummaryList(BaseModel):
    items: list[OrderSummary]


class OrderLine(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: float
    line_total: float = Field(description="After line discounts and promotions.")


class PaymentMethod(BaseModel):
    kind: Literal["card", "gift_card", "paypal"]
    last4: str | None


class Refund(BaseModel):
    refund_id: str
    amount: float
    method: Literal["original", "gift_card"]
    reason: str
    created_at: str


class Tracking(BaseModel):
    carrier: str
    number: str
    eta: str


class Order(BaseModel):
    order_id: str
    customer_id: str
    status: Literal["pending", "processing", "shipped", "delivered", "cancelled", "returned"]
    placed_at: str
    delivered_at: str | None
    lines: list[OrderLine]
    total: float
    paid: float = Field(description="Amount captured; 0 while payment is outstanding.")
    payment_method: PaymentMethod
    refunds: list[Refund]
    refunded_total: float
    refundable_amount: float = Field(description="paid - refunded_total (0 if cancelled).")
    return_window_ends: str | None = Field(description="delivered_at + 30 days.")
    returned_skus: list[str] = Field(
        default_factory=list, description="SKUs that already have an authorized return."
    )
    tracking: Tracking | None
    as_of: str | None = Field(
        default=None, description="The service's current time when it answered."
    )


class RefundRequest(Body):
    amount: float = Field(gt=0)
    method: Literal["original", "gift_card"]
    reason: str = Field(min_length=1, max_length=500)


class ReturnRequest(Body):
    skus: list[str] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=500)


class ReturnAuthorization(BaseModel):
    return_id: str
    order_id: str
    skus: list[str]
    status: Literal["authorized"]
    label_url: str


class CancelRequest(Body):
    reason: str = Field(min_length=1, max_length=500)


# --- support -----------------------------------------------------------------


class TicketRequest(Body):
    customer_id: str
    summary: str = Field(min_length=1, max_length=2000)
    order_id: str | None = None
    priority: Literal["normal", "urgent"] = "normal"


class TicketCreated(BaseModel):
    ticket_id: str
    status: Literal["open"]
    queue: str = Field(description="Team the ticket was routed to.")
    created_at: str


class Ticket(BaseModel):
    ticket_id: str
    status: str
    queue: str
    created_at: str
    customer_id: str
    summary: str
    order_id: str | None
    priority: Literal["normal", "urgent"]


# --- admin -------------------------------------------------------------------


class FaultSpec(Body):
    latency_ms: int = Field(default=0, ge=0, le=60000, description="Delay before handling.")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Share of requests failed.")
    error_status: int = Field(default=503, ge=400, le=599, description="Status of a failure.")
    garbage_rate: float = Field(default=0.0, ge=0, le=1, description="Share of bad 200s.")


class Fault(FaultSpec):
    service: str


class FaultList(BaseModel):
    items: list[Fault]


class StockUpdate(Body):
    sku: str
    location_id: str
    on_hand: int = Field(ge=0)


class PriceUpdate(Body):
    list_price: float | None = Field(default=None, gt=0)
    unit_cost: float | None = Field(default=None, gt=0)
    map_price: float | None = Field(default=None, gt=0)


class CompetitorPriceRequest(Body):
    sku: str
    competitor: str = Field(min_length=1)
    price: float = Field(gt=0)
    observed_at: str | None = Field(default=None, description="Defaults to now.")


class ClockRequest(Body):
    now: str = Field(description="ISO-8601 time with an offset.")


class ClockState(BaseModel):
    now: str
    mode: Literal["anchored", "real"]
    local: str = Field(description="The same moment in the retailer's time zone.")


class ResetResult(BaseModel):
    status: Literal["reset"]
    now: str
