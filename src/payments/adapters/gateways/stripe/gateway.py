"""StripeGateway: the PaymentGateway port's calls made through stripe-python, and nothing else."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import stripe

from payments.adapters.gateways.stripe.amounts import stripe_amount_steps, to_stripe_amount
from payments.adapters.gateways.stripe.client import recorded_attempts
from payments.adapters.gateways.stripe.errors import translate_stripe_error
from payments.adapters.gateways.stripe.events import (
    ShapeError,
    notification_from_body,
    observation_from_intent,
    refund_result,
)
from payments.adapters.gateways.stripe.params import (
    customer_params,
    off_session_intent_params,
    payment_intent_params,
    refund_params,
)
from payments.adapters.gateways.stripe.settings import (
    DEFAULT_TOLERANCE,
    GATEWAY_NAME,
    PaymentMethodsParam,
)
from payments.adapters.gateways.stripe.signatures import SIGNATURE_HEADER
from payments.adapters.wire import webhook_signing
from payments.domain import gateway
from payments.domain.errors import (
    ConfigurationError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    PaymentsError,
)
from payments.domain.next_action import ClientSecretAction
from payments.domain.ports import PaymentGateway
from payments.domain.purchase import GatewayObservation, ObservationSource

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams

__all__ = ["StripeGateway"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

Recover = Callable[[stripe.InvalidRequestError, PaymentsError], _T]
"""Turns a refusal (and its translation) into an answer, or raises the translation."""


class StripeGateway(PaymentGateway):
    """Card payments through Stripe PaymentIntents, refunds and signed webhooks.

    All I/O goes through the ``stripe.StripeClient`` it is given (build it with
    ``make_stripe_client`` for timeouts, SDK retries that keep the idempotency key, and exact
    ``charged_possible``). ``webhook_secrets`` are every endpoint secret currently valid (more
    than one while rotating); ``clock`` and ``tolerance`` drive the signature's recency check.
    ``payment_methods_param`` names the create parameter that limits an intent to cards (see
    ``PaymentMethodsParam``: keep the default with the API version stripe-python 16 pins, use
    ``"payment_method_types"`` against localstripe or an account pinned before 2026-09-30).
    Every stripe-python exception is translated at this boundary.
    """

    name = GATEWAY_NAME

    def __init__(
        self,
        client: stripe.StripeClient,
        webhook_secrets: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
        tolerance: int = DEFAULT_TOLERANCE,
        publishable_key: str | None = None,
        payment_methods_param: PaymentMethodsParam = "allowed_payment_method_types",
    ) -> None:
        if isinstance(webhook_secrets, str):
            raise ConfigurationError("Pass the Stripe webhook secrets as a list, not one string.")
        secrets = tuple(webhook_secrets)
        if not secrets or any(not s or not s.strip() for s in secrets):
            raise ConfigurationError(
                "Stripe needs at least one non-empty webhook secret: notifications could not "
                "be verified."
            )
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance <= 0:
            raise ConfigurationError("The Stripe signature tolerance must be a positive number.")
        if payment_methods_param not in ("allowed_payment_method_types", "payment_method_types"):
            raise ConfigurationError(
                f"Unknown payment methods parameter {payment_methods_param!r}."
            )
        self._client = client
        self._signatures = webhook_signing.SignatureCheck(
            SIGNATURE_HEADER, secrets, clock, tolerance
        )
        self._publishable_key = publishable_key
        self._methods_param = payment_methods_param
        self.capabilities = gateway.GatewayCapabilities(
            currencies=None,
            countries=None,
            payment_methods=frozenset({"card"}),
            refunds=True,
            partial_refunds=True,
            cancel=True,
            authoritative_lookup=False,  # no search by our reference: see lookup()
            amount_steps=stripe_amount_steps(),
            saved_methods=True,
        )

    # -- I/O helpers ---------------------------------------------------------------------------

    def _call(
        self, operation: str, call: Callable[[], _T], recover: Recover[_T] | None = None
    ) -> _T:
        """Run one SDK call; every exception leaves translated into the domain's.

        ``recover`` may turn an ``InvalidRequestError`` into an answer (or raise a domain error).
        Anything else the SDK raises (it trips over some malformed error bodies) becomes a
        ``GatewayUnavailableError`` that may have charged.
        """
        with recorded_attempts() as attempts:
            try:
                return call()
            except stripe.StripeError as error:
                refusal = translate_stripe_error(
                    error, operation=operation, attempts=list(attempts) or None
                )
                if recover is None or not isinstance(error, stripe.InvalidRequestError):
                    raise refusal from error
                return recover(error, refusal)
            except PaymentsError:
                raise
            except Exception as error:
                log.exception("stripe %s failed unexpectedly", operation)
                raise GatewayUnavailableError(
                    "Stripe's client failed unexpectedly.",
                    charged_possible=True,
                    details={"operation": operation},
                ) from error

    @staticmethod
    def _answer_data(
        answer: object, operation: str, what: str, *, charged_possible: bool = True
    ) -> Mapping[str, Any]:
        """The JSON object of a Stripe answer, which must be an object with a string ``id``.

        A 200 whose body is a list, a string, a number or null reaches us as that Python value,
        not a ``StripeObject``; it is a ``GatewayUnavailableError`` (``charged_possible`` as
        the caller says: whether the call may have acted at Stripe), never a raw error or None.
        """
        data = answer.to_dict() if isinstance(answer, stripe.StripeObject) else None
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
            raise GatewayUnavailableError(
                f"Stripe answered {operation} without a {what}.",
                charged_possible=charged_possible,
                details={"operation": operation},
            )
        return data

    @staticmethod
    def _observe(
        data: Mapping[str, Any], source: ObservationSource, operation: str
    ) -> GatewayObservation:
        try:
            return observation_from_intent(data, source)
        except ShapeError as error:
            raise GatewayUnavailableError(
                f"Stripe answered {operation} with an unusable PaymentIntent: {error}.",
                charged_possible=True,
            ) from error

    def _create(self, operation: str, what: str, create: Callable[[], object]) -> Mapping[str, Any]:
        """The JSON object Stripe answers a create call with (under our idempotency key). A
        malformed answer may follow a payment or refund made: it may have charged."""
        return self._call(operation, lambda: self._answer_data(create(), operation, what))

    def _create_intent(
        self, operation: str, params: PaymentIntentCreateParams, key: str
    ) -> Mapping[str, Any]:
        """A PaymentIntent created under our idempotency key (see ``_create``)."""
        return self._create(
            operation,
            "PaymentIntent",
            lambda: self._client.v1.payment_intents.create(
                params=params, options={"idempotency_key": key}
            ),
        )

    def _retrieve_intent(
        self, intent_id: str, operation: str, *, charged_possible: bool = True
    ) -> Mapping[str, Any]:
        answer = self._client.v1.payment_intents.retrieve(intent_id)
        return self._answer_data(
            answer, operation, "PaymentIntent", charged_possible=charged_possible
        )

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        """Create a card PaymentIntent under our idempotency key; the payer confirms it in the
        browser with the returned client secret (and this gateway's publishable key).

        What is sent is ``payment_intent_params``; it refuses before any I/O a payment method
        other than card and an amount Stripe cannot take exactly.
        """
        params = payment_intent_params(request, self._methods_param)
        data = self._create_intent("start_payment", params, request.idempotency_key)
        secret = data.get("client_secret")
        if not isinstance(secret, str) or not secret:
            raise GatewayUnavailableError(
                "Stripe created the PaymentIntent without a client secret.", charged_possible=True
            )
        return gateway.PaymentStart(
            gateway_reference=data["id"],
            next_action=ClientSecretAction(secret, self._publishable_key),
            observation=self._observe(data, ObservationSource.RESPONSE, "start_payment"),
        )

    def save_payment_method(self, request: gateway.SaveMethodRequest) -> gateway.SavedPaymentMethod:
        """Attach the PaymentMethod ``request.method_token`` (a ``pm_...``, or a test token
        such as ``pm_card_visa``) to the Stripe Customer, made first when the request names
        none; both calls carry keys derived from the request's idempotency key."""
        customer = request.customer_reference
        if customer is None:
            data = self._create(
                "save_payment_method",
                "Customer",
                lambda: self._client.v1.customers.create(
                    params=customer_params(request),
                    options={"idempotency_key": f"{request.idempotency_key}:customer"},
                ),
            )
            customer = str(data["id"])
        attached = self._create(
            "save_payment_method",
            "PaymentMethod",
            lambda: self._client.v1.payment_methods.attach(
                request.method_token,
                params={"customer": customer},
                options={"idempotency_key": f"{request.idempotency_key}:attach"},
            ),
        )
        return gateway.SavedPaymentMethod(self.name, customer, str(attached["id"]))

    def charge_saved_method(self, request: gateway.OffSessionCharge) -> gateway.PaymentStart:
        """A PaymentIntent confirmed off-session on the saved method, under the request's
        idempotency key (``off_session_intent_params``); a decline (402 ``card_error``) is a
        ``PaymentDeclinedError``, and an answer the intent settles carries its observation."""
        params = off_session_intent_params(request, self._methods_param)
        data = self._create_intent("charge_saved_method", params, request.idempotency_key)
        return gateway.PaymentStart(
            gateway_reference=data["id"],
            next_action=None,
            observation=self._observe(data, ObservationSource.RESPONSE, "charge_saved_method"),
        )

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """Retrieve the PaymentIntent ``gateway_reference`` and say what it is now.

        Without a ``gateway_reference`` this answers None: Stripe can only be searched by
        metadata through its Search API, which lags by up to a minute and is not available
        everywhere, so it is not authoritative. To recover an intent whose creation answer was
        lost, repeat ``start_payment`` with the same idempotency key (Stripe replays it for 24 h).
        None also when Stripe does not know the id. An intent that carries another purchase's
        reference raises ``GatewayConfigurationError``: our stored id is wrong.
        """
        if gateway_reference is None:
            return None

        def unknown(
            error: stripe.InvalidRequestError, refusal: PaymentsError
        ) -> Mapping[str, Any] | None:
            if error.http_status == 404:
                return None
            raise refusal from error

        # A GET acts on nothing: a malformed answer to it cannot have charged.
        data = self._call(
            "lookup",
            lambda: self._retrieve_intent(gateway_reference, "lookup", charged_possible=False),
            unknown,
        )
        if data is None:
            return None
        observation = self._observe(data, ObservationSource.LOOKUP, "lookup")
        if observation.reference is not None and observation.reference != reference:
            raise GatewayConfigurationError(
                f"Stripe PaymentIntent {gateway_reference} belongs to another purchase.",
                details={"reference": reference, "stripe_reference": observation.reference},
            )
        return observation

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Cancel the PaymentIntent and return what it is now.

        If Stripe refuses because the intent already settled (canceled or succeeded), the
        intent is retrieved and its observation returned (a capture wins over our cancel); any
        other refusal is raised translated.
        """

        def settled(
            error: stripe.InvalidRequestError, refusal: PaymentsError
        ) -> GatewayObservation:
            if error.http_status == 404:
                raise refusal from error
            data = self._call("cancel", lambda: self._retrieve_intent(gateway_reference, "cancel"))
            if data.get("status") not in ("canceled", "succeeded"):
                raise refusal from error
            return self._observe(data, ObservationSource.LOOKUP, "cancel")

        def cancel() -> GatewayObservation:
            intent = self._client.v1.payment_intents.cancel(
                gateway_reference, options={"idempotency_key": idempotency_key}
            )
            return self._observe(
                self._answer_data(intent, "cancel", "PaymentIntent"),
                ObservationSource.RESPONSE,
                "cancel",
            )

        return self._call("cancel", cancel, settled)

    def refund(self, request: gateway.RefundRequest) -> gateway.RefundResult:
        """Refund through ``POST /v1/refunds`` on the PaymentIntent, under our idempotency key.

        What is sent is ``refund_params``: the amount is omitted for a full refund, so Stripe
        refunds what remains; a difference from what we booked is logged.
        """
        params = refund_params(request)
        data = self._create(
            "refund",
            "Refund",
            lambda: self._client.v1.refunds.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            ),
        )
        try:
            result = refund_result(data)
        except ShapeError as error:
            raise GatewayUnavailableError(
                "Stripe answered the refund without an id or status.", charged_possible=True
            ) from error
        if data.get("amount") != to_stripe_amount(request.amount):
            # Stripe refunded what remained, which someone changed meanwhile (the dashboard).
            log.warning(
                "stripe refunded %s minor units of %s for refund %s, which booked %s",
                data.get("amount"),
                request.gateway_reference,
                request.refund_id,
                request.amount,
            )
        return result

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> gateway.Notification:
        """Verify the ``Stripe-Signature`` header against the raw body with every configured
        secret, then translate the event (``translate_event``). Raises
        ``InvalidSignatureError`` or ``MalformedNotificationError``."""
        self._signatures.verify(headers, body)
        return notification_from_body(body)

    def parse_stored_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> gateway.Notification:
        """Translate an event verified when it was stored (``translate_event``); raises
        ``MalformedNotificationError``."""
        return notification_from_body(body)
