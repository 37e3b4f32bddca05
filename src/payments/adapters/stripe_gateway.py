"""Stripe behind the PaymentGateway port: amount codec, webhook signatures, events, and the I/O."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast

import requests
import stripe
import urllib3.exceptions

from payments.domain.currency import get_currency
from payments.domain.errors import (
    ConfigurationError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidSignatureError,
    InvalidTransitionError,
    MalformedNotificationError,
    PaymentDeclinedError,
    PaymentsError,
    RefundExceedsCapturedError,
    UnknownCurrencyError,
    UnsupportedByGatewayError,
    ValidationError,
)
from payments.domain.money import Money
from payments.domain.ports import (
    GatewayCapabilities,
    Notification,
    PaymentGateway,
    PaymentRequest,
    PaymentStart,
    RefundRequest,
    RefundResult,
)
from payments.domain.purchase import (
    ClientSecretAction,
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
)
from payments.domain.refund import RefundObservation, RefundStatus

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams, RefundCreateParams

__all__ = [
    "DEFAULT_TOLERANCE",
    "GATEWAY_NAME",
    "SIGNATURE_HEADER",
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "AttemptRecordingHttpClient",
    "PaymentMethodsParam",
    "StripeGateway",
    "check_stripe_keys",
    "from_stripe_amount",
    "intent_outcome",
    "make_stripe_client",
    "observation_from_intent",
    "refund_status",
    "sign_payload",
    "stripe_amount_steps",
    "to_stripe_amount",
    "translate_event",
    "translate_stripe_error",
    "verify_signature",
]

log = logging.getLogger(__name__)

GATEWAY_NAME: Final = "stripe"
SIGNATURE_HEADER: Final = "stripe-signature"
DEFAULT_TOLERANCE: Final = 300

# https://docs.stripe.com/currencies: amounts in these are whole units, never multiplied by 100,
# whatever ISO 4217 says (MGA has two ISO decimals but is zero-decimal at Stripe).
ZERO_DECIMAL_CURRENCIES: Final = frozenset(
    {
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
        "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    }
)  # fmt: skip
# Three-decimal currencies: the API takes 3 decimals but the last digit must be 0.
THREE_DECIMAL_CURRENCIES: Final = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# ISK is zero-decimal in ISO 4217 but two-decimal in Stripe's API, in whole krónur only.
_TWO_DECIMAL_WHOLE_UNITS: Final = frozenset({"ISK"})

_REFUND_REASONS: Final = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_METADATA_VALUE_LIMIT: Final = 500

_AMOUNT_CODES: Final = frozenset(
    {"amount_too_small", "amount_too_large", "invalid_charge_amount", "parameter_invalid_integer"}
)
_REFUND_EXCEEDS_CODES: Final = frozenset({"charge_already_refunded"})
_STATE_CODES: Final = frozenset(
    {
        "payment_intent_unexpected_state",
        "charge_not_refundable",
        "charge_disputed",
        "charge_expired_for_capture",
        "charge_already_captured",
    }
)
_CURRENCY_CODES: Final = frozenset({"currency_not_supported", "invalid_currency"})

_T = TypeVar("_T")

PaymentMethodsParam = Literal["allowed_payment_method_types", "payment_method_types"]
"""How a PaymentIntent is limited to cards: API versions since 2026-09-30.endive (the one
stripe-python 16 pins) refuse ``payment_method_types`` on create with 400
``payment_method_types_no_longer_supported`` and take ``allowed_payment_method_types``; older
versions, and localstripe, know only ``payment_method_types``."""

ALLOWED_METHODS_SINCE: Final = "2026-09-30"
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z_]+)?")


def payment_methods_param_for(api_version: str | None) -> PaymentMethodsParam:
    """The parameter that limits an intent to cards on ``api_version`` (None: the SDK's pin).

    A malformed version is a ``ConfigurationError`` naming ``PAYMENTS_STRIPE_API_VERSION``.
    """
    if api_version is None:
        return "allowed_payment_method_types"
    if not _API_VERSION.fullmatch(api_version):
        raise ConfigurationError(
            "PAYMENTS_STRIPE_API_VERSION must be a Stripe API version such as "
            "'2024-06-20' or '2026-09-30.endive'."
        )
    if api_version[:10] >= ALLOWED_METHODS_SINCE:
        return "allowed_payment_method_types"
    return "payment_method_types"


# -- amounts ---------------------------------------------------------------------------------------


def _wire_decimals(code: str, exponent: int) -> int:
    """How many decimals Stripe's integer amount carries for this currency."""
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in _TWO_DECIMAL_WHOLE_UNITS:
        return 2
    return exponent


def _scaled_integer(amount: Decimal, places: int) -> int | None:
    """``amount * 10**places`` exactly, or None when that is not a whole number (no rounding)."""
    sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):
        return None
    number = int("".join(map(str, digits)) or "0")
    shift = exponent + places
    scaled: int
    if shift >= 0:
        scaled = number * 10**shift
    else:
        divisor = 10**-shift
        if number % divisor:
            return None
        scaled = number // divisor
    return -scaled if sign else scaled


def to_stripe_amount(money: Money) -> int:
    """The integer Stripe puts in ``amount`` for ``money`` (19.99 EUR -> 1999, 500 JPY -> 500).

    Never rounds: money with more precision than Stripe takes for its currency raises
    ``InvalidAmountError``: the zero-decimal list is sent in whole units, BHD JOD KWD OMR TND with
    three decimals whose last digit must be 0 (5.124 KWD is refused, 5.120 -> 5120), ISK with two
    decimals in whole krónur (ISK 500 -> 50000), every other currency by its ISO 4217 exponent.
    """
    code = money.currency.code
    if not money.is_exact:
        raise InvalidAmountError(f"{money} has more decimals than {code} allows.")
    units = _scaled_integer(money.amount, _wire_decimals(code, money.currency.exponent))
    if units is None:
        raise InvalidAmountError(f"Stripe takes {code} in whole units only, not {money}.")
    if code in THREE_DECIMAL_CURRENCIES and units % 10:
        raise InvalidAmountError(
            f"Stripe needs the last of the three {code} decimals to be 0; {money} must be "
            "rounded to a multiple of 0.010 first."
        )
    if code in _TWO_DECIMAL_WHOLE_UNITS and units % 100:
        raise InvalidAmountError(f"Stripe takes {code} in whole units only, not {money}.")
    return units


def stripe_amount_steps() -> dict[str, int]:
    """Per currency, the multiple of ISO 4217 minor units Stripe can charge, where it is not 1.

    BHD JOD KWD OMR TND: 10 (the last of three decimals must be 0). A zero-decimal currency
    that ISO 4217 gives decimals (MGA) is charged in whole units: 10 to the ISO exponent. This is
    what ``GatewayCapabilities.amount_steps`` declares so that routing skips Stripe for such an
    amount before any I/O; ``to_stripe_amount`` refuses the same amounts as a last defence.
    """
    steps = dict.fromkeys(THREE_DECIMAL_CURRENCIES, 10)
    for code in ZERO_DECIMAL_CURRENCIES:
        try:
            exponent = get_currency(code).exponent
        except UnknownCurrencyError:  # on Stripe's list but not (or no longer) in ISO 4217
            continue
        if exponent:
            steps[code] = 10**exponent
    return steps


def from_stripe_amount(units: int, currency_code: str) -> Money:
    """The money a Stripe ``amount`` and ``currency`` (either case) stand for; the exact inverse
    of ``to_stripe_amount``. Raises ``UnknownCurrencyError`` for a currency we do not know."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"A Stripe amount is an int, not {type(units).__name__}.")
    if not isinstance(currency_code, str):
        raise UnknownCurrencyError("A Stripe currency is a three-letter code.")
    zero = Money.zero(currency_code.upper())
    places = _wire_decimals(zero.currency.code, zero.currency.exponent)
    sign = 1 if units < 0 else 0
    digits = tuple(int(d) for d in str(abs(units)))
    return Money(Decimal((sign, digits, -places)), zero.currency)


# -- webhook signatures ----------------------------------------------------------------------------

_TIMESTAMP: Final = re.compile(r"[0-9]{1,15}")


def verify_signature(
    header: str | None, body: bytes, secrets: Sequence[str], now: float, tolerance: int
) -> None:
    """Check a ``Stripe-Signature`` header against the raw body, as Stripe documents it.

    The header is ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` plus schemes we ignore (``v0`` and
    anything else, against downgrades). The expected value is hex HMAC-SHA256 keyed with the whole
    secret (``whsec_`` included) over ``"<t>." + body``; any ``v1`` matching any secret passes, so
    secrets can be rotated. Unlike stripe-python, the timestamp must be within ``tolerance``
    seconds of ``now`` in both directions: a future timestamp is as suspicious as a stale one.
    Raises ``InvalidSignatureError`` for a missing or malformed header, no ``v1``, no match, or a
    timestamp out of tolerance; never passes without a secret.
    """
    if not header:
        raise InvalidSignatureError("The Stripe-Signature header is missing.")
    if tolerance <= 0:
        raise ValueError("A tolerance of 0 or less would disable the timestamp check.")
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for item in header.split(","):
        scheme, separator, value = item.strip().partition("=")
        if not separator:
            raise InvalidSignatureError("The Stripe-Signature header is malformed.")
        if scheme == "t":
            timestamps.append(value)
        elif scheme == "v1":
            signatures.append(value.encode("utf-8", "replace"))
    if len(timestamps) != 1 or _TIMESTAMP.fullmatch(timestamps[0]) is None:
        raise InvalidSignatureError("The Stripe-Signature header has no valid timestamp.")
    if not signatures:
        raise InvalidSignatureError("The Stripe-Signature header has no v1 signature.")
    timestamp = int(timestamps[0])
    signed = b"%d." % timestamp + body
    matched = False
    for secret in secrets:
        if not secret:
            continue
        expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode()
        for candidate in signatures:
            # Every comparison runs (no early exit), each in constant time.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignatureError("No Stripe-Signature v1 value matches the payload.")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignatureError("The Stripe-Signature timestamp is outside the tolerance.")


def sign_payload(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """The ``Stripe-Signature`` value Stripe sends with ``body`` at ``timestamp``:
    ``t=<timestamp>,v1=<hex>``, with one ``v1`` per secret (as Stripe signs while a secret is
    rolled), each hex HMAC-SHA256 keyed with the whole secret over ``"<t>." + body``."""
    if not secrets or any(not secret for secret in secrets):
        raise ConfigurationError("Signing a Stripe event needs at least one non-empty secret.")
    signed = b"%d." % timestamp + body
    values = [
        hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest() for secret in secrets
    ]
    return ",".join([f"t={timestamp}", *(f"v1={value}" for value in values)])


# -- translation of Stripe objects -----------------------------------------------------------------


class _ShapeError(ValueError):
    """A Stripe object is not shaped as documented."""


class _ForeignCurrencyError(_ShapeError):
    """A Stripe object in a currency our ISO 4217 table does not know (ANG, STD: codes Stripe
    still lists). We never charge in such a currency, so the object cannot be one of ours."""


_CURRENCY_CODE: Final = re.compile(r"[A-Za-z]{3}")


def _stripe_money(units: int, currency: object) -> Money:
    """``from_stripe_amount`` with its refusals as shape errors (foreign currencies apart)."""
    if not isinstance(currency, str):
        raise _ShapeError("currency is not a string")
    try:
        return from_stripe_amount(units, currency)
    except UnknownCurrencyError as error:
        if _CURRENCY_CODE.fullmatch(currency):
            raise _ForeignCurrencyError(f"{currency} is not a currency we charge in") from error
        raise _ShapeError(f"unusable currency: {error.message}") from error
    except ValidationError as error:
        raise _ShapeError(f"unusable amount or currency: {error.message}") from error


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise _ShapeError(f"{key} is not an object")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _ShapeError(f"{key} is not a string")
    return value


def _optional_text(data: Mapping[str, Any] | None, key: str) -> str | None:
    if data is None:
        return None
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _ShapeError(f"{key} is not a string")
    return value or None


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _ShapeError(f"{key} is not an integer")
    return value


def _metadata(data: Mapping[str, Any]) -> Mapping[str, Any]:
    value = data.get("metadata")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _ShapeError("metadata is not an object")
    return value


def _object_amount(data: Mapping[str, Any]) -> Money:
    return _stripe_money(_integer(data, "amount"), _text(data, "currency"))


def intent_outcome(status: str, *, has_payment_error: bool) -> PaymentOutcome:
    """What a PaymentIntent ``status`` means for the purchase.

    ``requires_payment_method`` is FAILED only after a failed attempt (``last_payment_error``
    set); before any attempt it is PROCESSING, like ``requires_confirmation``,
    ``requires_action``, ``processing`` and ``requires_capture``. ``succeeded`` is SUCCEEDED and
    ``canceled`` CANCELLED. A status we do not know is PROCESSING: it never settles a purchase.
    """
    if status == "succeeded":
        return PaymentOutcome.SUCCEEDED
    if status == "canceled":
        return PaymentOutcome.CANCELLED
    if status == "requires_payment_method" and has_payment_error:
        return PaymentOutcome.FAILED
    return PaymentOutcome.PROCESSING


def observation_from_intent(
    intent: Mapping[str, Any],
    source: ObservationSource,
    *,
    outcome: PaymentOutcome | None = None,
    event_id: str | None = None,
) -> GatewayObservation:
    """A PaymentIntent (as plain JSON data) as a domain observation.

    ``outcome`` defaults to ``intent_outcome`` of its status. The amount is the intent's own
    ``amount`` and ``currency`` so the domain can detect a mismatch; the reference is
    ``metadata.purchase_reference`` (None for an intent we did not create). A FAILED outcome
    carries ``last_payment_error.code`` (or its ``decline_code`` when there is no code).
    Raises ``ValueError`` when the data is not shaped like a PaymentIntent.
    """
    status = _text(intent, "status")
    error = intent.get("last_payment_error")
    if error is not None and not isinstance(error, Mapping):
        raise _ShapeError("last_payment_error is not an object")
    if outcome is None:
        outcome = intent_outcome(status, has_payment_error=error is not None)
    provider_code = message = None
    if outcome is PaymentOutcome.FAILED:
        provider_code = _optional_text(error, "code") or _optional_text(error, "decline_code")
        message = _optional_text(error, "message")
    return GatewayObservation(
        gateway=GATEWAY_NAME,
        outcome=outcome,
        source=source,
        gateway_reference=_text(intent, "id"),
        reference=_optional_text(_metadata(intent), "purchase_reference"),
        amount=_object_amount(intent),
        event_id=event_id,
        provider_code=provider_code,
        message=message,
    )


def refund_status(status: str) -> RefundStatus:
    """A Stripe Refund ``status`` in our terms: ``succeeded``; ``failed`` and ``canceled`` are
    FAILED; ``pending``, ``requires_action`` and anything new are PENDING."""
    if status == "succeeded":
        return RefundStatus.SUCCEEDED
    if status in ("failed", "canceled"):
        return RefundStatus.FAILED
    return RefundStatus.PENDING


def _refund_observation(
    refund: Mapping[str, Any], event_id: str, charge: Mapping[str, Any] | None = None
) -> RefundObservation:
    """A Refund object (optionally read from inside its Charge) as a domain observation."""
    payment_reference = _optional_text(refund, "payment_intent")
    currency = refund.get("currency")
    if charge is not None:
        payment_reference = payment_reference or _optional_text(charge, "payment_intent")
        currency = currency or charge.get("currency")
    amount = _stripe_money(_integer(refund, "amount"), currency)
    return RefundObservation(
        gateway=GATEWAY_NAME,
        gateway_refund_reference=_text(refund, "id"),
        gateway_payment_reference=payment_reference,
        amount=amount,
        status=refund_status(_text(refund, "status")),
        event_id=event_id,
        refund_id=_optional_text(_metadata(refund), "refund_id"),
    )


def _latest_refund_of_charge(charge: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The most recently created refund a Charge carries in ``refunds.data``, if any."""
    refunds = charge.get("refunds")
    if refunds is None:
        return None
    if not isinstance(refunds, Mapping):
        raise _ShapeError("refunds is not a list object")
    data = refunds.get("data")
    if not isinstance(data, list):
        raise _ShapeError("refunds.data is not a list")
    latest: Mapping[str, Any] | None = None
    for item in data:
        if not isinstance(item, Mapping):
            raise _ShapeError("a refund is not an object")
        created = item.get("created")
        if not isinstance(created, int):
            raise _ShapeError("a refund has no creation time")
        if latest is None or created >= latest["created"]:
            latest = item
    return latest


_INTENT_EVENTS: Final[Mapping[str, PaymentOutcome]] = {
    "payment_intent.succeeded": PaymentOutcome.SUCCEEDED,
    "payment_intent.payment_failed": PaymentOutcome.FAILED,
    "payment_intent.canceled": PaymentOutcome.CANCELLED,
    "payment_intent.processing": PaymentOutcome.PROCESSING,
    "payment_intent.requires_action": PaymentOutcome.PROCESSING,
}
_REFUND_EVENTS: Final = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)


def translate_event(event: object) -> Notification:
    """A parsed Stripe Event as a domain notification.

    - ``payment_intent.succeeded | payment_failed | canceled | processing | requires_action``:
      a payment observation of the intent in ``data.object`` (the event type decides the
      outcome; ``payment_failed`` carries ``last_payment_error.code``/``decline_code``).
    - ``refund.created | updated | failed`` and ``charge.refund.updated``: a refund observation
      of the Refund in ``data.object``, with ``refund_id`` from its ``metadata.refund_id``.
    - ``charge.refunded``: the Charge in ``data.object`` says only that *some* refund happened.
      We take the most recently created refund among ``refunds.data`` (by ``created``: the
      refund that caused this event). API versions since 2022-11-15 no longer expand
      ``refunds`` in a Charge, so on those (ours) the event carries no observation: the
      ``refund.*`` events carry every refund in full, so subscribe to those.
    - any other type: a notification without observations (recognised, genuine, not acted on).
    - an object in a currency our ISO 4217 table does not know (ANG, STD, which Stripe still
      lists): a notification without observations too. We never charge in such a currency, so
      it is not ours, and Stripe must not be told to retry it for three days.

    Raises ``MalformedNotificationError`` when the event or its object is not shaped as Stripe
    documents.
    """
    try:
        if not isinstance(event, Mapping):
            raise _ShapeError("the event is not an object")
        event_id = _text(event, "id")
        event_type = _text(event, "type")
        try:
            return _translate_object(event, event_id, event_type)
        except _ForeignCurrencyError as foreign:
            log.info("stripe event %s ignored: %s", event_id, foreign)
            return Notification(GATEWAY_NAME, event_id, event_type)
    except (_ShapeError, KeyError, TypeError) as error:
        raise MalformedNotificationError(f"Not a usable Stripe event: {error}.") from error


def _translate_object(event: Mapping[str, Any], event_id: str, event_type: str) -> Notification:
    """``translate_event`` once the event's id and type are known; raises ``_ShapeError``."""
    if event_type in _INTENT_EVENTS:
        intent = _mapping(_mapping(event, "data"), "object")
        payment = observation_from_intent(
            intent,
            ObservationSource.NOTIFICATION,
            outcome=_INTENT_EVENTS[event_type],
            event_id=event_id,
        )
        return Notification(GATEWAY_NAME, event_id, event_type, payment=payment)
    if event_type in _REFUND_EVENTS:
        refund = _mapping(_mapping(event, "data"), "object")
        observation = _refund_observation(refund, event_id)
        return Notification(GATEWAY_NAME, event_id, event_type, refund=observation)
    if event_type == "charge.refunded":
        charge = _mapping(_mapping(event, "data"), "object")
        latest = _latest_refund_of_charge(charge)
        if latest is None:
            return Notification(GATEWAY_NAME, event_id, event_type)
        observation = _refund_observation(latest, event_id, charge)
        return Notification(GATEWAY_NAME, event_id, event_type, refund=observation)
    return Notification(GATEWAY_NAME, event_id, event_type)


# -- errors ----------------------------------------------------------------------------------------


class _Attempts(threading.local):
    """Per thread: whether each HTTP attempt of the current call may have reached Stripe."""

    def __init__(self) -> None:
        self.reached: list[bool] = []


_ATTEMPTS = _Attempts()

_NEVER_SENT: Final = (
    requests.exceptions.ConnectTimeout,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    ConnectionRefusedError,
    socket.gaierror,
)


def _never_sent(error: BaseException) -> bool:
    """True when the error chain proves the request never left: the connection was not made."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _NEVER_SENT):
            return True
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(current.args)
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return False


class AttemptRecordingHttpClient(stripe.RequestsClient):
    """stripe's ``requests`` HTTP client that records, per thread, whether each attempt (the
    first and every SDK retry) may have reached Stripe, so ``StripeGateway`` can tell whether a
    failed call could have acted at all (``charged_possible``)."""

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        """One HTTP attempt, recorded."""
        try:
            content, status, response_headers = super().request(method, url, headers, post_data)
        except stripe.APIConnectionError as error:
            _ATTEMPTS.reached.append(not _never_sent(error))
            raise
        # A 429 is refused before any work is done; every other answer may follow work.
        _ATTEMPTS.reached.append(status != 429)
        return content, status, response_headers


def make_stripe_client(
    secret_key: str,
    *,
    api_base: str | None = None,
    max_network_retries: int = 2,
    timeout: float | tuple[float, float] = (5.0, 30.0),
    api_version: str | None = None,
) -> stripe.StripeClient:
    """A ``StripeClient`` for ``StripeGateway``: explicit timeouts (connect, read), the SDK's own
    retries of connection errors, 409 and 5xx (each retry re-sends the same ``Idempotency-Key``:
    stripe-python builds the headers once per call, outside its retry loop), and attempt
    recording so a failure reports ``charged_possible`` exactly. ``api_base`` points it at a
    simulator or localstripe; ``api_version`` overrides the version the SDK pins (pass the
    gateway ``payment_methods_param_for(api_version)`` with it)."""
    return stripe.StripeClient(
        secret_key,
        stripe_version=api_version,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_network_retries,
        http_client=AttemptRecordingHttpClient(timeout=timeout),
    )


def _json_error(error: stripe.StripeError) -> Mapping[str, Any]:
    body = error.json_body
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
    return {}


def translate_stripe_error(
    error: stripe.StripeError,
    *,
    operation: str = "request",
    attempts: Sequence[bool] | None = None,
) -> PaymentsError:
    """The domain error for a stripe-python exception (to be raised ``from`` it).

    ``attempts`` is what ``AttemptRecordingHttpClient`` saw for this call (None when the client
    does not record): whether each attempt may have reached Stripe. ``charged_possible`` is then
    exact; without it a connection error is assumed to have possibly acted. Messages are ours;
    Stripe's code and request id go to ``details``.
    """
    info = _json_error(error)
    code = error.code or _optional_str(info.get("code"))
    details: dict[str, object] = {"operation": operation}
    if code:
        details["stripe_code"] = code
    if error.request_id:
        details["stripe_request_id"] = error.request_id
    if isinstance(error, stripe.CardError):
        decline_code = _optional_str(info.get("decline_code"))
        if decline_code:
            details["decline_code"] = decline_code
        return PaymentDeclinedError(
            "Stripe declined the card.", provider_code=code or decline_code, details=details
        )
    if isinstance(error, stripe.RateLimitError):
        earlier = list(attempts[:-1]) if attempts else []
        return GatewayUnavailableError(
            "Stripe is rate limiting our requests.", charged_possible=any(earlier), details=details
        )
    if isinstance(error, stripe.APIConnectionError):
        possible = any(attempts) if attempts else True
        return GatewayUnavailableError(
            "Stripe could not be reached.", charged_possible=possible, details=details
        )
    if isinstance(error, stripe.AuthenticationError):
        return GatewayConfigurationError("Stripe rejected our API key.", details=details)
    if isinstance(error, stripe.PermissionError):
        return GatewayConfigurationError(
            "Our Stripe key is not allowed to do this.", details=details
        )
    if isinstance(error, stripe.IdempotencyError):
        return IdempotencyConflictError(
            "Stripe saw this idempotency key with different parameters.", details=details
        )
    if isinstance(error, stripe.InvalidRequestError):
        return _invalid_request(error, code, operation, details)
    return GatewayUnavailableError(
        "Stripe failed to answer.", charged_possible=True, details=details
    )


def _invalid_request(
    error: stripe.InvalidRequestError, code: str | None, operation: str, details: dict[str, object]
) -> PaymentsError:
    param = error.param or ""
    if param:
        details["stripe_param"] = param
    if code in _REFUND_EXCEEDS_CODES or (operation == "refund" and code == "amount_too_large"):
        return RefundExceedsCapturedError("Stripe refuses to refund that much.", details=details)
    if code in _AMOUNT_CODES:
        return InvalidAmountError("Stripe refuses this amount.", details=details)
    if code in _STATE_CODES:
        return InvalidTransitionError(
            "Stripe refuses this in the payment's current state.", details=details
        )
    if code in _CURRENCY_CODES or param == "currency":
        return UnsupportedByGatewayError("Stripe does not take this currency.", details=details)
    # Anything else means we sent something Stripe does not accept, or an id this account does
    # not know (a test id with a live key): an operator must look, and retrying cannot help.
    return GatewayConfigurationError("Stripe refused our request as invalid.", details=details)


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# -- configuration ---------------------------------------------------------------------------------


def check_stripe_keys(mode: str, secret_key: str | None, webhook_secrets: Sequence[str]) -> None:
    """Refuse Stripe settings that must not start the service (``ConfigurationError``).

    ``webhook_secrets`` are the endpoint secrets, already split and stripped (several while
    rotating). With a secret key, at least one webhook secret is needed in either mode: the
    notifications could not be verified without one. ``live`` needs a secret key, refuses test
    keys (``sk_test_``/``rk_test_``) and needs every webhook secret to be a signing secret
    (``whsec_...``); ``sandbox`` refuses live keys and takes any secret (localstripe's, say). A
    key that is not a secret or restricted key (a publishable ``pk_`` key) is refused in any
    mode. Messages name the setting, never its value.
    """
    if mode not in ("live", "sandbox"):
        raise ConfigurationError("The mode must be 'live' or 'sandbox'.")
    if isinstance(webhook_secrets, str):
        raise TypeError("Pass the Stripe webhook secrets as a sequence, not one string.")
    key = secret_key.strip() if secret_key else ""
    hooks = [hook.strip() for hook in webhook_secrets]
    if key and not key.startswith(("sk_", "rk_")):
        raise ConfigurationError(
            "PAYMENTS_STRIPE_SECRET_KEY must be a Stripe secret key (sk_...) or restricted key "
            "(rk_...); publishable keys (pk_...) cannot call the API."
        )
    if any(not hook for hook in hooks):
        raise ConfigurationError("PAYMENTS_STRIPE_WEBHOOK_SECRET has an empty secret in its list.")
    if mode == "live":
        if not key:
            raise ConfigurationError("Live mode needs PAYMENTS_STRIPE_SECRET_KEY (sk_live_...).")
        if key.startswith(("sk_test_", "rk_test_")):
            raise ConfigurationError(
                "Live mode refuses a Stripe test key (sk_test_...): set the live secret key."
            )
        if not hooks:
            raise ConfigurationError(
                "Live mode needs PAYMENTS_STRIPE_WEBHOOK_SECRET: Stripe webhooks cannot be "
                "verified without it."
            )
        if not all(hook.startswith("whsec_") for hook in hooks):
            raise ConfigurationError(
                "Every PAYMENTS_STRIPE_WEBHOOK_SECRET must be an endpoint's signing secret "
                "(whsec_...)."
            )
        return
    if key.startswith(("sk_live_", "rk_live_")):
        raise ConfigurationError(
            "Sandbox mode refuses a live Stripe key (sk_live_...): use a test key (sk_test_...)."
        )
    if key and not hooks:
        raise ConfigurationError(
            "PAYMENTS_STRIPE_SECRET_KEY is set but PAYMENTS_STRIPE_WEBHOOK_SECRET is not: Stripe "
            "webhooks cannot be verified without it (use the endpoint's signing secret, or the "
            "secret localstripe's webhook was registered with)."
        )


# -- the gateway -----------------------------------------------------------------------------------


def _refund_reason(reason: str | None) -> str | None:
    """Stripe's refund reason enum value for our free-text reason, when it is one."""
    if not reason:
        return None
    normalised = re.sub(r"[\s\-]+", "_", reason.strip().lower())
    return normalised if normalised in _REFUND_REASONS else None


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
        self._client = client
        self._secrets = secrets
        self._clock = clock
        self._tolerance = tolerance
        self._publishable_key = publishable_key
        if payment_methods_param not in ("allowed_payment_method_types", "payment_method_types"):
            raise ConfigurationError(
                f"Unknown payment methods parameter {payment_methods_param!r}."
            )
        self._methods_param = payment_methods_param
        self.capabilities = GatewayCapabilities(
            currencies=None,
            countries=None,
            payment_methods=frozenset({"card"}),
            refunds=True,
            partial_refunds=True,
            cancel=True,
            authoritative_lookup=False,  # no search by our reference: see lookup()
            amount_steps=stripe_amount_steps(),
        )

    # -- I/O helpers ---------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        call: Callable[[], _T],
        recover: Callable[[stripe.InvalidRequestError], _T] | None = None,
    ) -> _T:
        """Run one SDK call; every exception leaves translated into the domain's.

        ``recover`` may turn an ``InvalidRequestError`` into an answer (or raise a domain error).
        Anything else the SDK raises (it trips over some malformed error bodies) becomes a
        ``GatewayUnavailableError`` that may have charged.
        """
        _ATTEMPTS.reached = []
        try:
            return call()
        except stripe.InvalidRequestError as error:
            if recover is None:
                raise self._translate(error, operation) from error
            return recover(error)
        except stripe.StripeError as error:
            raise self._translate(error, operation) from error
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
    def _translate(error: stripe.StripeError, operation: str) -> PaymentsError:
        attempts = list(_ATTEMPTS.reached) or None
        return translate_stripe_error(error, operation=operation, attempts=attempts)

    @staticmethod
    def _answer_data(
        answer: object, operation: str, what: str, *, charged_possible: bool
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

    def _intent_data(
        self, answer: object, operation: str, *, charged_possible: bool = True
    ) -> Mapping[str, Any]:
        return self._answer_data(
            answer, operation, "PaymentIntent", charged_possible=charged_possible
        )

    @staticmethod
    def _observe(
        data: Mapping[str, Any], source: ObservationSource, operation: str
    ) -> GatewayObservation:
        try:
            return observation_from_intent(data, source)
        except _ShapeError as error:
            raise GatewayUnavailableError(
                f"Stripe answered {operation} with an unusable PaymentIntent: {error}.",
                charged_possible=True,
            ) from error

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """Create a card PaymentIntent under our idempotency key; the payer confirms it in the
        browser with the returned client secret (and this gateway's publishable key).

        Sends ``amount``, lowercase ``currency``, ``["card"]`` as ``payment_methods_param``, and
        metadata (the request's own, then ``purchase_reference`` and ``purchase_id``).
        ``description`` is not sent: localstripe, our integration double, refuses it. Refuses
        before any I/O a payment method other than card and an amount Stripe cannot take exactly.
        """
        if request.payment_method not in (None, "card"):
            raise UnsupportedByGatewayError(
                f"Stripe here takes card payments only, not {request.payment_method}."
            )
        units = to_stripe_amount(request.amount)
        if units <= 0:
            raise InvalidAmountError("A Stripe payment must be of a positive amount.")
        metadata = {
            key: str(value)[:_METADATA_VALUE_LIMIT] for key, value in request.metadata.items()
        }
        metadata["purchase_reference"] = request.reference
        metadata["purchase_id"] = request.purchase_id
        wire: dict[str, Any] = {
            "amount": units,
            "currency": request.amount.currency.code.lower(),
            self._methods_param: ["card"],
            "metadata": metadata,
        }
        params = cast("PaymentIntentCreateParams", wire)
        data = self._call(
            "start_payment",
            lambda: self._intent_data(
                self._client.v1.payment_intents.create(
                    params=params, options={"idempotency_key": request.idempotency_key}
                ),
                "start_payment",
            ),
        )
        secret = data.get("client_secret")
        if not isinstance(secret, str) or not secret:
            raise GatewayUnavailableError(
                "Stripe created the PaymentIntent without a client secret.", charged_possible=True
            )
        return PaymentStart(
            gateway_reference=data["id"],
            next_action=ClientSecretAction(secret, self._publishable_key),
            observation=self._observe(data, ObservationSource.RESPONSE, "start_payment"),
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

        def unknown(error: stripe.InvalidRequestError) -> Mapping[str, Any] | None:
            if error.http_status == 404:
                return None
            raise self._translate(error, "lookup") from error

        def retrieve() -> Mapping[str, Any] | None:
            # A GET acts on nothing: a malformed answer to it cannot have charged.
            answer = self._client.v1.payment_intents.retrieve(gateway_reference)
            return self._intent_data(answer, "lookup", charged_possible=False)

        data = self._call("lookup", retrieve, unknown)
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

        def settled(error: stripe.InvalidRequestError) -> GatewayObservation:
            refusal = self._translate(error, "cancel")
            if error.http_status == 404:
                raise refusal from error
            data = self._call(
                "cancel",
                lambda: self._intent_data(
                    self._client.v1.payment_intents.retrieve(gateway_reference), "cancel"
                ),
            )
            if data.get("status") not in ("canceled", "succeeded"):
                raise refusal from error
            return self._observe(data, ObservationSource.LOOKUP, "cancel")

        def cancel() -> GatewayObservation:
            intent = self._client.v1.payment_intents.cancel(
                gateway_reference, options={"idempotency_key": idempotency_key}
            )
            return self._observe(
                self._intent_data(intent, "cancel"), ObservationSource.RESPONSE, "cancel"
            )

        return self._call("cancel", cancel, settled)

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund through ``POST /v1/refunds`` on the PaymentIntent, under our idempotency key.

        ``amount`` is omitted for a full refund (Stripe refunds what remains) and sent in minor
        units otherwise; ``metadata`` carries ``refund_id`` (echoed back by refund webhooks),
        ``purchase_reference`` and our free-text reason; ``reason`` is sent only when ours is one
        of Stripe's (duplicate, fraudulent, requested_by_customer).
        """
        if not request.gateway_reference:
            raise ValidationError("The purchase has no Stripe PaymentIntent to refund.")
        units = to_stripe_amount(request.amount)
        if units <= 0:
            raise InvalidAmountError("A refund must be of a positive amount.")
        metadata = {
            "refund_id": request.refund_id,
            "purchase_reference": request.purchase_reference,
        }
        if request.reason:
            metadata["reason"] = request.reason[:_METADATA_VALUE_LIMIT]
        params: RefundCreateParams = {
            "payment_intent": request.gateway_reference,
            "metadata": metadata,
        }
        if not request.full:
            params["amount"] = units
        reason = _refund_reason(request.reason)
        if reason is not None:
            params["reason"] = reason
        data = self._call(
            "refund",
            lambda: self._answer_data(
                self._client.v1.refunds.create(
                    params=params, options={"idempotency_key": request.idempotency_key}
                ),
                "refund",
                "Refund",
                charged_possible=True,  # the refund may have been made
            ),
        )
        refund_id = data.get("id")
        status = data.get("status")
        if not isinstance(refund_id, str) or not isinstance(status, str):
            raise GatewayUnavailableError(
                "Stripe answered the refund without an id or status.", charged_possible=True
            )
        if data.get("amount") != units:
            # Stripe refunded what remained, which someone changed meanwhile (the dashboard).
            log.warning(
                "stripe refunded %s minor units of %s for refund %s, which booked %s",
                data.get("amount"),
                request.gateway_reference,
                request.refund_id,
                request.amount,
            )
        result_status = refund_status(status)
        failure = None
        if result_status is RefundStatus.FAILED:
            failure = _optional_str(data.get("failure_reason")) or "refused by Stripe"
        return RefundResult(refund_id, result_status, failure)

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, *, verify: bool = True
    ) -> Notification:
        """Verify the ``stripe-signature`` header against the raw body (unless ``verify`` is
        False) and translate the event with ``translate_event``. Raises
        ``InvalidSignatureError`` or ``MalformedNotificationError``."""
        if verify:
            header = headers.get(SIGNATURE_HEADER)
            verify_signature(header, body, self._secrets, self._clock(), self._tolerance)
        try:
            event = json.loads(body)
        except (ValueError, TypeError) as error:
            raise MalformedNotificationError("A Stripe notification must be JSON.") from error
        return translate_event(event)
