"""The rule kinds a policy file may use: each a pydantic model of its params.

A rule names its ``kind`` (which pure function in ``guardrails/rules/`` evaluates
it), its ``params``, its ``effect``, the action types it covers and, optionally, the
scope it applies in. ``Rule`` is the discriminated union the policy loader validates
against; adding a kind means a class here (or, for the retail support domain, in
``rule_kinds_retail``), a member of the union, and a check registered in
``guardrails.rules.RULE_CHECKS``. The fields every rule shares are in ``rule_base``.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from guardrails.rule_base import NoParams, RuleBase, StrictModel
from guardrails.rule_kinds_retail import (
    RetailCancelReasonRule,
    RetailGiftCardBalanceRule,
    RetailItemAvailableRule,
    RetailItemsInOrderRule,
    RetailModifiedOnceRule,
    RetailNewItemDiffersRule,
    RetailOrderOwnerRule,
    RetailOrderStatusRule,
    RetailPaymentChangeRule,
    RetailPaymentMethodOfUserRule,
    RetailRefundDestinationRule,
    RetailSameProductRule,
)


class MaxDiscountParams(StrictModel):
    """Cap on a discount's percent, by category, with a default."""

    default_percent: float = Field(ge=0, le=100, description="Cap when no category entry.")
    by_category: dict[str, float] = Field(default_factory=dict, description="Category caps.")


class MarginFloorParams(StrictModel):
    """Price after discount must stay >= unit cost x (1 + min margin)."""

    min_margin: float = Field(ge=0, le=5, description="Default minimum margin over cost (0.15).")
    by_category: dict[str, float] = Field(default_factory=dict, description="Category margins.")


class PriceMatchParams(StrictModel):
    """Price matching only against competitor prices the pricing service holds."""

    max_age_hours: float = Field(gt=0, description="Oldest competitor observation accepted.")


class SessionBudgetParams(StrictModel):
    """Total discount money one session may give away."""

    max_amount: float = Field(gt=0, description="Dollars per session.")


class CustomerScopeRule(RuleBase):
    """Owned resources (orders, carts) must belong to the session's customer."""

    kind: Literal["customer_scope"]
    params: NoParams = NoParams()


class MaxDiscountRule(RuleBase):
    """Discount percent above the cap is refused."""

    kind: Literal["max_discount_percent"]
    params: MaxDiscountParams


class MarginFloorRule(RuleBase):
    """Discounted price below cost plus margin is refused."""

    kind: Literal["margin_floor"]
    params: MarginFloorParams


class MapFloorRule(RuleBase):
    """Discounted price below the brand's minimum advertised price is refused."""

    kind: Literal["map_floor"]
    params: NoParams = NoParams()


class PriceMatchRule(RuleBase):
    """Price matches need a fresh competitor price held by the pricing service."""

    kind: Literal["price_match"]
    params: PriceMatchParams


class SessionBudgetRule(RuleBase):
    """A session's discounts may not exceed a money budget."""

    kind: Literal["session_discount_budget"]
    params: SessionBudgetParams


class StockAvailableRule(RuleBase):
    """No cart add or reservation beyond available stock."""

    kind: Literal["stock_available"]
    params: NoParams = NoParams()


class DeliveryConfirmedRule(RuleBase):
    """Promise only delivery options the fulfillment service confirms now."""

    kind: Literal["delivery_confirmed"]
    params: NoParams = NoParams()


class RefundWithinPaidRule(RuleBase):
    """Refunds never exceed what was paid minus earlier refunds."""

    kind: Literal["refund_within_paid"]
    params: NoParams = NoParams()


class AmountParams(StrictModel):
    """A money bound."""

    max_amount: float = Field(gt=0, description="Dollars.")


class CampaignBudgetParams(StrictModel):
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


class BrandsParams(StrictModel):
    """Catalog brands, as the catalog spells them."""

    brands: list[str] = Field(min_length=1, description="Brand names.")


class RateLimitParams(StrictModel):
    """At most ``max_actions`` executions per session within a sliding window."""

    max_actions: int = Field(ge=1, le=10_000, description="Actions allowed in the window.")
    window_seconds: float = Field(gt=0, le=3600, description="Window length, at most an hour.")


class RefundMethodParams(StrictModel):
    """Where a refund may go."""

    allowed: list[Literal["original", "gift_card"]] = Field(
        min_length=1, description="Refund methods accepted."
    )


class OrderStatusParams(StrictModel):
    """Order statuses an action accepts."""

    statuses: list[str] = Field(min_length=1, description="Order status values, e.g. pending.")


class TierPercentParams(StrictModel):
    """Discount percent above which a human approves, per loyalty tier."""

    by_tier: dict[str, float] = Field(min_length=1, description="Percent per tier.")


class DiscountAmountCapRule(RuleBase):
    """One discount may not give away more than a fixed amount."""

    kind: Literal["discount_amount_cap"]
    params: AmountParams


class CustomerDailyBudgetRule(RuleBase):
    """A customer's discounts per (UTC) day, across all their sessions, stay under a cap."""

    kind: Literal["customer_daily_budget"]
    params: AmountParams


class CampaignBudgetRule(RuleBase):
    """Each discount campaign (reason or promotion code) stays under its cap."""

    kind: Literal["campaign_budget"]
    params: CampaignBudgetParams


class GlobalDailyBudgetRule(RuleBase):
    """Everything given away in discounts on one (UTC) day stays under a cap."""

    kind: Literal["global_daily_budget"]
    params: AmountParams


class RegionRestrictionRule(RuleBase):
    """A SKU restricted in the customer's region is not sold or shipped there."""

    kind: Literal["region_restriction"]
    params: NoParams = NoParams()


class AgeVerificationRule(RuleBase):
    """Age-restricted products need a customer whose age is verified."""

    kind: Literal["age_verification"]
    params: NoParams = NoParams()


class NoDiscountBrandRule(RuleBase):
    """Brands that forbid discounting their products."""

    kind: Literal["no_discount_brand"]
    params: BrandsParams


class PromotionTierRule(RuleBase):
    """A tier-only promotion is applied only for a customer of one of its tiers."""

    kind: Literal["promotion_tier"]
    params: NoParams = NoParams()


class PromotionStackingRule(RuleBase):
    """A promotion joins the cart's others only when every one of them is stackable."""

    kind: Literal["promotion_stacking"]
    params: NoParams = NoParams()


class RateLimitRule(RuleBase):
    """Actions per session within a sliding window (counted where every replica sees them)."""

    kind: Literal["rate_limit"]
    params: RateLimitParams


class RefundMethodRule(RuleBase):
    """Refunds go only to the original payment method or a gift card."""

    kind: Literal["refund_method"]
    params: RefundMethodParams = RefundMethodParams(allowed=["original", "gift_card"])


class ReturnItemsRule(RuleBase):
    """A return names only the order's SKUs, none of which has a return already."""

    kind: Literal["return_items"]
    params: NoParams = NoParams()


class ReturnWindowRule(RuleBase):
    """Returns only for delivered orders inside their return window (the order service's now)."""

    kind: Literal["return_window"]
    params: NoParams = NoParams()


class CancelStateRule(RuleBase):
    """Cancel only orders in an accepted status (pending, by default)."""

    kind: Literal["cancel_state"]
    params: OrderStatusParams = OrderStatusParams(statuses=["pending"])


class RefundApprovalRule(RuleBase):
    """A refund above the amount waits for a human."""

    kind: Literal["refund_approval_threshold"]
    effect: Literal["deny", "require_approval"] = "require_approval"
    params: AmountParams


class GoodwillApprovalRule(RuleBase):
    """A goodwill discount worth more than the amount waits for a human."""

    kind: Literal["goodwill_approval_threshold"]
    effect: Literal["deny", "require_approval"] = "require_approval"
    params: AmountParams


class TierDiscountApprovalRule(RuleBase):
    """A discount percent above the customer's tier threshold waits for a human."""

    kind: Literal["tier_discount_approval_threshold"]
    effect: Literal["deny", "require_approval"] = "require_approval"
    params: TierPercentParams


class HumanApprovalRule(RuleBase):
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
    | ReturnItemsRule
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
