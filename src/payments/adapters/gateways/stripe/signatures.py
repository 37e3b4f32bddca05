"""Stripe's ``Stripe-Signature`` webhook header, signed and verified by the shared wire module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from payments.adapters.wire import webhook_signing

__all__ = ["SIGNATURE_HEADER", "sign_payload", "verify_signature"]

SIGNATURE_HEADER: Final = "Stripe-Signature"


def verify_signature(
    header: str | None, body: bytes, secrets: Sequence[str], now: float, tolerance: int
) -> None:
    """Check a ``Stripe-Signature`` header against the raw body, as Stripe documents it.

    The header is ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` plus schemes we ignore (``v0``
    and anything else, against downgrades); the expected value is hex HMAC-SHA256 keyed with the
    whole secret (``whsec_`` included) over ``"<t>." + body``, and any ``v1`` matching any
    secret passes, so secrets can be rotated. Unlike stripe-python, the timestamp must be within
    ``tolerance`` seconds of ``now`` in both directions. Raises ``InvalidSignatureError``
    otherwise (see ``webhook_signing.verify``); never passes without a secret.
    """
    webhook_signing.verify(
        header, body, secrets, now=now, tolerance=tolerance, name=SIGNATURE_HEADER
    )


def sign_payload(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """The ``Stripe-Signature`` value Stripe sends with ``body`` at ``timestamp``:
    ``t=<timestamp>,v1=<hex>``, with one ``v1`` per secret (as Stripe signs while a secret is
    rolled). Raises ``ConfigurationError`` without a secret or with an empty one."""
    return webhook_signing.signature_header(secrets, timestamp, body)
