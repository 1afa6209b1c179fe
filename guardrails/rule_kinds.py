"""The rule kinds a policy file may use: each a pydantic model of its params.

A rule names its ``kind`` (which pure function in ``guardrails/rules/`` evaluates
it), its ``params``, its ``effect``, the action types it covers and, optionally, the
scope it applies in. ``Rule`` is the discriminated union the policy loader validates
against; adding a kind means a class here, a member of the union, and a check
registered in ``guardrails.rules.RULE_CHECKS``.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

ANY_ACTION = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(_Strict):
    """Rules that need no parameters."""


class MaxDiscountParams(_Strict):
    """Cap on a discount's percent, by category, with a default."""

    default_percent: float = Field(ge=0, le=100, description="Cap when no category entry.")
    by_category: dict[str, float] = Field(default_factory=dict, description="Category caps.")


class MarginFloorParams(_Strict):
    """Price after discount must stay >= unit cost x (1 + min margin)."""

    min_margin: float = Field(ge=0, le=5, description="Default minimum margin over cost (0.15).")
    by_category: dict[str, float] = Field(default_factory=dict, description="Category margins.")


class PriceMatchParams(_Strict):
    """Price matching only against competitor prices the pricing service holds."""

    max_age_hours: float = Field(gt=0, description="Oldest competitor observation accepted.")


class SessionBudgetParams(_Strict):
    """Total discount money one session may give away."""

    max_amount: float = Field(gt=0, description="Dollars per session.")


ScopeValue = Annotated[str, Field(min_length=1, max_length=120)]


class RuleScope(_Strict):
    """Where a rule applies, beyond its action types; an absent key means everywhere.

    ``regions``, ``loyalty_tiers`` and ``channels`` match the trusted session context;
    ``categories`` and ``brands`` match the catalog's product fact. Values match exactly.
    An action with no product fact (a refund, a delivery promise) is outside every
    rule that names categories or brands: such a rule never applies to it.
    """

    categories: list[ScopeValue] | None = Field(
        default=None, min_length=1, description="Catalog categories, e.g. running-shoes."
    )
    brands: list[ScopeValue] | None = Field(
        default=None, min_length=1, description="Catalog brands, as the catalog spells them."
    )
    regions: list[ScopeValue] | None = Field(
        default=None, min_length=1, description="Customer regions from the session."
    )
    loyalty_tiers: list[ScopeValue] | None = Field(
        default=None, min_length=1, description="Customer loyalty tiers from the session."
    )
    channels: list[Literal["shopper", "copilot"]] | None = Field(
        default=None, min_length=1, description="Session channels."
    )

    @property
    def needs_product(self) -> bool:
        """True when matching needs the product's category or brand."""
        return self.categories is not None or self.brands is not None

    def matches(
        self,
        *,
        category: str | None,
        brand: str | None,
        region: str,
        loyalty_tier: str,
        channel: str,
    ) -> bool:
        """True when every listed dimension contains the given value."""
        checks = (
            (self.categories, category),
            (self.brands, brand),
            (self.regions, region),
            (self.loyalty_tiers, loyalty_tier),
            (self.channels, channel),
        )
        return all(allowed is None or value in allowed for allowed, value in checks)


class _RuleBase(_Strict):
    id: str = Field(min_length=1, max_length=80, description="Stable id shown in verdicts.")
    description: str = Field(default="", description="What the rule protects, for humans.")
    effect: Literal["deny", "require_approval"] = "deny"
    actions: list[str] = Field(min_length=1, description="Action types covered, or '*'.")
    scope: RuleScope | None = Field(
        default=None, description="Where the rule applies (categories, regions, ...); None: all."
    )

    def covers(self, action_type: str) -> bool:
        """True when this rule applies to the action type."""
        return ANY_ACTION in self.actions or action_type in self.actions


class CustomerScopeRule(_RuleBase):
    """Owned resources (orders, carts) must belong to the session's customer."""

    kind: Literal["customer_scope"]
    params: NoParams = NoParams()


class MaxDiscountRule(_RuleBase):
    """Discount percent above the cap is refused."""

    kind: Literal["max_discount_percent"]
    params: MaxDiscountParams


class MarginFloorRule(_RuleBase):
    """Discounted price below cost plus margin is refused."""

    kind: Literal["margin_floor"]
    params: MarginFloorParams


class MapFloorRule(_RuleBase):
    """Discounted price below the brand's minimum advertised price is refused."""

    kind: Literal["map_floor"]
    params: NoParams = NoParams()


class PriceMatchRule(_RuleBase):
    """Price matches need a fresh competitor price held by the pricing service."""

    kind: Literal["price_match"]
    params: PriceMatchParams


class SessionBudgetRule(_RuleBase):
    """A session's discounts may not exceed a money budget."""

    kind: Literal["session_discount_budget"]
    params: SessionBudgetParams


class StockAvailableRule(_RuleBase):
    """No cart add or reservation beyond available stock."""

    kind: Literal["stock_available"]
    params: NoParams = NoParams()


class DeliveryConfirmedRule(_RuleBase):
    """Promise only delivery options the fulfillment service confirms now."""

    kind: Literal["delivery_confirmed"]
    params: NoParams = NoParams()


class RefundWithinPaidRule(_RuleBase):
    """Refunds never exceed what was paid minus earlier refunds."""

    kind: Literal["refund_within_paid"]
    params: NoParams = NoParams()


# Retail support domain (tau-bench retail policy; guardrails/policies/retail.yaml).


class RetailStatusParams(_Strict):
    """Order statuses, e.g. the ones an action accepts."""

    statuses: list[str] = Field(min_length=1, description="Order status values.")


class RetailCancelReasonParams(_Strict):
    """Cancellation reasons the policy accepts."""

    allowed: list[str] = Field(min_length=1, description="Accepted reasons, exactly as written.")


class RetailRefundParams(_Strict):
    """Where a return's refund may go besides the order's original payment method."""

    allow_gift_card: bool = Field(default=True, description="Any gift card of the user.")


class RetailOrderOwnerRule(_RuleBase):
    """The order (or user) an action names is the session's user."""

    kind: Literal["retail_order_owner"]
    params: NoParams = NoParams()


class RetailOrderStatusRule(_RuleBase):
    """The order must be in one of the statuses the action accepts."""

    kind: Literal["retail_order_status"]
    params: RetailStatusParams


class RetailModifiedOnceRule(_RuleBase):
    """An order whose items were already modified cannot be modified or cancelled again."""

    kind: Literal["retail_modified_once"]
    params: RetailStatusParams


class RetailCancelReasonRule(_RuleBase):
    """A cancellation gives one of the accepted reasons."""

    kind: Literal["retail_cancel_reason"]
    params: RetailCancelReasonParams


class RetailItemsInOrderRule(_RuleBase):
    """Items named are in the order (as many times as named), not already returned or exchanged."""

    kind: Literal["retail_items_in_order"]
    params: NoParams = NoParams()


class RetailSameProductRule(_RuleBase):
    """Each new item is a variant of the same product as the item it replaces."""

    kind: Literal["retail_same_product"]
    params: NoParams = NoParams()


class RetailNewItemDiffersRule(_RuleBase):
    """Each new item has different options from the item it replaces."""

    kind: Literal["retail_new_item_differs"]
    params: NoParams = NoParams()


class RetailItemAvailableRule(_RuleBase):
    """Each new item is available."""

    kind: Literal["retail_item_available"]
    params: NoParams = NoParams()


class RetailPaymentMethodOfUserRule(_RuleBase):
    """The payment method named is one of the user's own."""

    kind: Literal["retail_payment_method_of_user"]
    params: NoParams = NoParams()


class RetailRefundDestinationRule(_RuleBase):
    """A return is refunded to a method the order was paid with, or a gift card of the user."""

    kind: Literal["retail_refund_destination"]
    params: RetailRefundParams = RetailRefundParams()


class RetailGiftCardBalanceRule(_RuleBase):
    """A gift card used to pay covers the amount it must pay (price difference or total)."""

    kind: Literal["retail_gift_card_balance"]
    params: NoParams = NoParams()


class RetailPaymentChangeRule(_RuleBase):
    """A payment change moves an order's single payment to a different method."""

    kind: Literal["retail_payment_change"]
    params: NoParams = NoParams()


# Compliance, support-action and multi-scope budget rules (guardrails/rules/compliance.py,
# guardrails/rules/discounts.py).


class AmountParams(_Strict):
    """A money bound."""

    max_amount: float = Field(gt=0, description="Dollars.")


class CampaignBudgetParams(_Strict):
    """Money each discount campaign may give away in total.

    A discount's campaign is its reason (goodwill, price_match, loyalty); a promotion's
    is its code. A campaign with no entry and no default is not capped by this rule.
    """

    by_campaign: dict[str, float] = Field(default_factory=dict, description="Cap per campaign.")
    default_amount: float | None = Field(
        default=None, gt=0, description="Cap of a campaign not listed; None: uncapped."
    )

    def cap_for(self, campaign: str) -> float | None:
        """The cap of one campaign, if any."""
        return self.by_campaign.get(campaign, self.default_amount)


class BrandsParams(_Strict):
    """Catalog brands, as the catalog spells them."""

    brands: list[str] = Field(min_length=1, description="Brand names.")


class RateLimitParams(_Strict):
    """At most ``max_actions`` executions per session within a sliding window."""

    max_actions: int = Field(ge=1, le=10_000, description="Actions allowed in the window.")
    window_seconds: float = Field(gt=0, le=3600, description="Window length, at most an hour.")


class RefundMethodParams(_Strict):
    """Where a refund may go."""

    allowed: list[Literal["original", "gift_card"]] = Field(
        min_length=1, description="Refund methods accepted."
    )


class OrderStatusParams(_Strict):
    """Order statuses an action accepts."""

    statuses: list[str] = Field(min_length=1, description="Order status values, e.g. pending.")


class TierPercentParams(_Strict):
    """Discount percent above which a human approves, per loyalty tier."""

    by_tier: dict[str, float] = Field(min_length=1, description="Percent per tier.")


class DiscountAmountCapRule(_RuleBase):
    """One discount may not give away more than a fixed amount."""

    kind: Literal["discount_amount_cap"]
    params: AmountParams


class CustomerDailyBudgetRule(_RuleBase):
    """A customer's discounts per (UTC) day, across all their sessions, stay under a cap."""

    kind: Literal["customer_daily_budget"]
    params: AmountParams


class CampaignBudgetRule(_RuleBase):
    """Each discount campaign (reason or promotion code) stays under its cap."""

    kind: Literal["campaign_budget"]
    params: CampaignBudgetParams


class GlobalDailyBudgetRule(_RuleBase):
    """Everything given away in discounts on one (UTC) day stays under a cap."""

    kind: Literal["global_daily_budget"]
    params: AmountParams


class RegionRestrictionRule(_RuleBase):
    """A SKU restricted in the customer's region is not sold or shipped there."""

    kind: Literal["region_restriction"]
    params: NoParams = NoParams()


class AgeVerificationRule(_RuleBase):
    """Age-restricted products need a customer whose age is verified."""

    kind: Literal["age_verification"]
    params: NoParams = NoParams()


class NoDiscountBrandRule(_RuleBase):
    """Brands that forbid discounting their products."""

    kind: Literal["no_discount_brand"]
    params: BrandsParams


class PromotionTierRule(_RuleBase):
    """A tier-only promotion is applied only for a customer of one of its tiers."""

    kind: Literal["promotion_tier"]
    params: NoParams = NoParams()


class PromotionStackingRule(_RuleBase):
    """A promotion joins the cart's others only when every one of them is stackable."""

    kind: Literal["promotion_stacking"]
    params: NoParams = NoParams()


class RateLimitRule(_RuleBase):
    """Actions per session within a sliding window (counted where every replica sees them)."""

    kind: Literal["rate_limit"]
    params: RateLimitParams


class RefundMethodRule(_RuleBase):
    """Refunds go only to the original payment method or a gift card."""

    kind: Literal["refund_method"]
    params: RefundMethodParams = RefundMethodParams(allowed=["original", "gift_card"])


class ReturnWindowRule(_RuleBase):
    """Returns only for delivered orders inside their return window (the order service's now)."""

    kind: Literal["return_window"]
    params: NoParams = NoParams()


class CancelStateRule(_RuleBase):
    """Cancel only orders in an accepted status (pending, by default)."""

    kind: Literal["cancel_state"]
    params: OrderStatusParams = OrderStatusParams(statuses=["pending"])


class RefundApprovalRule(_RuleBase):
    """A refund above the amount waits for a human."""

    kind: Literal["refund_approval_threshold"]
    effect: Literal["deny", "require_approval"] = "require_approval"
    params: AmountParams


class GoodwillApprovalRule(_RuleBase):
    """A goodwill discount worth more than the amount waits for a human."""

    kind: Literal["goodwill_approval_threshold"]
    effect: Literal["deny", "require_approval"] = "require_approval"
    params: AmountParams


class TierDiscountApprovalRule(_RuleBase):
    """A discount percent above the customer's tier threshold waits for a human."""

    kind: Literal["tier_discount_approval_threshold"]
    effect: Literal["deny", "require_approval"] = "require_approval"
    params: TierPercentParams


class HumanApprovalRule(_RuleBase):
    """Every covered action in scope waits for a human (e.g. all copilot writes)."""

    kind: Literal["human_approval"]
    effect: Literal["require_approval"] = "require_approval"
    params: NoParams = NoParams()


Rule = Annotated[
    CustomerScopeRule
    | MaxDiscountRule
    | MarginFloorRule
    | MapFloorRule
    | PriceMatchRule
    | SessionBudgetRule
    | StockAvailableRule
    | DeliveryConfirmedRule
    | RefundWithinPaidRule
    | RetailOrderOwnerRule
    | RetailOrderStatusRule
    | RetailModifiedOnceRule
    | RetailCancelReasonRule
    | RetailItemsInOrderRule
    | RetailSameProductRule
    | RetailNewItemDiffersRule
    | RetailItemAvailableRule
    | RetailPaymentMethodOfUserRule
    | RetailRefundDestinationRule
    | RetailGiftCardBalanceRule
    | RetailPaymentChangeRule
    | DiscountAmountCapRule
    | CustomerDailyBudgetRule
    | CampaignBudgetRule
    | GlobalDailyBudgetRule
    | RegionRestrictionRule
    | AgeVerificationRule
    | NoDiscountBrandRule
    | PromotionTierRule
    | PromotionStackingRule
    | RateLimitRule
    | RefundMethodRule
    | ReturnWindowRule
    | CancelStateRule
    | RefundApprovalRule
    | GoodwillApprovalRule
    | TierDiscountApprovalRule
    | HumanApprovalRule,
    Field(discriminator="kind"),
]


RULE_KINDS: frozenset[str] = frozenset(
    get_args(member.model_fields["kind"].annotation)[0] for member in get_args(get_args(Rule)[0])
)
"""Every ``kind`` value the union accepts."""
