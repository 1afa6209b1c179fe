"""The tau-bench retail tasks as a peer eval suite over the sandbox's retail support domain.

Every task is scored by the end state it leaves, not by wording: the task's gold
actions are applied straight to a fresh copy of the retail database to get the
expected state; the agent's episode runs on another fresh copy; the task succeeds
when the two ``retail_users``/``retail_orders`` tables hash the same and every
required output appears in what the agent said.

- ``tasks`` — load tau2 ``tasks.json`` (+ ``split_tasks.json``) or the original
  ``tasks_<split>.json`` into pydantic models;
- ``env`` — the run's template database, policy and agent prompt; fresh copies per episode;
- ``reference`` — the expected end state (gold actions applied directly) and its hash;
- ``agent`` — the real Arbiter turn graph over the retail tools and retail policy;
- ``user`` — the simulated user (an LLM, or a script) and its stop token;
- ``players`` — who plays a task: gold mode (scripted gold calls) or LLM mode;
- ``episode`` — one conversation, and its reward;
- ``passk`` — pass^k as tau-bench defines it;
- ``runner`` / ``report`` / ``cli`` — K trials per task with bounded concurrency, the
  JSON report and table, and ``arbiter eval tau2``.
"""
