"""The turn's nodes, one module per stage: plan, act (context, validate, execute), finish."""
