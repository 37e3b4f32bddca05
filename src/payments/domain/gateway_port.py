"""The gateway port: one payment provider behind the domain's vocabulary (``ports`` re-exports
it with the other ports)."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Mapping

from payments.domain import gateway
from payments.domain.errors import UnsupportedByGatewayError
from payments.domain.purchase import GatewayObservation


class PaymentGateway(abc.ABC):
    """One payment provider behind the domain's vocabulary. No provider type crosses this port.

    Errors: ``PaymentDeclinedError`` (with the provider code), ``GatewayUnavailableError``
    (retryable; ``charged_possible`` says whether the provider may have acted),
    ``GatewayConfigurationError`` (credentials or setup: never retry), ``InvalidSignatureError``
    and ``MalformedNotificationError`` for notifications.
    """

    name: str
    capabilities: gateway.GatewayCapabilities

    @abc.abstractmethod
    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        """Create the payment at the provider; safe to repeat with the same idempotency key."""

    @abc.abstractmethod
    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """What the provider knows now about our ``reference`` (None: it has never seen it)."""

    @abc.abstractmethod
    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Cancel an uncaptured payment; returns what the provider says the payment is now."""

    @abc.abstractmethod
    def refund(self, request: gateway.RefundRequest) -> gateway.RefundResult:
        """Give back ``request.amount`` of a captured payment; safe to repeat with the same key."""

    @abc.abstractmethod
    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> gateway.Notification:
        """Verify a delivered notification's signature against its raw body, then translate it.

        ``headers`` are the delivery's headers with lower-case names, ``body`` the exact bytes
        received. Raises ``InvalidSignatureError`` when the signature is missing, malformed, made
        with another secret or too old (or too far in the future), and
        ``MalformedNotificationError`` when a genuine body is not a notification this provider
        documents. Never translates a body it could not verify.
        """

    @abc.abstractmethod
    def parse_stored_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> gateway.Notification:
        """Translate a notification that was verified when it was stored (a retry or a replay).

        The signature is not checked again: its timestamp is stale by now, and the secret may
        have been rotated since. Only for bodies that ``verify_notification`` accepted before.
        Raises ``MalformedNotificationError`` for a body that is not a notification.
        """

    def save_payment_method(self, request: gateway.SaveMethodRequest) -> gateway.SavedPaymentMethod:
        """Keep the payer's method at the provider for off-session charges.

        Only gateways whose ``capabilities.saved_methods`` is True override this; the others
        refuse with ``UnsupportedByGatewayError`` before any I/O. A token the provider refuses
        is a ``ValidationError`` (or ``PaymentDeclinedError`` when the card is refused).
        """
        raise UnsupportedByGatewayError(f"{self.name} cannot keep a payment method.")

    def charge_saved_method(self, request: gateway.OffSessionCharge) -> gateway.PaymentStart:
        """Charge a saved method now, without the payer; the start's ``observation`` tells the
        outcome when the provider answered it at once. A decline raises
        ``PaymentDeclinedError``. Safe to repeat with the same idempotency key."""
        raise UnsupportedByGatewayError(f"{self.name} cannot charge a saved payment method.")

    def banks(self, country: str) -> builtins.list[gateway.Bank]:
        """The institutions a payer can choose for a bank transfer in ``country`` (PSE).

        Gateways without bank transfers answer an empty list; those with them override this.
        """
        return []
