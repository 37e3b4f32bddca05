"""The sandbox provider's names and the payment methods it serves."""

from __future__ import annotations

from typing import Final

from payments.adapters.wire import webhook_signing

__all__ = ["DEFAULT_TOLERANCE", "GATEWAY_NAME", "PAYMENT_METHODS", "REDIRECT_METHODS"]

GATEWAY_NAME: Final = "sandbox"
DEFAULT_TOLERANCE: Final = webhook_signing.DEFAULT_TOLERANCE
PAYMENT_METHODS: Final = frozenset({"card", "pse", "nequi", "bank_transfer", "cash"})
REDIRECT_METHODS: Final = frozenset({"pse", "bank_transfer"})
"""The methods whose payer is sent to the provider's checkout page rather than given a secret."""
