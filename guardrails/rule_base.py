"""What every rule kind shares: strict frozen models, the rule's scope and its common fields."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ANY_ACTION = "*"


class StrictModel(BaseModel):
    """Unknown keys are errors; a loaded rule never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(StrictModel):
    """Rules that need no parameters."""


ScopeValue = Annotated[str, Field(min_length=1, max_length=120)]


class RuleScope(StrictModel):
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


class RuleBase(StrictModel):
    """The fields every rule has, whatever its kind."""

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
