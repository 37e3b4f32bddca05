"""Provider notification bodies parsed with limits: size, nesting depth and number length.

Every provider's events module reads its (verified) bodies here, so an absurd body is one
``MalformedNotificationError`` (400) whatever the provider: never a ``RecursionError`` or the
quadratic cost of converting a 100 kB digit string.
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
    try:
        value = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as error:
        raise MalformedNotificationError(f"A {provider} notification must be JSON.") from error
    problem = _problem(value)
    if problem is not None:
        raise MalformedNotificationError(f"A {provider} notification {problem}.")
    return value
