"""Arbiter core: settings and the error hierarchy shared by every package.

The layers live in the top-level packages (``agent``, ``tools``, ``guardrails``,
``prompts``, ``api``, ``evals``, ``sandbox``); this package holds only what all of
them share, plus the ``arbiter`` command line.
"""

__version__ = "0.1.0"
