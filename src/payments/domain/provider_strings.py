"""Strings a provider sends, held to what we store: identities refused, display text cut."""

from __future__ import annotations

import hashlib
import logging
from typing import Final

from payments.domain.errors import GatewayUnavailableError, MalformedNotificationError
from payments.domain.gateway import Notification, PaymentStart, RefundResult
from payments.domain.purchase import GatewayObservation
from payments.domain.text import storable

log = logging.getLogger(__name__)

MAX_IDENTITY_LENGTH: Final = 200
"""Event ids and the provider's payment and refund ids: longer is refused, never cut (a cut id
could name another event or payment). Stripe's are under 40 characters."""

MAX_EVENT_TYPE_LENGTH: Final = 200
"""Event types: the audit trail records ``<provider>:<event type>`` in 255 characters."""


def _identities(notification: Notification) -> list[tuple[str, str | None, int]]:
    """Each identity a notification carries: its name, its value and its longest length."""
    found: list[tuple[str, str | None, int]] = [
        ("event id", notification.event_id, MAX_IDENTITY_LENGTH),
        ("event type", notification.event_type, MAX_EVENT_TYPE_LENGTH),
    ]
    if notification.payment is not None:
        payment = notification.payment
        found += [
            ("payment id", payment.gateway_reference, MAX_IDENTITY_LENGTH),
            ("purchase reference", payment.reference, MAX_IDENTITY_LENGTH),
        ]
    if notification.refund is not None:
        refund = notification.refund
        found += [
            ("refund id", refund.gateway_refund_reference, MAX_IDENTITY_LENGTH),
            ("payment id", refund.gateway_payment_reference, MAX_IDENTITY_LENGTH),
            ("our refund id", refund.refund_id, MAX_IDENTITY_LENGTH),
        ]
    return found


def admit_notification(notification: Notification, body: bytes) -> Notification:
    """A verified notification whose identities we can store, or ``MalformedNotificationError``.

    An identity (event id and type, payment and refund ids) longer than we store, or holding
    text no database can store (NUL), is refused (400) rather than cut: it is logged at warning
    with the body's SHA-256 and length, for an operator to match against the provider's
    dashboard, and nothing is written. Display text (codes, messages) is cut where it is kept
    (``text.provider_code``, ``text.provider_message``), never refused.
    """
    for name, value, limit in _identities(notification):
        if value is None:
            continue
        if len(value) > limit or not storable(value):
            log.warning(
                "refused a signed %s notification: its %s (%d characters) cannot be stored; "
                "body sha256=%s, %d bytes",
                notification.provider,
                name,
                len(value),
                hashlib.sha256(body).hexdigest(),
                len(body),
            )
            raise MalformedNotificationError(
                f"The notification's {name} is longer than {limit} characters or not text."
            )
    return notification


def _refuse_answer(provider: str, name: str, value: str | None) -> None:
    if value is None or (len(value) <= MAX_IDENTITY_LENGTH and storable(value)):
        return
    log.warning(
        "%s answered a %s we cannot store (%d characters); the record stays pending",
        provider,
        name,
        len(value),
    )
    raise GatewayUnavailableError(
        f"{provider} answered a {name} longer than {MAX_IDENTITY_LENGTH} characters or not text.",
        charged_possible=True,
    )


def admit_start(provider: str, start: PaymentStart) -> PaymentStart:
    """A provider's answer to a payment start whose ids we can store, or
    ``GatewayUnavailableError`` (the provider may have charged: nothing is released, the
    purchase stays pending for reconciliation, and its lookup by our reference settles it)."""
    _refuse_answer(provider, "payment id", start.gateway_reference)
    if start.observation is not None:
        admit_observation(provider, start.observation)
    return start


def admit_observation(
    provider: str, observation: GatewayObservation | None
) -> GatewayObservation | None:
    """A lookup's or a cancel's answer whose ids we can store, or ``GatewayUnavailableError``."""
    if observation is not None:
        _refuse_answer(provider, "payment id", observation.gateway_reference)
        _refuse_answer(provider, "purchase reference", observation.reference)
        _refuse_answer(provider, "event id", observation.event_id)
    return observation


def admit_refund_result(provider: str, result: RefundResult) -> RefundResult:
    """A refund's answer whose id we can store, or ``GatewayUnavailableError`` (the refund stays
    booked and pending: sent again under its key, then flagged for an operator)."""
    _refuse_answer(provider, "refund id", result.gateway_refund_reference)
    return result
