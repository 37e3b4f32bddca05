"""Request bodies: raw bytes read once within the size limit, decoded into their Structs."""

from __future__ import annotations

import json
import types
from decimal import Decimal
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import falcon
import msgspec

from payments.domain.errors import (
    FieldError,
    InvalidAmountError,
    MalformedRequestError,
    UnknownCurrencyError,
    ValidationError,
)
from payments.domain.money import Money
from payments.domain.text import unstorable_fields
from payments.entrypoints.http import bodies

DEFAULT_MAX_BODY_BYTES = 1_048_576
MAX_INT_DIGITS = 30
_READ_CHUNK = 65_536


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


Body = TypeVar("Body", bound=msgspec.Struct)
_Fields = dict[str, msgspec.Raw]


def _struct_in(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct a field holds (``Money`` of ``Money | None``), or None for a plain value."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        found = [s for a in get_args(annotation) if (s := _struct_in(a)) is not None]
        return found[0] if len(found) == 1 else None
    return None


def _message(annotation: Any, error: msgspec.ValidationError) -> str:
    """What a refusal of one field says: its ``Meta.extra`` message, else msgspec's words."""
    for part in (annotation, *get_args(annotation)):
        if get_origin(part) is Annotated:
            for meta in get_args(part)[1:]:
                if isinstance(meta, msgspec.Meta) and meta.extra and "message" in meta.extra:
                    return str(meta.extra["message"])
    text = str(error).split(" - at `", 1)[0]
    return text[:1].lower() + text[1:]


def _collect(model: type[msgspec.Struct], raw: _Fields, prefix: str) -> list[FieldError]:
    """Every bad field of one object (the decoder stops at the first), under dotted names.

    ``null`` counts as absent; unknown fields are ignored, as the decoder does.
    """
    errors: list[FieldError] = []
    for field in msgspec.structs.fields(model):
        name = prefix + field.encode_name
        value = raw.get(field.encode_name)
        if value is None or bytes(value).strip() == b"null":
            if field.required:
                errors.append(FieldError(name, "is required"))
            continue
        nested = _struct_in(field.type)
        try:
            if nested is None:
                msgspec.json.decode(value, type=field.type)
                continue
            inner = msgspec.json.decode(value, type=_Fields)
        except msgspec.ValidationError as error:
            errors.append(FieldError(name, _message(field.type, error)))
            continue
        errors.extend(_collect(nested, inner, name + "."))
    return errors


_UNSTORABLE = "must be valid text without NUL characters"


def _unstorable_errors(value: object, *, besides: frozenset[str] = frozenset()) -> list[FieldError]:
    """One error per field (not among ``besides``) whose text no database can store."""
    names = sorted(set(unstorable_fields(value)) - besides)
    return [FieldError(name, _UNSTORABLE) for name in names]


def _refuse_unstorable(value: object) -> None:
    """A 422 naming every field whose text no database can store (NUL, lone surrogates)."""
    errors = _unstorable_errors(value)
    if errors:
        raise ValidationError("The request body is invalid.", errors=errors)


def _unstorable_json(raw: bytes) -> None:
    """A body msgspec cannot read may be JSON holding a lone surrogate (``"\\ud800"``): refuse
    that as the field it is in (422); anything else is left to the caller (400)."""
    try:
        value = parse_json_value(raw)
    except (ValueError, RecursionError):
        return
    _refuse_unstorable(value)


def _plainly_storable(raw: bytes) -> bool:
    """Whether every text in JSON ``raw`` is storable without looking: ASCII without a NUL
    byte or a ``\\u`` escape cannot hold a NUL or a lone surrogate."""
    return raw.isascii() and b"\x00" not in raw and b"\\u" not in raw


def decode_body(raw: bytes, model: type[Body]) -> Body:
    """A JSON object decoded and validated by its Struct.

    Not JSON, or not an object, is ``MalformedRequestError`` (400); a bad field is a
    ``ValidationError`` (422) naming every bad field at once, text no database can store (NUL,
    lone surrogates) included: every body is checked here, once, for every route.
    """
    try:
        body = msgspec.json.decode(raw, type=model)
    except msgspec.ValidationError:
        pass
    except RecursionError:
        raise MalformedRequestError("The body is nested too deeply.") from None
    except msgspec.DecodeError:
        _unstorable_json(raw)
        raise MalformedRequestError("The body is not valid JSON.") from None
    else:
        if not _plainly_storable(raw):
            _refuse_unstorable(msgspec.to_builtins(body))
        return body
    try:
        fields = msgspec.json.decode(raw, type=_Fields)
    except msgspec.ValidationError:
        raise MalformedRequestError("The body must be a JSON object.") from None
    except msgspec.DecodeError:  # a field refused before the malformed rest was reached
        raise MalformedRequestError("The body is not valid JSON.") from None
    errors = _collect(model, fields, "")
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.ValidationError, RecursionError):  # its field is already named
        value = None
    errors += _unstorable_errors(value, besides=frozenset(error.field for error in errors))
    raise ValidationError("The request body is invalid.", errors=errors)


def read_body(req: falcon.Request, model: type[Body], *, optional: bool = False) -> Body:
    """The body decoded by ``model``; an empty body is ``{}`` when ``optional``, else a 400."""
    raw = read_raw_body(req)
    if not raw.strip():
        if optional:
            return decode_body(b"{}", model)
        raise MalformedRequestError("This request needs a JSON object body.")
    if not is_json_media(req.content_type):
        raise MalformedRequestError(
            "Send the body as application/json.",
            errors=[FieldError("Content-Type", "must be application/json")],
        )
    return decode_body(raw, model)


def to_money(value: bodies.Money, field: str) -> Money:
    """The domain's Money of a decoded amount; an unknown currency is a 422 naming it."""
    try:
        return Money(value.amount, value.currency)
    except UnknownCurrencyError as error:
        message = "must be an active ISO 4217 code such as EUR"
        raise ValidationError(
            "The request body is invalid.", errors=[FieldError(f"{field}.currency", message)]
        ) from error
    except InvalidAmountError as error:
        message = 'must be a decimal string such as "79.99"'
        raise ValidationError(
            "The request body is invalid.", errors=[FieldError(f"{field}.amount", message)]
        ) from error
