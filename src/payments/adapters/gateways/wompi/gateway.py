"""WompiGateway: the PaymentGateway port's calls to Wompi's API over ``requests``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import quote

import requests

from payments.adapters.gateways.wompi.amounts import wompi_amount_steps
from payments.adapters.gateways.wompi.answers import (
    WompiAnswerError,
    acceptance_tokens,
    answer_data,
    async_payment_url,
    banks_from_list,
    choose_transaction,
    needs_redirect,
    start_from_transaction,
    transactions_from_list,
    void_result,
)
from payments.adapters.gateways.wompi.errors import error_for_status
from payments.adapters.gateways.wompi.events import (
    notification_from_body,
    observation_from_transaction,
    verified_notification,
)
from payments.adapters.gateways.wompi.params import METHOD_TYPES, encode_body, transaction_body
from payments.adapters.gateways.wompi.settings import CHECKSUM_HEADER, CURRENCIES, GATEWAY_NAME
from payments.adapters.wire.transport import (
    HttpRetries,
    ProviderHttp,
    decode_json_answer,
    translate_answer,
)
from payments.adapters.wire.webhook_signing import header_value
from payments.domain import gateway
from payments.domain.errors import (
    ConfigurationError,
    CurrencyMismatchError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidTransitionError,
    MalformedNotificationError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
    ValidationError,
)
from payments.domain.ports import PaymentGateway
from payments.domain.purchase import GatewayObservation, ObservationSource

__all__ = ["WompiGateway"]

_LABEL = "Wompi"
"""The provider as our messages name it."""
_MALFORMED = (WompiAnswerError, MalformedNotificationError)
"""What its answer translations raise for an answer they cannot read."""

COUNTRIES: Final = frozenset({"CO"})
REFUND_METHODS: Final = frozenset({"card"})
"""Wompi gives money back only by voiding a card transaction, whole (reference §3.3)."""


def _refused_field(error: ValidationError, name: str) -> bool:
    """Whether a 422 refused the field ``name`` (a reused ``reference``, a stale
    ``acceptance_token``)."""
    return any(field.field == name for field in error.errors)


def _retry_worthy(status: int) -> bool:
    """An answer worth asking again for, when the request is safe to repeat: 429 and 5xx."""
    return status >= 500 or status == 429


class WompiGateway(PaymentGateway):
    """Wompi (Colombia), reached over HTTP with ``Authorization: Bearer <key>``.

    The public key reads the merchant's acceptance tokens (cached for ``token_lifetime``
    seconds of ``clock``) and the PSE banks; the private key creates, reads and voids
    transactions. Wompi has no idempotency key: our purchase reference is unique there, so a
    start sent again is refused as a reused reference and answered with the transaction already
    under it (the same amount, currency and method), or ``IdempotencyConflictError``. GETs are
    retried after any outage, 429 and 5xx, with backoff and jitter; POSTs only when they
    provably never left, so a timeout after sending is an outage that may have charged.
    Notifications carry their checksum in the body (and ``X-Event-Checksum``), made with the
    events secret. Errors leave as domain errors only.
    """

    name = GATEWAY_NAME

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        *,
        public_key: str,
        private_key: str,
        integrity_secret: str,
        events_secret: str,
        clock: Callable[[], float] = time.time,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        token_lifetime: float = 600.0,
        url_polls: int = 5,
        poll_interval: float = 0.5,
    ) -> None:
        keys = (public_key, private_key, integrity_secret, events_secret)
        if not all(keys):
            raise ConfigurationError("Wompi needs its public, private, integrity and events keys.")
        if timeout <= 0 or attempts < 1 or backoff < 0 or url_polls < 0 or poll_interval < 0:
            raise ConfigurationError("Timeouts, attempts, polls and backoff must be positive.")
        self._public_key = public_key
        self._private_key = private_key
        self._integrity_secret = integrity_secret
        self._events_secret = events_secret
        self._clock = clock
        self._retries = HttpRetries(attempts, backoff, sleep)
        self._http = ProviderHttp(
            session,
            base_url,
            provider=GATEWAY_NAME,
            timeout=timeout,
            retries=self._retries,
            retry_status=_retry_worthy,
        )
        self._token_lifetime = token_lifetime
        self._url_polls = url_polls
        self._poll_interval = poll_interval
        self._tokens_lock = threading.Lock()
        self._tokens: tuple[float, str, str | None] | None = None
        self.capabilities = gateway.GatewayCapabilities(
            currencies=CURRENCIES,
            countries=COUNTRIES,
            payment_methods=frozenset(METHOD_TYPES),
            refunds=True,
            partial_refunds=False,
            cancel=False,
            authoritative_lookup=True,
            amount_steps=wompi_amount_steps(),
            refund_methods=REFUND_METHODS,
        )

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        """Create the transaction; a start sent again finds the one under our reference."""
        refusal = self.capabilities.refusal(request.country, request.amount, request.payment_method)
        if refusal is not None:
            raise UnsupportedByGatewayError(f"Wompi {refusal}.")
        body = transaction_body(request, integrity_secret=self._integrity_secret)
        try:
            answer = self._create(body, fresh_tokens=False)
        except ValidationError as error:
            if not _refused_field(error, "acceptance_token"):
                raise
            # The merchant's terms changed since we cached their token: refused, nothing made.
            answer = self._create(body, fresh_tokens=True)
        return self._started(translate_answer(_LABEL, _MALFORMED, answer_data, answer))

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """The transaction under our reference as Wompi sees it now, or None."""
        chosen = choose_transaction(self._under_reference(reference), gateway_reference)
        if chosen is None:
            return None
        return translate_answer(
            _LABEL,
            _MALFORMED,
            observation_from_transaction,
            chosen,
            source=ObservationSource.LOOKUP,
        )

    def banks(self, country: str) -> list[gateway.Bank]:
        """The PSE institutions Wompi offers (Colombia only)."""
        if country not in COUNTRIES:
            return []
        answer = self._call("GET", "/pse/financial_institutions", self._public_key)
        return translate_answer(_LABEL, _MALFORMED, banks_from_list, answer)

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Wompi cannot cancel a transaction: a settled one is reported as it is, a pending
        one refused with ``UnsupportedByGatewayError`` (the capabilities say ``cancel=False``)."""
        transaction = self._transaction(gateway_reference)
        if transaction.get("status") == "PENDING":
            raise UnsupportedByGatewayError("Wompi cannot cancel a pending transaction.")
        return translate_answer(
            _LABEL,
            _MALFORMED,
            observation_from_transaction,
            transaction,
            source=ObservationSource.RESPONSE,
        )

    def refund(self, request: gateway.RefundRequest) -> gateway.RefundResult:
        """Void an approved card transaction, whole; a voided one is answered again.

        Anything else is refused: part of the amount or another method
        (``UnsupportedByGatewayError``), an unapproved transaction (``InvalidTransitionError``),
        another currency or more than was paid."""
        if not request.full:
            raise UnsupportedByGatewayError("Wompi voids only the whole amount.")
        transaction = self._transaction(request.gateway_reference)
        seen = translate_answer(
            _LABEL,
            _MALFORMED,
            observation_from_transaction,
            transaction,
            source=ObservationSource.LOOKUP,
        )
        if transaction.get("status") == "VOIDED":
            return translate_answer(_LABEL, _MALFORMED, void_result, transaction)
        if transaction.get("payment_method_type") != "CARD":
            raise UnsupportedByGatewayError("Wompi voids card transactions only.")
        if transaction.get("status") != "APPROVED":
            raise InvalidTransitionError("Wompi voids approved transactions only.")
        paid = seen.amount
        if paid is None or paid.currency != request.amount.currency:
            raise CurrencyMismatchError("A Wompi void is in the transaction's currency.")
        if request.amount != paid:
            raise RefundExceedsCapturedError(f"Wompi voids exactly {paid}, not {request.amount}.")
        path = f"/transactions/{quote(request.gateway_reference, safe='')}/void"
        answer = self._call("POST", path, self._private_key, body={})
        data = translate_answer(_LABEL, _MALFORMED, answer_data, answer)
        voided = data.get("transaction", data)
        if not isinstance(voided, Mapping):
            raise GatewayUnavailableError(
                "Wompi answered an unreadable void.", charged_possible=True
            )
        return translate_answer(_LABEL, _MALFORMED, void_result, voided)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> gateway.Notification:
        """Check the event's checksum (in its body, and ``X-Event-Checksum`` when sent)
        against the events secret, then translate it."""
        return verified_notification(
            body,
            events_secret=self._events_secret,
            header_checksum=header_value(headers, CHECKSUM_HEADER),
        )

    def parse_stored_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> gateway.Notification:
        """Translate an event verified when it was stored."""
        return notification_from_body(body)

    # -- the steps -----------------------------------------------------------------------------

    def _acceptance_tokens(self, *, fresh: bool = False) -> tuple[str, str | None]:
        """The merchant's acceptance tokens, fetched again once ``token_lifetime`` is past (or
        when ``fresh``)."""
        now = self._clock()
        with self._tokens_lock:
            cached = self._tokens
        if not fresh and cached is not None and now - cached[0] < self._token_lifetime:
            return cached[1], cached[2]
        path = f"/merchants/{quote(self._public_key, safe='')}"
        answer = self._call("GET", path, self._public_key)
        policy, personal = translate_answer(_LABEL, _MALFORMED, acceptance_tokens, answer)
        with self._tokens_lock:
            self._tokens = (now, policy, personal)
        return policy, personal

    def _create(self, body: dict[str, object], *, fresh_tokens: bool) -> Mapping[str, object]:
        """``POST /transactions`` with the acceptance tokens; a reused reference is answered
        with the transaction already made for the same request (``_start_again``)."""
        policy, personal = self._acceptance_tokens(fresh=fresh_tokens)
        body["acceptance_token"] = policy
        if personal is not None:
            body["accept_personal_auth"] = personal
        try:
            return self._call("POST", "/transactions", self._private_key, body=body)
        except ValidationError as error:
            if not _refused_field(error, "reference"):
                raise
            return {"data": self._start_again(body, error)}

    def _started(self, transaction: Mapping[str, object]) -> gateway.PaymentStart:
        """The start of a transaction, waiting a little for a PSE or transfer's payer URL."""
        polls = self._url_polls
        while polls and needs_redirect(transaction) and async_payment_url(transaction) is None:
            polls -= 1
            self._retries.sleep(self._poll_interval)
            transaction = self._transaction(str(transaction.get("id")))
        return translate_answer(_LABEL, _MALFORMED, start_from_transaction, transaction)

    def _start_again(
        self, body: Mapping[str, object], refused: ValidationError
    ) -> Mapping[str, object]:
        """A reused reference: the transaction already made for this same request (amount,
        currency and method), or ``IdempotencyConflictError``."""
        reference = str(body["reference"])
        method = body["payment_method"]
        method_type = method.get("type") if isinstance(method, Mapping) else None
        same = [
            transaction
            for transaction in self._under_reference(reference)
            if transaction.get("amount_in_cents") == body["amount_in_cents"]
            and transaction.get("currency") == body["currency"]
            and transaction.get("payment_method_type") == method_type
        ]
        chosen = choose_transaction(same, None)
        if chosen is None:
            raise IdempotencyConflictError(
                "Wompi holds another transaction under this reference.",
                details={"reference": reference},
            ) from refused
        return chosen

    def _under_reference(self, reference: str) -> list[Mapping[str, object]]:
        answer = self._call(
            "GET", "/transactions", self._private_key, params={"reference": reference}
        )
        return translate_answer(_LABEL, _MALFORMED, transactions_from_list, answer)

    def _transaction(self, transaction_id: str) -> Mapping[str, object]:
        path = f"/transactions/{quote(transaction_id, safe='')}"
        return translate_answer(
            _LABEL, _MALFORMED, answer_data, self._call("GET", path, self._private_key)
        )

    # -- I/O -----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        key: str,
        *,
        body: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Mapping[str, object]:
        """One API call; the decoded 2xx body, or a domain error. A GET is repeated after any
        outage, 429 and 5xx; a POST only when it provably never left."""
        headers = {"Accept": "application/json", "Authorization": f"Bearer {key}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = encode_body(body)
        repeatable = method == "GET"
        response = self._http.send(
            method, path, repeatable=repeatable, headers=headers, params=params, data=data
        )
        return decode_json_answer(response, label=_LABEL, error_for_status=error_for_status)
