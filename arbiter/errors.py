"""One root for the errors a programmer or an operator must act on.

Errors the *model* can correct (bad arguments, an unknown SKU, a denial it can work
around) are not raised: they go back to the model as tool results. Everything here
is for people: configuration mistakes, services that cannot answer, bad input.
"""

from __future__ import annotations


class ArbiterError(Exception):
    """Root of every error Arbiter raises on purpose."""


class ConfigError(ArbiterError):
    """Settings, policy or prompt files are missing or invalid."""


class InputError(ArbiterError):
    """A caller sent something Arbiter will not process (empty, oversized, unknown id)."""


class NotFoundError(InputError):
    """An id the caller sent names nothing (session, approval, turn, customer)."""


class UnknownCustomerError(NotFoundError):
    """The customer id does not exist in the customer service."""


class ConflictError(ArbiterError):
    """The request is valid but the current state does not allow it (session busy, decided)."""


class TurnPausedError(ArbiterError):
    """A turn's record was asked for while the turn waits for a person's approval."""


class ServiceUnavailableError(ArbiterError):
    """A capability service could not answer (5xx after retries, timeout, connection refused).

    Guardrails treat this as "cannot evaluate" and fail closed.
    """

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service} service unavailable: {detail}")
        self.service = service
        self.detail = detail


class CapabilityError(ArbiterError):
    """A capability service rejected a request (4xx): the caller's request is wrong.

    Raised by the HTTP client; tool wrappers turn it into a tool result the model sees.
    """

    def __init__(self, service: str, status: int, code: str, detail: str) -> None:
        super().__init__(f"{service} rejected the request ({status} {code}): {detail}")
        self.service = service
        self.status = status
        self.code = code
        self.detail = detail


class ModelEndpointError(ArbiterError):
    """The LLM endpoint could not be reached or kept failing after retries."""


class OutOfScopeError(ArbiterError):
    """A tool call reached data that belongs to another customer than the session's.

    Tool wrappers raise it after reading an owned resource (an order, a cart); the turn
    turns it into a refused tool result and records it. Never retried.
    """

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"{resource} {resource_id} does not belong to this session's customer")
        self.resource = resource
        self.resource_id = resource_id
