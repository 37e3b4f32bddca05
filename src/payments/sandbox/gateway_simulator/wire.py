"""The sandbox wire format's reading and writing: JSON bodies, fields, money and error answers."""

from __future__ import annotations

import json
from collections.abc import Mapping

from payments.domain.errors import ValidationError
from payments.domain.money import Money

__all__ = ["ApiError", "encode", "money", "optional_text", "read_json", "required_text"]


class ApiError(Exception):
    """An error answer of the wire format: ``{"error": {"type", "code", "message"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        kind: str = "invalid_request",
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, object] = {
            "error": {"type": kind, "code": code, "message": message, **(extra or {})}
        }


def read_json(raw: bytes) -> Mapping[str, object]:
    """A request body as a JSON object (an empty body is ``{}``)."""
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "invalid_json", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


def encode(payload: Mapping[str, object]) -> bytes:
    """An answer body, compact JSON."""
    return json.dumps(payload, separators=(",", ":")).encode()


def required_text(data: Mapping[str, object], key: str, *, limit: int) -> str:
    """A non-blank string of at most ``limit`` characters, or 400 ``parameter_invalid``."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ApiError(400, "parameter_invalid", f"{key!r} must be a string of 1-{limit} chars.")
    return value


def optional_text(data: Mapping[str, object], key: str) -> str | None:
    """A string or None when absent, or 400 ``parameter_invalid``."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "parameter_invalid", f"{key!r} must be a string.")
    return value


def money(value: object, key: str) -> Money:
    """Money from the wire: a string amount, positive and exact in its currency."""
    if not isinstance(value, Mapping) or not isinstance(value.get("amount"), str):
        raise ApiError(400, "amount_invalid", f"{key!r} must be money with a string amount.")
    try:
        amount = Money.from_dict(value)
    except ValidationError as error:
        raise ApiError(400, "amount_invalid", error.message) from None
    if not amount.is_positive or not amount.is_exact:
        raise ApiError(400, "amount_invalid", f"{key!r} must be positive and exact.")
    return amount
