"""The sandbox provider's ``Sandbox-Signature`` header, signed and verified by the wire module."""

from __future__ import annotations

from typing import Final

from payments.adapters.gateways.sandbox.settings import DEFAULT_TOLERANCE
from payments.adapters.wire import webhook_signing

__all__ = ["SIGNATURE_HEADER", "signature_header", "verify_signature"]

SIGNATURE_HEADER: Final = "Sandbox-Signature"


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Sandbox-Signature`` value a sender puts on ``body``: ``t=<timestamp>,v1=<hex>``."""
    return webhook_signing.signature_header([secret], timestamp, body)


def verify_signature(
    header: str | None,
    body: bytes,
    secret: str,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE,
) -> int:
    """Check a ``Sandbox-Signature`` header against the raw body; returns its timestamp.

    Stripe's scheme, strictly parsed (an item without ``=`` or a second timestamp is
    malformed). Raises ``InvalidSignatureError`` when the header is missing or malformed, when
    no ``v1`` value matches (compared in constant time) or when the timestamp is more than
    ``tolerance`` seconds away from ``now``, in the past or in the future.
    """
    return webhook_signing.verify(
        header, body, [secret], now=now, tolerance=tolerance, name=SIGNATURE_HEADER
    )
