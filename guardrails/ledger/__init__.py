"""Budget ledger backends behind one interface: SQLite (embedded) and PostgreSQL.

``guardrails.ledger.postgres`` is imported only when a database URL is configured,
so the embedded default works without the optional ``postgres`` extra.
"""

from guardrails.ledger.base import (
    BudgetLedger,
    Claim,
    campaign_scope,
    customer_day_scope,
    global_day_scope,
    session_scope,
)
from guardrails.ledger.sqlite import SqliteBudgetLedger

__all__ = [
    "BudgetLedger",
    "Claim",
    "SqliteBudgetLedger",
    "campaign_scope",
    "customer_day_scope",
    "global_day_scope",
    "session_scope",
]
