"""Sandbox actions at a Stripe-compatible API (localstripe, test mode), then a signed event."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import stripe

from payments.adapters.gateways.stripe import translate_stripe_error
from payments.domain.errors import (
    ConfigurationError,
    GatewayUnavailableError,
    InvalidTransitionError,
    NotFoundError,
    PaymentsError,
)
from payments.sandbox.delivery import Deliver, Delivery, SignedEvents
from payments.sandbox.stripe_simulator.objects import STRIPE_EVENTS, event_wire

__all__ = [
    "APPROVING_PAYMENT_METHOD",
    "DECLINING_PAYMENT_METHOD",
    "WEBHOOK_PATH",
    "StripeSandboxActions",
    "event_type_for",
]

WEBHOOK_PATH: Final = "/v1/webhooks/stripe"
# Stripe's test payment methods, known to Stripe's test mode and to localstripe alike.
APPROVING_PAYMENT_METHOD: Final = "pm_card_visa"
DECLINING_PAYMENT_METHOD: Final = "pm_card_chargeCustomerFail"  # card 4000000000000341

log = logging.getLogger(__name__)


def event_type_for(intent: Mapping[str, Any]) -> str | None:
    """The ``payment_intent.*`` event Stripe sends for a PaymentIntent in its current status,
    or None for a status that sends none (``requires_confirmation``, ``requires_capture``, a
    fresh ``requires_payment_method``)."""
    status = intent.get("status")
    if status == "requires_payment_method":
        return "payment_intent.payment_failed" if intent.get("last_payment_error") else None
    return {
        "succeeded": "payment_intent.succeeded",
        "canceled": "payment_intent.canceled",
        "processing": "payment_intent.processing",
        "requires_action": "payment_intent.requires_action",
    }.get(status if isinstance(status, str) else "")


class StripeSandboxActions:
    """Approve, decline or expire a PaymentIntent at the Stripe API the gateway talks to, as the
    payer or Stripe would, then deliver the matching Stripe-signed event to our endpoint.

    ``approve`` attaches ``pm_card_visa`` and confirms; ``decline`` attaches
    ``pm_card_chargeCustomerFail`` and confirms (the card is declined at charge); ``expire``
    cancels the intent. localstripe cannot confirm with a ``payment_method`` parameter, hence
    the update before each confirm. Whatever the API then says the intent is becomes the
    ``data.object`` of an Event signed with every ``webhook_secrets`` (one ``v1`` each, as
    Stripe signs while a secret is rolled), so the action works against any fake, whether or
    not it delivers webhooks itself (localstripe's own delivery of the same change, when one is
    registered, is a second event id for the same intent: our inbox applies it as a no-op).

    Raises ``NotFoundError`` for an intent the API does not know, ``InvalidTransitionError``
    when the API refuses the action in the intent's state, and the gateway's translation of any
    other Stripe error. ``sent`` lists every event delivered, for tests.
    """

    def __init__(
        self,
        client: stripe.StripeClient,
        webhook_secrets: Sequence[str],
        deliver: Deliver,
        *,
        api_version: str | None = None,
        clock: Callable[[], float] = time.time,
        webhook_path: str = WEBHOOK_PATH,
    ) -> None:
        if isinstance(webhook_secrets, str) or not webhook_secrets:
            raise ConfigurationError("Stripe sandbox events need the webhook secrets to sign.")
        self._client = client
        self._api_version = api_version or stripe.api_version
        self._clock = clock
        self._events = SignedEvents(
            STRIPE_EVENTS, webhook_secrets, deliver, webhook_path=webhook_path, clock=clock
        )

    @property
    def sent(self) -> list[Delivery]:
        """Every event delivered, in order (for tests)."""
        return self._events.deliveries

    def approve(self, intent_id: str) -> dict[str, object]:
        """The payer confirms with a good card; delivers ``payment_intent.succeeded``."""
        intent = self._act("approve", lambda: self._confirm(intent_id, APPROVING_PAYMENT_METHOD))
        return self._send(intent)

    def decline(self, intent_id: str) -> dict[str, object]:
        """The payer's card is declined at charge; delivers ``payment_intent.payment_failed``
        with the intent as the API left it (``last_payment_error.code`` ``card_declined``)."""

        def declined() -> object:
            try:
                return self._confirm(intent_id, DECLINING_PAYMENT_METHOD)
            except stripe.CardError:
                # The decline we asked for; the intent now carries last_payment_error.
                return self._client.v1.payment_intents.retrieve(intent_id)

        return self._send(self._act("decline", declined))

    def expire(self, intent_id: str) -> dict[str, object]:
        """The payer never pays: the intent is canceled; delivers ``payment_intent.canceled``."""
        intent = self._act("expire", lambda: self._client.v1.payment_intents.cancel(intent_id))
        return self._send(intent)

    # -- I/O -----------------------------------------------------------------------------------

    def _confirm(self, intent_id: str, payment_method: str) -> object:
        self._client.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
        return self._client.v1.payment_intents.confirm(intent_id)

    def _act(self, action: str, call: Callable[[], object]) -> Mapping[str, Any]:
        """Run one action's SDK calls; the intent it leaves, or a domain error."""
        operation = f"sandbox_{action}"
        try:
            answer = call()
        except stripe.InvalidRequestError as error:
            details: dict[str, object] = {"operation": operation}
            if error.code:
                details["stripe_code"] = error.code
            if error.http_status == 404:
                raise NotFoundError("Stripe has no such PaymentIntent.", details=details) from error
            raise InvalidTransitionError(
                f"Stripe refused to {action} the PaymentIntent in its current state.",
                details=details,
            ) from error
        except stripe.StripeError as error:
            raise translate_stripe_error(error, operation=operation) from error
        except PaymentsError:
            raise
        except Exception as error:
            log.exception("stripe sandbox %s failed unexpectedly", action)
            raise GatewayUnavailableError(
                "Stripe's client failed unexpectedly.", details={"operation": operation}
            ) from error
        data = answer.to_dict() if isinstance(answer, stripe.StripeObject) else None
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
            raise GatewayUnavailableError(
                f"Stripe answered the sandbox {action} without a PaymentIntent.",
                details={"operation": operation},
            )
        return data

    def _send(self, intent: Mapping[str, Any]) -> dict[str, object]:
        event_type = event_type_for(intent)
        if event_type is None:
            raise InvalidTransitionError(
                "Stripe left the PaymentIntent in a status that sends no event.",
                details={"status": intent.get("status")},
            )
        event_id = f"evt_{secrets.token_hex(12)}"
        event = event_wire(
            event_id,
            event_type,
            dict(intent),
            api_version=self._api_version,
            created=int(self._clock()),
        )
        body = json.dumps(event).encode("utf-8")
        return self._events.send(event_id, event_type, body)
