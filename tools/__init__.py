"""Arbiter's tools: what the model may read and propose, over the capability services.

Layout (one capability per module, tau-bench style):

- ``spec`` — ``ToolArgs``, ``ToolSpec``, ``ToolContext`` and the strict-schema generator.
- ``client`` — the one async HTTP client (retries on 5xx/timeouts, typed errors).
- ``facts`` — typed readers of authoritative state (full bodies, incl. unit cost), shared
  by the read tools and the guardrails layer.
- ``catalog``, ``pricing``, ``inventory``, ``fulfillment``, ``promotions``,
  ``customers``, ``carts``, ``orders``, ``support`` — argument models, coroutines and
  ``ToolSpec`` constants.
- ``registry`` — the ordered ``ALL_TOOLS``, lookups, OpenAI definitions, schema hash.

Read tools run whenever the model calls them. Action tools are proposals: the agent
runs them only from its execute step, after the guardrails allowed them, with an
idempotency key in the context. The session's customer, region and HTTP client reach a
tool through ``ToolContext``, never through its arguments, and every owned resource
(cart, order, profile) is checked against that customer. Errors the model can correct
arrive as ``CapabilityError`` / ``OutOfScopeError``, which the agent turns into tool
results; ``ServiceUnavailableError`` means the service could not answer.

Importing this package has no side effects; import ``tools.registry`` for the tools.
"""
