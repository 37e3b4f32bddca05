"""Provider notification bodies parsed with limits: size, nesting depth and number length.

Every provider's events module reads its (verified) bodies here, so an absurd body is one
``MalformedNotificationError`` (400) whatever the provider: never a ``RecursionError`` or the
quadratic cost of converting a 100 kB digit string.

A body that cannot break a limit (no more brackets than the depth allows, no run of digits as
long as an integer beyond 64 bits) is decoded once with the number check in the decoder's float
hook, and nothing walks the decoded value afterwards (for a Stripe event of 2 kB the walk
cost five times the decoding). Any other body takes the exact path, so the answer and its
message never depend on which path read it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import msgspec

from payments.domain.errors import MalformedNotificationError

MAX_NOTIFICATION_BYTES: Final = 1_048_576
"""A notification body larger than this is refused (providers send a few kB)."""

MAX_DEPTH: Final = 32
"""Objects and lists nested deeper than this are refused (Stripe's events nest about 6 deep)."""

# A number with a fraction is a Decimal, never a float: money never passes through float.
_DECODER: Final = msgspec.json.Decoder(float_hook=Decimal)


MAX_INTEGER_BITS: Final = 64
"""A JSON integer needing more bits than this is refused (amounts and times fit in 64)."""

MAX_DECIMAL_EXPONENT: Final = 30
"""A number with a fraction whose magnitude is beyond 10**±30 is refused (``1e999``)."""

_DIGITS_AS_ZEROS: Final = bytes.maketrans(b"123456789", b"0" * 9)
_LONG_DIGIT_RUN: Final = b"0" * 20
"""The fewest digits an integer needing more than ``MAX_INTEGER_BITS`` bits is written with."""


class _NumberOutOfRangeError(ValueError):
    """Raised by the screening decoder's float hook; the exact path then names the problem."""


def _bounded_decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite() or abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise _NumberOutOfRangeError(text)
    return value


_SCREENING_DECODER: Final = msgspec.json.Decoder(float_hook=_bounded_decimal)


def _cannot_break_limits(body: bytes) -> bool:
    """True when no value in ``body`` can nest too deeply or hold an integer too long, whatever
    the JSON says: each nesting level takes a bracket, and such an integer 20 digits in a row.
    (Brackets and digits inside strings only send a body down the exact path.)"""
    brackets = body.count(b"{") + body.count(b"[")
    return brackets <= MAX_DEPTH and _LONG_DIGIT_RUN not in body.translate(_DIGITS_AS_ZEROS)


def _problem(value: object) -> str | None:
    """What makes a decoded body unusable (too deep, an integer too long), without recursion."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, int) and item.bit_length() > MAX_INTEGER_BITS:
            return "holds an integer too long"
        if isinstance(item, Decimal) and (
            not item.is_finite() or abs(item.adjusted()) > MAX_DECIMAL_EXPONENT
        ):
            return "holds a number out of range"
        if isinstance(item, dict | list):
            if depth + 1 > MAX_DEPTH:
                return "is nested too deeply"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def parse_notification(body: bytes, provider: str) -> object:
    """The JSON value of a notification body, parsed with limits.

    Integers must fit in ``MAX_INTEGER_BITS`` (msgspec refuses a digit string too long to
    convert), text must be valid Unicode (a lone surrogate is refused), ``NaN`` and ``Infinity``
    are not JSON. Raises ``MalformedNotificationError`` naming ``provider`` for a body that is
    too large, nested more than ``MAX_DEPTH`` deep, or not such JSON.
    """
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise MalformedNotificationError(f"A {provider} notification is too large.")
    if _cannot_break_limits(body):
        try:
            return _SCREENING_DECODER.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError, _NumberOutOfRangeError):
            pass  # not JSON, or a number out of range: the exact path says which, as always
    try:
        value = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as error:
        raise MalformedNotificationError(f"A {provider} notification must be JSON.") from error
    problem = _problem(value)
    if problem is not None:
        raise MalformedNotificationError(f"A {provider} notification {problem}.")
    return value
