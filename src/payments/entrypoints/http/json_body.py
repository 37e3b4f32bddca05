"""Request bodies: raw bytes read once within the size limit, JSON objects parsed without floats."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal

import falcon

from payments.domain.errors import (
    FieldError,
    InvalidAmountError,
    UnknownCurrencyError,
    ValidationError,
)
from payments.domain.money import Money
from payments.entrypoints.http.errors import MalformedRequestError

DEFAULT_MAX_BODY_BYTES = 1_048_576
MAX_NUMBER_TEXT = 64
MAX_INT_DIGITS = 30
_READ_CHUNK = 65_536

# Digits, then optionally a point and more digits: no sign, exponent, space, "_" or other
# Unicode digits (which Decimal would all accept). ASCII only, by construction.
UNSIGNED_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
SIGNED_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def is_plain_decimal(text: str, *, signed: bool = False) -> bool:
    """True for a plain decimal string such as ``"79.99"`` (``"-5"`` too when ``signed``)."""
    pattern = SIGNED_DECIMAL if signed else UNSIGNED_DECIMAL
    return pattern.fullmatch(text) is not None


def _too_large(limit: int) -> falcon.HTTPContentTooLarge:
    return falcon.HTTPContentTooLarge(
        title="Content too large", description=f"The body must not exceed {limit} bytes."
    )


def _read_to_end(req: falcon.Request, limit: int) -> bytes:
    """Read an end-terminated input (a de-chunked body) until EOF or just past ``limit``."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = req.stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def read_raw_body(req: falcon.Request) -> bytes:
    """The request body as sent, read once and cached; larger than the limit is a 413.

    A body without ``Content-Length`` (``Transfer-Encoding: chunked``) is read to its end when
    the server de-chunks it and says so (``wsgi.input_terminated``, as gunicorn does). A chunked
    body on a server that cannot end it is refused with 411 rather than read as empty.
    """
    cached = getattr(req.context, "raw_body", None)
    if isinstance(cached, bytes):
        return cached
    limit = getattr(req.context, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    if req.content_length is not None:
        raw = req.bounded_stream.read(limit + 1)
    elif req.env.get("wsgi.input_terminated"):
        raw = _read_to_end(req, limit)
    elif "chunked" in (req.get_header("Transfer-Encoding") or "").lower():
        raise falcon.HTTPLengthRequired(
            title="Length required",
            description="Send the body with a Content-Length header.",
        )
    else:
        raw = b""
    if len(raw) > limit:
        raise _too_large(limit)
    req.context.raw_body = raw
    return raw


def is_json_media(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/*+json``."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _parse_int(text: str) -> int | Decimal:
    # A huge integer stays a Decimal (linear to build, and refused where an integer is expected)
    # so that a 100 kB digit string cannot cost quadratic time to convert.
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return Decimal(text)
    return int(text)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_json_value(raw: bytes) -> object:
    """Parse any JSON value the way the API reads bodies: numbers with a fraction or exponent
    become ``Decimal``, never float; ``NaN`` and ``Infinity`` are refused. Raises ``ValueError``
    (or ``RecursionError`` for absurd nesting)."""
    return json.loads(
        raw, parse_float=Decimal, parse_int=_parse_int, parse_constant=_refuse_constant
    )


def parse_json_object(raw: bytes) -> dict[str, object]:
    """Parse a JSON object; numbers with a fraction or exponent become ``Decimal``, never float."""
    try:
        data = parse_json_value(raw)
    except (ValueError, RecursionError):
        raise MalformedRequestError("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MalformedRequestError("The body must be a JSON object.")
    return data


def read_json_object(req: falcon.Request, *, optional: bool = False) -> dict[str, object]:
    """The body as a JSON object; an empty body is ``{}`` when ``optional``, else a 400."""
    raw = read_raw_body(req)
    if not raw.strip():
        if optional:
            return {}
        raise MalformedRequestError("This request needs a JSON object body.")
    if not is_json_media(req.content_type):
        raise MalformedRequestError(
            "Send the body as application/json.",
            errors=[FieldError("Content-Type", "must be application/json")],
        )
    return parse_json_object(raw)


def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


class Fields:
    """Typed reads of one JSON object's fields; each problem is collected under its dotted name.

    Unknown fields are ignored. ``null`` counts as absent. Call ``raise_for_errors`` once all
    fields were read, so that the caller hears about every bad field at once.
    """

    def __init__(
        self,
        data: Mapping[str, object],
        prefix: str = "",
        errors: list[FieldError] | None = None,
    ) -> None:
        self._data = data
        self._prefix = prefix
        self.errors: list[FieldError] = errors if errors is not None else []

    def error(self, name: str, message: str) -> None:
        """Record a problem with ``name`` (relative to this object)."""
        self.errors.append(FieldError(self._prefix + name, message))

    def _get(self, name: str, required: bool) -> object | None:
        value = self._data.get(name)
        if value is None and required:
            self.error(name, "is required")
        return value

    def text(
        self, name: str, *, required: bool = False, min_length: int = 0, max_length: int = 1000
    ) -> str | None:
        """A string field of ``min_length`` to ``max_length`` characters."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(name, "must be a string")
            return None
        if not min_length <= len(value) <= max_length:
            self.error(name, f"must be {min_length} to {max_length} characters")
            return None
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        """An integer field (a JSON number without fraction or exponent), within bounds."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(name, "must be an integer")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.error(name, f"must be {minimum} to {maximum}")
            return None
        return value

    def decimal_text(self, name: str, *, required: bool = False) -> str | None:
        """A decimal written as a string (``"8"``); a JSON number is refused, never converted."""
        value = self._get(name, required)
        if value is None:
            return None
        if _is_number(value):
            self.error(name, 'must be a string such as "8", not a JSON number')
            return None
        if (
            not isinstance(value, str)
            or not 1 <= len(value) <= MAX_NUMBER_TEXT
            or not is_plain_decimal(value)
        ):
            self.error(name, 'must be a decimal string such as "8" (digits, an optional point)')
            return None
        return value

    def money(self, name: str, *, required: bool = False, signed: bool = False) -> Money | None:
        """Money as ``{"amount": "79.99", "currency": "EUR"}``.

        The amount must be a plain decimal string: digits with an optional point and digits,
        a leading ``-`` only when ``signed``; exponents, spaces and numbers are refused.
        """
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error(name, 'must be an object such as {"amount": "79.99", "currency": "EUR"}')
            return None
        money = Fields(value, f"{self._prefix}{name}.", self.errors)
        amount = money._get("amount", True)
        currency = money._get("currency", True)
        if amount is not None and _is_number(amount):
            money.error("amount", 'must be a string such as "79.99", not a JSON number')
            amount = None
        elif amount is not None and (
            not isinstance(amount, str)
            or not 1 <= len(amount) <= MAX_NUMBER_TEXT
            or not is_plain_decimal(amount, signed=signed)
        ):
            money.error("amount", 'must be a decimal string such as "79.99" (no exponent or space)')
            amount = None
        if currency is not None and (not isinstance(currency, str) or len(currency) != 3):
            money.error("currency", "must be an ISO 4217 code such as EUR")
            currency = None
        if not isinstance(amount, str) or not isinstance(currency, str):
            return None
        try:
            return Money(amount, currency)
        except UnknownCurrencyError:
            money.error("currency", "must be an active ISO 4217 code such as EUR")
        except (InvalidAmountError, TypeError):
            money.error("amount", 'must be a decimal string such as "79.99"')
        return None

    def nested(self, name: str, *, required: bool = False) -> Fields | None:
        """An object field, read with the same error list under ``name.``."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error(name, "must be an object")
            return None
        return Fields(value, f"{self._prefix}{name}.", self.errors)

    def raise_for_errors(self) -> None:
        """Raise one ``ValidationError`` naming every bad field, if there was any."""
        if self.errors:
            raise ValidationError("The request body is invalid.", errors=self.errors)
