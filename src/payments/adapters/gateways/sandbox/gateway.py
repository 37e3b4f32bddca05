"""SandboxGateway: the PaymentGateway port's calls to the sandbox provider over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from urllib.parse import quote

import requests

from payments.adapters.gateways.sandbox.errors import (
    WireFormatError,
    error_for_status,
    retryable_status,
)
from payments.adapters.gateways.sandbox.events import (
    banks_from_list,
    choose_payment,
    notification_from_event,
    observation_from_payment,
    refund_result_from_refund,
    start_from_payment,
)
from payments.adapters.gateways.sandbox.params import (
    encode_body,
    payment_request_body,
    refund_request_body,
)
from payments.adapters.gateways.sandbox.settings import (
    DEFAULT_TOLERANCE,
    GATEWAY_NAME,
    PAYMENT_METHODS,
)
from payments.adapters.gateways.sandbox.signatures import SIGNATURE_HEADER
from payments.adapters.wire import webhook_signing
from payments.adapters.wire.transport import (
    HttpRetries,
    ProviderHttp,
    decode_json_answer,
    translate_answer,
)
from payments.domain import gateway
from payments.domain.errors import (
    ConfigurationError,
    GatewayUnavailableError,
    InvalidAmountError,
    UnsupportedByGatewayError,
)
from payments.domain.ports import PaymentGateway
from payments.domain.purchase import GatewayObservation, ObservationSource

__all__ = ["SandboxGateway"]

_LABEL = "The sandbox gateway"
"""The provider as our messages name it."""
_MALFORMED = (WireFormatError,)
"""What its answer translations raise for an answer they cannot read."""


class SandboxGateway(PaymentGateway):
    """The built-in sandbox provider, reached over HTTP like any real one.

    Every call authenticates with ``Authorization: Bearer <secret>`` (the sandbox secret, which
    also signs the notifications) and has an explicit timeout. Requests that are safe to repeat
    (GETs, and POSTs that carry an ``Idempotency-Key``: all of ours) are tried up to
    ``attempts`` times on a failure to connect, a timeout, 409, 429 or 5xx, with exponential
    backoff and jitter; any other request only when it provably never left. Errors leave as
    domain errors only.
    """

    name = GATEWAY_NAME

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        tolerance: int = DEFAULT_TOLERANCE,
        attempts: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not secret:
            raise ConfigurationError("The sandbox gateway needs a webhook secret.")
        if tolerance <= 0:
            raise ConfigurationError("The signature tolerance must be positive (0 disables it).")
        if timeout <= 0 or attempts < 1 or backoff < 0:
            raise ConfigurationError("Timeouts, attempts and backoff must be positive.")
        self._secret = secret
        self._signatures = webhook_signing.SignatureCheck(
            SIGNATURE_HEADER, (secret,), clock, tolerance
        )
        self._retries = HttpRetries(attempts, backoff, sleep)
        self._http = ProviderHttp(
            session,
            base_url,
            provider=GATEWAY_NAME,
            timeout=timeout,
            retries=self._retries,
            retry_status=retryable_status,
        )
        self.capabilities = gateway.GatewayCapabilities(
            currencies=None,
            countries=None,
            payment_methods=PAYMENT_METHODS,
            refunds=True,
            partial_refunds=True,
            cancel=True,
            authoritative_lookup=True,
        )

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        """Create the payment; repeating it with the same idempotency key returns the same one."""
        refusal = self.capabilities.refusal(request.country, request.amount, request.payment_method)
        if refusal is not None:
            raise UnsupportedByGatewayError(f"The sandbox gateway {refusal}.")
        if not request.amount.is_positive or not request.amount.is_exact:
            raise InvalidAmountError("A payment amount must be positive and exact in its currency.")
        payment = self._call(
            "POST",
            "/v1/payments",
            body=payment_request_body(request),
            idempotency_key=request.idempotency_key,
        )
        return translate_answer(_LABEL, _MALFORMED, start_from_payment, payment, gateway=self.name)

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """The payment under our reference as the sandbox provider sees it now, or None."""
        listing = self._call("GET", "/v1/payments", params={"reference": reference})
        data = listing.get("data")
        if not isinstance(data, list) or not all(isinstance(p, Mapping) for p in data):
            raise GatewayUnavailableError(
                "The sandbox gateway answered an unreadable list.", charged_possible=True
            )
        chosen = choose_payment(data, gateway_reference)
        if chosen is None:
            return None
        return translate_answer(
            _LABEL,
            _MALFORMED,
            observation_from_payment,
            chosen,
            gateway=self.name,
            source=ObservationSource.LOOKUP,
        )

    def banks(self, country: str) -> list[gateway.Bank]:
        """The PSE institutions the sandbox provider offers in ``country``."""
        listing = self._call("GET", "/v1/banks", params={"country": country})
        return translate_answer(_LABEL, _MALFORMED, banks_from_list, listing)

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Cancel an unsettled payment; a settled one comes back as it is."""
        payment = self._call(
            "POST",
            f"/v1/payments/{quote(gateway_reference, safe='')}/cancel",
            body={},
            idempotency_key=idempotency_key,
        )
        return translate_answer(
            _LABEL,
            _MALFORMED,
            observation_from_payment,
            payment,
            gateway=self.name,
            source=ObservationSource.RESPONSE,
        )

    def refund(self, request: gateway.RefundRequest) -> gateway.RefundResult:
        """Refund part or all of a captured payment; safe to repeat with the same key."""
        refund = self._call(
            "POST",
            "/v1/refunds",
            body=refund_request_body(request),
            idempotency_key=request.idempotency_key,
        )
        return translate_answer(_LABEL, _MALFORMED, refund_result_from_refund, refund)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> gateway.Notification:
        """Verify the ``Sandbox-Signature`` against the raw body, then translate the event."""
        self._signatures.verify(headers, body)
        return notification_from_event(body, gateway=self.name)

    def parse_stored_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> gateway.Notification:
        """Translate an event verified when it was stored; ``MalformedNotificationError`` if
        it does not follow the wire format."""
        return notification_from_event(body, gateway=self.name)

    # -- I/O -----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Mapping[str, object]:
        """One API call with safe retries; the decoded 2xx body, or a domain error.

        A GET, or a POST under an ``Idempotency-Key`` (all of ours), is repeated after any
        outage and after 409, 429 and 5xx; any other request only when it provably never left.
        """
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self._secret}",
            "User-Agent": "payments-sandbox-gateway/1",
        }
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = encode_body(body)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key

        repeatable = method == "GET" or idempotency_key is not None
        response = self._http.send(
            method, path, repeatable=repeatable, headers=headers, params=params, data=data
        )
        return decode_json_answer(response, label=_LABEL, error_for_status=error_for_status)
