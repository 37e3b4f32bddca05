"""The Stripe simulator's error answers, in Stripe's ``{"error": {...}}`` shape."""

from __future__ import annotations

import json
from collections.abc import Mapping

from payments.sandbox.stripe_simulator.objects import doc_url

__all__ = ["ApiError", "encode", "no_such"]


class ApiError(Exception):
    """An error answer in Stripe's shape: ``{"error": {"type", "message", "code", "param"}}``.

    ``executed`` says the endpoint had begun its work, so an idempotency key keeps the answer.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        executed: bool = False,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.executed = executed
        error: dict[str, object] = {"type": kind, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = doc_url(code)
        if param:
            error["param"] = param
        error.update(extra or {})
        self.body: dict[str, object] = {"error": error}


def no_such(kind: str, object_id: str, param: str) -> ApiError:
    """Stripe's 404 for an id it does not know: ``No such <kind>: '<id>'``."""
    return ApiError(
        404, f"No such {kind}: '{object_id[:60]}'", code="resource_missing", param=param
    )


def encode(payload: Mapping[str, object]) -> bytes:
    """A JSON answer body as Stripe writes it (indented)."""
    return json.dumps(payload, indent=2).encode("utf-8")
