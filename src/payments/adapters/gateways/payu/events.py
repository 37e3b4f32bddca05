"""PayU's confirmation page (its webhook) and transaction states in our terms: observations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from payments.adapters.gateways.payu.amounts import from_payu_value
from payments.adapters.gateways.payu.settings import GATEWAY_NAME, SignatureAlgorithm
from payments.adapters.gateways.payu.signatures import verify_confirmation_signature
from payments.adapters.wire.notification_fields import required_text
from payments.adapters.wire.notification_form import parse_form_notification
from payments.domain.errors import MalformedNotificationError, ValidationError
from payments.domain.gateway import Notification
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome

__all__ = [
    "CONFIRMATION_STATES",
    "confirmation_event_id",
    "confirmation_fields",
    "notification_from_body",
    "notification_from_confirmation",
    "outcome_from_state_pol",
    "outcome_from_transaction_state",
    "verified_notification",
]

CONFIRMATION_STATES: Final[Mapping[str, tuple[PaymentOutcome, str]]] = {
    "4": (PaymentOutcome.SUCCEEDED, "confirmation.approved"),
    "6": (PaymentOutcome.FAILED, "confirmation.declined"),
    "5": (PaymentOutcome.EXPIRED, "confirmation.expired"),
    # 7 is not in the confirmation page's table (PayU reports final states only); it is a
    # response-page state, tolerated here as pending (reference §2.6).
    "7": (PaymentOutcome.PROCESSING, "confirmation.pending"),
}
"""Each ``state_pol``: what it means, and the ``Notification.event_type`` it is reported as."""

_TRANSACTION_STATES: Final[Mapping[str, PaymentOutcome]] = {
    "APPROVED": PaymentOutcome.SUCCEEDED,
    "DECLINED": PaymentOutcome.FAILED,
    "ERROR": PaymentOutcome.FAILED,
    "EXPIRED": PaymentOutcome.EXPIRED,
    "PENDING": PaymentOutcome.PROCESSING,
    "SUBMITTED": PaymentOutcome.PROCESSING,
}


def outcome_from_state_pol(state_pol: str) -> PaymentOutcome:
    """What a confirmation's ``state_pol`` means (reference §2.6): 4 approved -> succeeded,
    6 declined -> failed, 5 expired -> expired, 7 -> still processing (pending). Any other
    value raises ``MalformedNotificationError``."""
    state = CONFIRMATION_STATES.get(state_pol)
    if state is None:
        raise MalformedNotificationError(f"Unknown PayU state_pol {state_pol!r}.")
    return state[0]


def outcome_from_transaction_state(state: str) -> PaymentOutcome:
    """What an API answer's ``transactionResponse.state`` means (reference §2.4): APPROVED ->
    succeeded; DECLINED and ERROR -> failed; EXPIRED -> expired; PENDING and SUBMITTED -> still
    processing. Any other value raises ``MalformedNotificationError``."""
    outcome = _TRANSACTION_STATES.get(state) if isinstance(state, str) else None
    if outcome is None:
        raise MalformedNotificationError(f"Unknown PayU transaction state {state!r}.")
    return outcome


def confirmation_event_id(transaction_id: str, state_pol: str) -> str:
    """The inbox id of a confirmation: PayU's ``transaction_id`` and ``state_pol``. PayU sends
    no event id; a payer's retry is a new transaction id (reference §2.6), a redelivery of the
    same report the same pair."""
    return f"{transaction_id}:{state_pol}"


def confirmation_fields(body: bytes) -> dict[str, str]:
    """The fields of a form-encoded confirmation body (reference §2.6), parsed with the limits
    of ``parse_form_notification``; ``MalformedNotificationError`` for anything else."""
    return parse_form_notification(body, "PayU")


def _required(fields: Mapping[str, str], name: str) -> str:
    return required_text(fields, name, what="The PayU confirmation")


def notification_from_confirmation(
    fields: Mapping[str, str], *, gateway: str = GATEWAY_NAME
) -> Notification:
    """Translate the decoded fields of a confirmation (verified, or verified when stored).

    ``reference_sale`` is our purchase reference; ``reference_pol`` (PayU's order id, the same
    across a payer's retries) is the gateway reference; ``value`` and ``currency`` are the
    observed Money; the event id is ``transaction_id:state_pol``. A decline or an expiry carries
    ``response_message_pol`` as the provider code (``response_code_pol`` when it is absent).
    Raises ``MalformedNotificationError`` for a missing field, an unknown ``state_pol`` or a
    value that is not an amount.
    """
    state_pol = _required(fields, "state_pol")
    outcome = outcome_from_state_pol(state_pol)
    event_id = confirmation_event_id(_required(fields, "transaction_id"), state_pol)
    try:
        amount = from_payu_value(_required(fields, "value"), _required(fields, "currency"))
    except ValidationError as error:
        raise MalformedNotificationError("The PayU confirmation's value is invalid.") from error
    settled_badly = outcome in (PaymentOutcome.FAILED, PaymentOutcome.EXPIRED)
    code = fields.get("response_message_pol") or fields.get("response_code_pol") or None
    observation = GatewayObservation(
        gateway=gateway,
        outcome=outcome,
        source=ObservationSource.NOTIFICATION,
        gateway_reference=fields.get("reference_pol") or None,
        reference=_required(fields, "reference_sale"),
        amount=amount,
        event_id=event_id,
        provider_code=code if settled_badly else None,
        message=_message(fields) if settled_badly else None,
    )
    return Notification(gateway, event_id, CONFIRMATION_STATES[state_pol][1], payment=observation)


def _message(fields: Mapping[str, str]) -> str:
    name = fields.get("response_message_pol") or "no response message"
    code = fields.get("response_code_pol")
    return f"PayU: {name} (response_code_pol {code})" if code else f"PayU: {name}"


def notification_from_body(body: bytes, *, gateway: str = GATEWAY_NAME) -> Notification:
    """Translate a raw confirmation body that was verified when it was stored."""
    return notification_from_confirmation(confirmation_fields(body), gateway=gateway)


def verified_notification(
    body: bytes,
    *,
    api_key: str,
    merchant_id: str,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.MD5,
    gateway: str = GATEWAY_NAME,
) -> Notification:
    """Decode a raw confirmation body, check its ``sign`` (``verify_confirmation_signature``)
    and translate it. ``InvalidSignatureError`` or ``MalformedNotificationError`` otherwise."""
    fields = confirmation_fields(body)
    verify_confirmation_signature(
        fields, api_key=api_key, merchant_id=merchant_id, algorithm=algorithm
    )
    return notification_from_confirmation(fields, gateway=gateway)
