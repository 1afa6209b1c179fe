"""Rule kinds of the retail support domain (tau-bench retail policy; policies/retail.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from guardrails.rule_base import NoParams, RuleBase, StrictModel


class RetailStatusParams(StrictModel):
    """Order statuses, e.g. the ones an action accepts."""

    statuses: list[str] = Field(min_length=1, description="Order status values.")


class RetailCancelReasonParams(StrictModel):
    """Cancellation reasons the policy accepts."""

    allowed: list[str] = Field(min_length=1, description="Accepted reasons, exactly as written.")


class RetailRefundParams(StrictModel):
    """Where a return's refund may go besides the order's original payment method."""

    allow_gift_card: bool = Field(default=True, description="Any gift card of the user.")


class RetailOrderOwnerRule(RuleBase):
    """The order (or user) an action names is the session's user."""

    kind: Literal["retail_order_owner"]
    params: NoParams = NoParams()


class RetailOrderStatusRule(RuleBase):
    """The order must be in one of the statuses the action accepts."""

    kind: Literal["retail_order_status"]
    params: RetailStatusParams


class RetailModifiedOnceRule(RuleBase):
    """An order whose items were already modified cannot be modified or cancelled again."""

    kind: Literal["retail_modified_once"]
    params: RetailStatusParams


class RetailCancelReasonRule(RuleBase):
    """A cancellation gives one of the accepted reasons."""

    kind: Literal["retail_cancel_reason"]
    params: RetailCancelReasonParams


class RetailItemsInOrderRule(RuleBase):
    """Items named are in the order (as many times as named), not already returned or exchanged."""

    kind: Literal["retail_items_in_order"]
    params: NoParams = NoParams()


class RetailSameProductRule(RuleBase):
    """Each new item is a variant of the same product as the item it replaces."""

    kind: Literal["retail_same_product"]
    params: NoParams = NoParams()


class RetailNewItemDiffersRule(RuleBase):
    """Each new item has different options from the item it replaces."""

    kind: Literal["retail_new_item_differs"]
    params: NoParams = NoParams()


class RetailItemAvailableRule(RuleBase):
    """Each new item is available."""

    kind: Literal["retail_item_available"]
    params: NoParams = NoParams()


class RetailPaymentMethodOfUserRule(RuleBase):
    """The payment method named is one of the user's own."""

    kind: Literal["retail_payment_method_of_user"]
    params: NoParams = NoParams()


class RetailRefundDestinationRule(RuleBase):
    """A return is refunded to a method the order was paid with, or a gift card of the user."""

    kind: Literal["retail_refund_destination"]
    params: RetailRefundParams = RetailRefundParams()


class RetailGiftCardBalanceRule(RuleBase):
    """A gift card used to pay covers the amount it must pay (price difference or total)."""

    kind: Literal["retail_gift_card_balance"]
    params: NoParams = NoParams()


class RetailPaymentChangeRule(RuleBase):
    """A payment change moves an order's single payment to a different method."""

    kind: Literal["retail_payment_change"]
    params: NoParams = NoParams()


# Compliance, support-action and multi-scope budget rules (guardrails/rules/compliance.py,
# guardrails/rules/discounts.py).
