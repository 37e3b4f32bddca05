"""Timestamped HMAC webhook signatures (``t=<unix>,v1=<hex>``), signed and verified in one place.

The scheme is Stripe's and ours (the sandbox and merchant webhooks): the signed payload is
``"<t>." + body``, the signature hex HMAC-SHA256 keyed with the whole secret. A header may carry
several ``v1`` values (one per secret while a secret is rotated) and schemes we ignore (``v0``
and anything else, against downgrades). Verification is strict: an item without ``=``, no
timestamp or more than one, a timestamp that is not 1 to 15 digits, or no ``v1`` is malformed.
Every candidate is compared with every secret in constant time, and the timestamp must lie
within the tolerance on both sides of now: a future timestamp is as suspicious as a stale one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from payments.domain.errors import ConfigurationError, InvalidSignatureError

DEFAULT_TOLERANCE: Final = 300
"""Seconds a signature's timestamp may be away from now, either way (Stripe's default)."""

MAX_HEADER_LENGTH: Final = 4096
"""A longer header is refused before any HMAC is computed (a few rotated secrets fit easily)."""

MAX_SIGNATURES: Final = 8
"""At most this many ``v1`` values are checked: each costs one HMAC per secret."""

_TIMESTAMP: Final = re.compile(r"[0-9]{1,15}")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>." + body`` keyed with the whole secret."""
    return hmac.new(secret.encode("utf-8"), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header value a sender puts on ``body``: ``t=<timestamp>,v1=<hex>``, one ``v1`` per
    secret. Raises ``ConfigurationError`` without a secret or with an empty one."""
    if isinstance(secrets, str) or not secrets or any(not secret for secret in secrets):
        raise ConfigurationError("Signing a webhook needs at least one non-empty secret.")
    values = [sign(secret, timestamp, body) for secret in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={value}" for value in values)])


def parse_header(header: str, name: str) -> tuple[int, list[bytes]]:
    """The timestamp and the ``v1`` values of a signature header named ``name`` (for messages).

    Raises ``InvalidSignatureError`` for a malformed header."""
    if len(header) > MAX_HEADER_LENGTH:
        raise InvalidSignatureError(f"The {name} header is too long.")
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for item in header.split(","):
        scheme, separator, value = item.strip().partition("=")
        if not separator:
            raise InvalidSignatureError(f"The {name} header is malformed.")
        if scheme == "t":
            timestamps.append(value)
        elif scheme == "v1":
            # As bytes: a non-ASCII value is a mismatch, never a TypeError in compare_digest.
            signatures.append(value.encode("utf-8", "replace"))
    if len(timestamps) != 1 or _TIMESTAMP.fullmatch(timestamps[0]) is None:
        raise InvalidSignatureError(f"The {name} header has no valid timestamp.")
    if not signatures:
        raise InvalidSignatureError(f"The {name} header has no v1 signature.")
    if len(signatures) > MAX_SIGNATURES:
        raise InvalidSignatureError(f"The {name} header has too many signatures.")
    return int(timestamps[0]), signatures


def verify(
    header: str | None,
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE,
    name: str = "signature",
) -> int:
    """Check a signature header against the raw body; returns the signed timestamp.

    Any ``v1`` matching any secret passes (secrets can be rotated). Raises
    ``InvalidSignatureError`` for a missing or malformed header, no match, or a timestamp more
    than ``tolerance`` seconds from ``now``; never passes without a non-empty secret. ``name`` is
    the header's name, used in the messages.
    """
    if isinstance(secrets, str):
        raise TypeError("secrets is a sequence of secrets, not one string.")
    if tolerance <= 0:
        raise ValueError("A tolerance of 0 or less would disable the timestamp check.")
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise InvalidSignatureError("No secret is configured: nothing can be verified.")
    if not header:
        raise InvalidSignatureError(f"The {name} header is missing.")
    timestamp, signatures = parse_header(header, name)
    matched = False
    for secret in usable:
        expected = sign(secret, timestamp, body).encode()
        for candidate in signatures:
            # Every comparison runs (no early exit), each in constant time.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignatureError(f"No {name} v1 value matches the payload.")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignatureError(f"The {name} timestamp is outside the tolerance.")
    return timestamp


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of the header ``name`` whatever the case of its name (the port passes
    lower-case names; a direct caller may not)."""
    lowered = name.lower()
    value = headers.get(lowered)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """How one provider's notifications are verified: the header that carries the signature,
    the secrets that may have made it, and the clock and tolerance its timestamp is held to."""

    header: str
    secrets: Sequence[str]
    clock: Callable[[], float]
    tolerance: int = DEFAULT_TOLERANCE

    def verify(self, headers: Mapping[str, str], body: bytes) -> int:
        """``verify`` the header found among ``headers`` (in any case) against the raw body, at
        ``clock()``; returns the signed timestamp or raises ``InvalidSignatureError``."""
        return verify(
            header_value(headers, self.header),
            body,
            self.secrets,
            now=self.clock(),
            tolerance=self.tolerance,
            name=self.header,
        )
