"""What a run's tokens cost: a price table in USD per million input and output tokens.

Prices come from the command line: ``--input-price``/``--output-price`` price every
model, and ``--prices FILE`` (YAML) prices models by name, overriding those two:

    gpt-4o-mini: {input: 0.15, output: 0.60}
    gpt-4o: {input: 2.50, output: 10.00}

A trial is priced by its agent model's name (``TrialResult.model``) and, when an LLM
played the user, that model's name too. A cost is known only when tokens were
reported and every model that reported them has a price: the offline planner reports
no usage, so its runs show "n/a".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arbiter.errors import InputError
from evals.scenario import problems, read_yaml

if TYPE_CHECKING:
    from evals.runner import TrialResult

LLM_USER = "llm:"
"""How ``TrialResult.user`` names an LLM user's model."""


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, description="USD per 1M input (prompt) tokens.")
    output: float = Field(ge=0, description="USD per 1M output (completion) tokens.")

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for these token counts."""
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


class PriceTable(BaseModel):
    """Prices by model name, and the price of any other model (when given)."""

    models: dict[str, Price] = Field(default_factory=dict, description="By model name.")
    default: Price | None = Field(default=None, description="For models not named.")

    def price(self, model: str | None) -> Price | None:
        """The price of ``model`` (None: unknown)."""
        found = self.models.get(model) if model is not None else None
        return found or self.default

    def cost(self, model: str | None, input_tokens: int, output_tokens: int) -> float | None:
        """USD for one model's tokens: 0 with no tokens, None when it has no price."""
        if input_tokens + output_tokens == 0:
            return 0.0
        price = self.price(model)
        return None if price is None else price.cost(input_tokens, output_tokens)


def load_prices(path: Path) -> dict[str, Price]:
    """Read a prices file (model name -> ``{input, output}``); raise ``InputError`` naming it."""
    raw = read_yaml(path, InputError)
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{path}: expected a mapping of model name to {{input, output}}")
    prices: dict[str, Price] = {}
    for name, value in raw.items():
        try:
            prices[str(name)] = Price.model_validate(value)
        except ValidationError as exc:
            raise InputError(f"{path}: {name}: {problems(exc, '(price)')}") from None
    return prices


def price_table(
    input_price: float | None, output_price: float | None, prices_file: Path | None
) -> PriceTable | None:
    """The run's prices from the command line options (None: no prices given)."""
    if (input_price is None) != (output_price is None):
        raise InputError("--input-price and --output-price go together")
    default = None
    if input_price is not None and output_price is not None:
        default = Price(input=input_price, output=output_price)
    models = load_prices(prices_file) if prices_file is not None else {}
    if default is None and not models:
        return None
    return PriceTable(models=models, default=default)


def trial_tokens(result: TrialResult) -> int:
    """Every token a trial reported: the agent's and an LLM user's."""
    agent = sum(t.input_tokens + t.output_tokens for t in result.turns)
    return agent + result.user_input_tokens + result.user_output_tokens


def trial_cost(result: TrialResult, prices: PriceTable | None) -> float | None:
    """USD for one trial's tokens; None with no tokens or a model without a price."""
    if prices is None or trial_tokens(result) == 0:
        return None
    agent = prices.cost(
        result.model,
        sum(t.input_tokens for t in result.turns),
        sum(t.output_tokens for t in result.turns),
    )
    user_model = result.user.removeprefix(LLM_USER) if result.user.startswith(LLM_USER) else None
    user = prices.cost(user_model, result.user_input_tokens, result.user_output_tokens)
    return None if agent is None or user is None else agent + user


def total_cost(results: list[TrialResult], prices: PriceTable | None) -> float | None:
    """USD over trials; None unless some reported tokens and every such trial is priced."""
    costs = [trial_cost(r, prices) for r in results if trial_tokens(r)]
    if not costs or any(c is None for c in costs):
        return None
    return sum(c for c in costs if c is not None)


def usd(value: float | None) -> str:
    """A cost as reports show it: ``$0.0123``, or ``n/a`` when unknown."""
    return "n/a" if value is None else f"${value:.4f}"
