"""The discount budget ledger; the backends live in ``guardrails.ledger``.

Reserve before execute, commit after, release on failure; reservations expire. Kept
as the import path the rest of the code uses.
"""

from guardrails.ledger import BudgetLedger, Claim, SqliteBudgetLedger

__all__ = ["BudgetLedger", "Claim", "SqliteBudgetLedger"]
