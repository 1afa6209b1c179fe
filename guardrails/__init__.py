"""Deterministic guardrails: policy as data, evaluated against authoritative facts.

The model proposes; this package decides. Every verdict re-reads the state it depends
on (price, stock, delivery options, orders) from the capability services at the
moment of validation and never trusts numbers in the model's arguments. When a fact
cannot be read the verdict is ``deny`` (fail closed).
"""
