"""Wompi's two SHA-256 strings: the integrity signature we send, the event checksum we check.

Neither is an HMAC (reference §3.4, §3.5): the secret is appended to the text before hashing.
The events page of Wompi's docs prints a checksum that its own example does not produce
(§0 trap 1): the algorithm is tested, never that digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from payments.adapters.wire.digests import hex_digest, same_hex_digest
from payments.adapters.wire.notification_fields import required_int
from payments.domain.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedNotificationError,
)

__all__ = [
    "event_checksum",
    "integrity_signature",
    "property_value",
    "verify_event_checksum",
]

_MAX_PROPERTIES: Final = 32


def integrity_signature(
    *,
    reference: str,
    amount_in_cents: int,
    currency: str,
    integrity_secret: str,
    expiration_time: str | None = None,
) -> str:
    """The ``signature`` (``signature:integrity``) of a transaction or checkout: lower-case hex
    SHA-256 of ``<reference><amount_in_cents><currency>[<expiration_time>]<integrity secret>``
    (reference §3.4). ``amount_in_cents`` is rendered in plain digits (``4490000``, never
    ``4.490.000``); ``expiration_time`` is the ISO 8601 UTC text exactly as sent. Raises
    ``ConfigurationError`` without a secret."""
    if not integrity_secret:
        raise ConfigurationError("A Wompi integrity signature needs the integrity secret.")
    if isinstance(amount_in_cents, bool) or not isinstance(amount_in_cents, int):
        raise TypeError(f"amount_in_cents is an int, not {type(amount_in_cents).__name__}.")
    text = f"{reference}{amount_in_cents:d}{currency}{expiration_time or ''}{integrity_secret}"
    return hex_digest("sha256", text)


def property_value(data: Mapping[str, object], path: str) -> str:
    """The text a ``signature.properties`` path contributes: the value at the dotted ``path``
    inside the event's ``data`` (``transaction.id`` -> ``data["transaction"]["id"]``), a string
    as is or an integer in decimal (reference §3.5 step 1).

    Raises ``MalformedNotificationError`` when the path does not lead to a string or an integer
    (how Wompi renders a null, a boolean or a decimal is not documented, so none is guessed).
    """
    value: object = data
    for name in path.split("."):
        if not isinstance(value, Mapping) or name not in value:
            raise MalformedNotificationError(f"The Wompi event has no data.{path}.")
        value = value[name]
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedNotificationError(f"data.{path} is neither a string nor an integer.")


def event_checksum(
    data: Mapping[str, object], properties: Sequence[str], timestamp: int, events_secret: str
) -> str:
    """The checksum of an event: lower-case hex SHA-256 of the values of ``properties`` read
    from ``data`` in order (``property_value``), then ``timestamp`` in decimal, then the events
    secret, with no separators (reference §3.5). What a simulator signs with."""
    if isinstance(properties, str):
        raise TypeError("properties is a sequence of paths, not one string.")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise MalformedNotificationError("The Wompi event's timestamp is not an integer.")
    values = "".join(property_value(data, path) for path in properties)
    return hex_digest("sha256", f"{values}{timestamp:d}{events_secret}")


def _signature(event: Mapping[str, object]) -> tuple[list[str], str | None]:
    """The ``signature.properties`` and ``signature.checksum`` of an event."""
    signature = event.get("signature")
    if not isinstance(signature, Mapping):
        raise MalformedNotificationError("The Wompi event has no signature object.")
    properties = signature.get("properties")
    if (
        not isinstance(properties, list)
        or not properties
        or len(properties) > _MAX_PROPERTIES
        or not all(isinstance(path, str) and path for path in properties)
    ):
        raise MalformedNotificationError("The Wompi event's signature.properties is invalid.")
    checksum = signature.get("checksum")
    return properties, checksum if isinstance(checksum, str) and checksum else None


def verify_event_checksum(
    event: Mapping[str, object], *, events_secret: str, header_checksum: str | None = None
) -> None:
    """Check a decoded event against the events secret (reference §3.5).

    The properties are always read from the event ("Los properties pueden variar"). The
    checksum is taken from ``signature.checksum`` and from the ``X-Event-Checksum`` header
    (``header_checksum``): at least one must be present and every one present must match,
    compared in constant time and in any letter case. There is no timestamp tolerance: Wompi
    redelivers an event up to 24 hours later (reference §3.5), and duplicates are the inbox's
    job. Raises ``InvalidSignatureError`` without a secret or a checksum, or on a mismatch;
    ``MalformedNotificationError`` when the signed parts cannot be read.
    """
    if not events_secret:
        raise InvalidSignatureError("No Wompi events secret is configured: nothing is verified.")
    properties, body_checksum = _signature(event)
    candidates = [value for value in (body_checksum, header_checksum) if value]
    if not candidates:
        raise InvalidSignatureError("The Wompi event carries no checksum.")
    data = event.get("data")
    if not isinstance(data, Mapping):
        raise MalformedNotificationError("The Wompi event has no data object.")
    timestamp = required_int(event, "timestamp", what="The Wompi event")
    expected = event_checksum(data, properties, timestamp, events_secret)
    matches = [same_hex_digest(expected, candidate) for candidate in candidates]
    if not all(matches):
        raise InvalidSignatureError("The Wompi event checksum does not match.")
