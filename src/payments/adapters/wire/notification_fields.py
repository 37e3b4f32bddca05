"""Reading the fields of a provider's notification, refusing it as malformed when one is bad."""

from __future__ import annotations

from collections.abc import Mapping

from payments.domain.errors import MalformedNotificationError

__all__ = ["required_int", "required_text"]


def required_text(data: Mapping[str, object], key: str, *, what: str) -> str:
    """The non-empty string ``data[key]`` of a notification (``what`` names it in the message),
    or ``MalformedNotificationError``."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedNotificationError(f"{what} has no {key}.")
    return value


def required_int(data: Mapping[str, object], key: str, *, what: str) -> int:
    """The integer ``data[key]`` of a decoded JSON notification (never a bool, a float or a
    numeric string), or ``MalformedNotificationError``."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedNotificationError(f"{what}'s {key} is not an integer.")
    return value
