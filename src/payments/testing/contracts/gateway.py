"""The gateway contract: one abstract suite that every PaymentGateway, fake or real, must pass.

Each adapter has a concrete ``Test...`` class that subclasses ``GatewayContract`` and provides
the ``subject`` fixture: the gateway wired to its provider (the fake's own state, or a simulator
over real loopback HTTP) and a ``ProviderDriver`` that acts on the provider's side (approve,
decline, sign, count requests), so that these tests never name an adapter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal

import pytest

from payments.domain.errors import (
    IdempotencyConflictError,
    InvalidSignatureError,
    InvalidTransitionError,
    MalformedNotificationError,
    PaymentsError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
    ValidationError,
)
from payments.domain.gateway import (
    GatewayCapabilities,
    PaymentRequest,
    PaymentStart,
)
from payments.domain.money import Money
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus
from payments.testing.contracts.gateway_subject import (
    PRICE,
    Delivery,
    GatewayUnderTest,
    ProviderDriver,
    payment_request,
    refund_request,
)
from payments.testing.expect import expect, expect_equal, fail, present

__all__ = [
    "PRICE",
    "Delivery",
    "GatewayContract",
    "GatewayUnderTest",
    "ProviderDriver",
    "expect_capture",
    "outcome",
    "payment_request",
    "refund_request",
    "refused_requests",
]

# Vocabularies to find what a gateway's declaration refuses; "carrier_pigeon" is refused by all.
_METHODS = ("card", "pse", "nequi", "bank_transfer", "cash", "carrier_pigeon")
_CURRENCIES = ("EUR", "USD", "COP", "MXN", "GBP", "JPY", "KWD")
_COUNTRIES = ("ES", "PT", "CO", "MX", "US")


def refused_requests(
    caps: GatewayCapabilities, served: str = "ES"
) -> list[tuple[str, PaymentRequest, type]]:
    """Requests the declared capabilities refuse, each with the error the gateway must raise
    (the amount-step and minimum cases are asked in ``served``, a country the gateway serves)."""
    unsupported = UnsupportedByGatewayError
    cases: list[tuple[str, PaymentRequest, type]] = []
    for method in _METHODS:
        if method not in caps.payment_methods:
            request = payment_request(f"ref_{method}", method=method)
            cases.append((f"method {method}", request, unsupported))
    for code in _CURRENCIES:
        if caps.currencies is not None and code not in caps.currencies:
            request = payment_request(f"ref_{code}", amount=Money("10", code))
            cases.append((f"currency {code}", request, unsupported))
    for country in _COUNTRIES:
        if caps.countries is not None and country not in caps.countries:
            request = payment_request(f"ref_{country}", country=country)
            cases.append((f"country {country}", request, unsupported))
    for code, step in sorted(caps.amount_steps.items())[:2]:
        if step > 1:
            unit = Money.zero(code)
            off_step = Money(Decimal(1).scaleb(-unit.currency.exponent), code)
            request = payment_request(f"ref_step_{code}", amount=off_step, country=served)
            cases.append((f"{off_step} off its step", request, ValidationError))
    if caps.minimum_amount is not None:
        minimum = caps.minimum_amount
        below = minimum - Money(Decimal(1).scaleb(-minimum.currency.exponent), minimum.currency)
        if below.is_positive:
            request = payment_request("ref_below_minimum", amount=below, country=served)
            cases.append((f"{below} below the minimum", request, ValidationError))
    return cases


def expect_capture(
    seen: GatewayObservation | None,
    source: ObservationSource,
    subject: GatewayUnderTest,
    start: PaymentStart,
    reference: str,
    *,
    amount: Money | None = None,
) -> None:
    """``seen`` (from ``source``) reports the capture of ``amount`` for the payment ``start``
    began under our ``reference``."""
    if seen is None:
        fail(f"expected the {source.value} to report the capture, got None")
    expect(seen.outcome is PaymentOutcome.SUCCEEDED, seen.outcome)
    expect(seen.source is source, seen.source)
    expect_equal(seen.gateway, subject.gateway.name)
    expect_equal(seen.gateway_reference, start.gateway_reference)
    expect_equal(seen.reference, reference)
    expect_equal(seen.amount, amount or subject.price)


def outcome(call: Callable[[], object]) -> str:
    """The name of the exception ``call`` raised, or ``"accepted"``: readable in a failed diff."""
    try:
        call()
    except Exception as error:
        return type(error).__name__
    return "accepted"


def _parse_signed(subject: GatewayUnderTest, body: bytes) -> object:
    """``body`` parsed with the headers its provider would sign it with."""
    return subject.gateway.verify_notification(subject.provider.signed(body), body)


_GARBAGE = (
    b"",
    b"not json at all",
    b"\xff\xfe\x00\x81",
    b"[]",
    b'"a string"',
    b"42",
    b"{}",
    b'{"id": 7, "type": ["payment.succeeded"]}',
)


class GatewayContract:
    """What every ``PaymentGateway`` promises; subclasses provide the ``subject`` fixture."""

    # -- starting payments ---------------------------------------------------------------------

    def test_every_declared_method_starts_with_its_declared_next_action(
        self, subject: GatewayUnderTest
    ) -> None:
        gateway = subject.gateway
        expect_equal(set(subject.next_actions), set(gateway.capabilities.payment_methods))
        for method, kind in sorted(subject.next_actions.items()):
            start = gateway.start_payment(subject.request(f"ref_start_{method}", method=method))
            expect(isinstance(start.gateway_reference, str))
            expect(start.gateway_reference)
            expect(isinstance(start.next_action, kind), method)
            if start.observation is not None:
                expect(start.observation.outcome is PaymentOutcome.PROCESSING)
                expect_equal(start.observation.gateway, gateway.name)
                expect_equal(start.observation.reference, f"ref_start_{method}")
                expect_equal(start.observation.amount, subject.price)

    def test_repeated_start_with_one_idempotency_key_makes_one_payment(
        self, subject: GatewayUnderTest
    ) -> None:
        first = subject.gateway.start_payment(subject.request("ref_again"))
        again = subject.gateway.start_payment(subject.request("ref_again"))
        expect_equal(again.gateway_reference, first.gateway_reference)
        expect_equal(subject.provider.payments_under("ref_again"), 1)
        seen = subject.gateway.lookup("ref_again", first.gateway_reference)
        if seen is None:
            fail("expected a value: seen")
        expect_equal(seen.gateway_reference, first.gateway_reference)

    def test_same_key_with_another_request_is_an_idempotency_conflict(
        self, subject: GatewayUnderTest
    ) -> None:
        subject.gateway.start_payment(subject.request("ref_shared", key="shared-key"))
        more = subject.price + subject.price
        with pytest.raises(IdempotencyConflictError):
            subject.gateway.start_payment(
                subject.request("ref_shared", key="shared-key", amount=more)
            )
        expect_equal(subject.provider.payments_under("ref_shared"), 1)

    def test_request_its_capabilities_refuse_fails_before_any_io(
        self, subject: GatewayUnderTest
    ) -> None:
        caps = subject.gateway.capabilities
        cases = refused_requests(caps, subject.country)
        expect(cases, "every gateway refuses at least an unknown method")
        before = subject.provider.requests_seen()
        for name, request, error in cases:
            expect(caps.refusal(request.country, request.amount, request.payment_method), name)
            with pytest.raises(error):
                subject.gateway.start_payment(request)
        expect_equal(subject.provider.requests_seen(), before)
        expect(all(subject.provider.payments_under(r.reference) == 0 for _, r, _ in cases))

    # -- looking up ----------------------------------------------------------------------------

    def test_lookup_before_any_start_finds_nothing(self, subject: GatewayUnderTest) -> None:
        expect(subject.gateway.lookup("ref_never_started", None) is None)
        expect(subject.gateway.lookup("ref_never_started", "unknown_payment_0001") is None)

    @pytest.mark.parametrize(
        "amount",
        [
            Money("79.99", "EUR"),
            Money("19.99", "USD"),
            Money("5000", "JPY"),
            Money("12.340", "KWD"),
            Money("50000.00", "COP"),
        ],
        ids=str,
    )
    def test_lookup_after_approval_reports_the_capture_of_the_exact_amount(
        self, subject: GatewayUnderTest, amount: Money
    ) -> None:
        reference = f"ref_paid_{amount.currency.code}"
        method = subject.request(reference).payment_method  # the subject's method, card if any
        if subject.gateway.capabilities.refusal(subject.country, amount, method) is not None:
            pytest.skip(f"the gateway does not charge {amount}")
        start = subject.gateway.start_payment(subject.request(reference, amount=amount))
        subject.provider.approve(start.gateway_reference)
        seen = subject.gateway.lookup(reference, start.gateway_reference)
        expect_capture(seen, ObservationSource.LOOKUP, subject, start, reference, amount=amount)
        expect_equal(present(present(seen).amount).to_dict(), amount.to_dict())

    def test_declared_authoritative_lookup_finds_a_capture_by_our_reference_alone(
        self, subject: GatewayUnderTest
    ) -> None:
        start = subject.gateway.start_payment(subject.request("ref_lost_answer"))
        subject.provider.approve(start.gateway_reference)
        seen = subject.gateway.lookup("ref_lost_answer", None)
        if not subject.gateway.capabilities.authoritative_lookup:
            expect(seen is None)  # it says it cannot search by our reference, and does not guess
            return
        if seen is None:
            fail("expected a value: seen")
        expect(seen.outcome is PaymentOutcome.SUCCEEDED)
        expect_equal(seen.gateway_reference, start.gateway_reference)

    def test_decline_is_observed_as_a_failure_with_its_code(
        self, subject: GatewayUnderTest
    ) -> None:
        start = subject.gateway.start_payment(subject.request("ref_declined"))
        headers, body = subject.provider.decline(start.gateway_reference)
        seen = subject.gateway.lookup("ref_declined", start.gateway_reference)
        if seen is None:
            fail("expected a value: seen")
        expect(seen.outcome is PaymentOutcome.FAILED)
        expect(seen.provider_code)
        notified = subject.gateway.verify_notification(headers, body).payment
        if notified is None:
            fail("expected a value: notified")
        expect(notified.outcome is PaymentOutcome.FAILED)
        expect_equal(notified.gateway_reference, start.gateway_reference)
        expect(notified.provider_code)

    # -- cancelling ----------------------------------------------------------------------------

    def test_cancel_of_an_uncaptured_payment_is_observed_cancelled(
        self, subject: GatewayUnderTest
    ) -> None:
        if not subject.gateway.capabilities.cancel:
            pytest.skip("the gateway does not declare cancel")
        start = subject.gateway.start_payment(subject.request("ref_cancel"))
        seen = subject.gateway.cancel(start.gateway_reference, "pur_ref_cancel:cancel")
        expect(seen.outcome is PaymentOutcome.CANCELLED)
        expect_equal(seen.gateway_reference, start.gateway_reference)
        looked_up = subject.gateway.lookup("ref_cancel", start.gateway_reference)
        if looked_up is None:
            fail("expected a value: looked_up")
        expect(looked_up.outcome is PaymentOutcome.CANCELLED)

    def test_cancel_of_a_captured_payment_reports_the_capture(
        self, subject: GatewayUnderTest
    ) -> None:
        start = subject.gateway.start_payment(subject.request("ref_too_late"))
        subject.provider.approve(start.gateway_reference)
        seen = subject.gateway.cancel(start.gateway_reference, "pur_ref_too_late:cancel")
        expect(seen.outcome is PaymentOutcome.SUCCEEDED)
        expect_equal(seen.amount, subject.price)

    # -- refunding -----------------------------------------------------------------------------

    def _captured(self, subject: GatewayUnderTest, reference: str) -> str:
        start = subject.gateway.start_payment(subject.request(reference))
        subject.provider.approve(start.gateway_reference)
        return start.gateway_reference

    @staticmethod
    def _requires_partial_refunds(subject: GatewayUnderTest) -> None:
        if not subject.gateway.capabilities.partial_refunds:
            pytest.skip("the gateway does not declare partial refunds")

    @pytest.mark.parametrize("full", [True, False], ids=["full", "partial"])
    def test_refund_sent_twice_with_one_key_refunds_once(
        self, subject: GatewayUnderTest, full: bool
    ) -> None:
        if not full:
            self._requires_partial_refunds(subject)
        amount = subject.price if full else subject.part(3, 8)
        paid = self._captured(subject, "ref_refund_once")
        first = subject.gateway.refund(refund_request(paid, amount, key="once", full=full))
        again = subject.gateway.refund(refund_request(paid, amount, key="once", full=full))
        expect(first.status is not RefundStatus.FAILED)
        expect_equal(again.gateway_refund_reference, first.gateway_refund_reference)
        expect_equal(subject.provider.refunded(paid), amount)

    def test_partial_refunds_add_up_to_the_whole_capture(self, subject: GatewayUnderTest) -> None:
        self._requires_partial_refunds(subject)
        paid = self._captured(subject, "ref_refund_parts")
        first = subject.part(3, 8)
        parts = [first, subject.price - first]
        results = [
            subject.gateway.refund(refund_request(paid, part, key=f"part{n}"))
            for n, part in enumerate(parts)
        ]
        expect_equal(len({r.gateway_refund_reference for r in results}), 2)
        expect_equal(subject.provider.refunded(paid), subject.price)

    def test_refund_beyond_what_remains_is_refused_as_exceeding(
        self, subject: GatewayUnderTest
    ) -> None:
        self._requires_partial_refunds(subject)
        paid = self._captured(subject, "ref_refund_too_much")
        some = subject.part(3, 8)
        one_unit = Money.from_minor_units(1, subject.price.currency)
        too_much = subject.price - some + one_unit  # one minor unit more than remains
        subject.gateway.refund(refund_request(paid, some, key="some"))
        with pytest.raises(RefundExceedsCapturedError):
            subject.gateway.refund(refund_request(paid, too_much, key="too_much"))
        expect_equal(subject.provider.refunded(paid), some)

    def test_refund_of_an_uncaptured_payment_is_an_invalid_transition(
        self, subject: GatewayUnderTest
    ) -> None:
        start = subject.gateway.start_payment(subject.request("ref_refund_unpaid"))
        with pytest.raises(InvalidTransitionError):
            subject.gateway.refund(
                refund_request(start.gateway_reference, subject.price, key="unpaid", full=True)
            )

    # -- notifications -------------------------------------------------------------------------

    def test_genuine_approval_notification_parses_to_the_capture(
        self, subject: GatewayUnderTest
    ) -> None:
        start = subject.gateway.start_payment(subject.request("ref_notified"))
        headers, body = subject.provider.approve(start.gateway_reference)
        notification = subject.gateway.verify_notification(headers, body)
        expect_equal(notification.provider, subject.gateway.name)
        expect(notification.event_id)
        observation = notification.payment
        expect_capture(observation, ObservationSource.NOTIFICATION, subject, start, "ref_notified")
        expect_equal(present(observation).event_id, notification.event_id)
        # An operator replay reads the stored message without checking the signature again.
        expect_equal(subject.gateway.parse_stored_notification({}, body), notification)

    def test_tampered_unsigned_or_garbled_signature_is_refused(
        self, subject: GatewayUnderTest
    ) -> None:
        start = subject.gateway.start_payment(subject.request("ref_forged"))
        headers, body = subject.provider.approve(start.gateway_reference)
        verify = subject.gateway.verify_notification
        garbled = subject.provider.garbled(headers, body)
        another = subject.provider.signed_by_another(body)
        tampered = subject.provider.tampered(body)
        unsigned = subject.provider.unsigned(body)
        forged = {
            "tampered body": outcome(lambda: verify(headers, tampered)),
            "no signature": outcome(lambda: verify({}, unsigned)),
            "garbled signature": outcome(lambda: verify(*garbled)),
            "another body's signature": outcome(lambda: verify(*another)),
        }
        expect_equal(forged, dict.fromkeys(forged, InvalidSignatureError.__name__))

    def test_garbage_body_is_malformed_or_refused_as_unsigned(
        self, subject: GatewayUnderTest
    ) -> None:
        parse_stored = subject.gateway.parse_stored_notification
        refusals = {MalformedNotificationError.__name__, InvalidSignatureError.__name__}
        for body in _GARBAGE:
            signed = outcome(functools.partial(_parse_signed, subject, body))
            expect(signed in refusals, body)
            unverified = outcome(functools.partial(parse_stored, {}, body))
            expect_equal(unverified, MalformedNotificationError.__name__, body)

    # -- errors --------------------------------------------------------------------------------

    def test_only_domain_errors_leave_the_gateway(self, subject: GatewayUnderTest) -> None:
        gateway = subject.gateway
        paid = self._captured(subject, "ref_hostile")
        unknown = "unknown_payment_0001"
        currency = subject.price.currency
        unit = Decimal(1).scaleb(-currency.exponent)
        other = "USD" if currency.code != "USD" else "EUR"
        garbled = dict.fromkeys(subject.provider.signed(b"{}"), "\u00e9")
        attempts: dict[str, Callable[[], object]] = {
            "cancel an unknown payment": lambda: gateway.cancel(unknown, "k1"),
            "refund an unknown payment": lambda: gateway.refund(
                refund_request(unknown, Money(unit, currency), key="k2")
            ),
            "refund in another currency": lambda: gateway.refund(
                refund_request(paid, Money("1.00", other), key="k3")
            ),
            "refund nothing": lambda: gateway.refund(
                refund_request(paid, Money.zero(currency), key="k4")
            ),
            "look up another purchase's payment": lambda: gateway.lookup("ref_other", paid),
            "start at zero": lambda: gateway.start_payment(
                subject.request("ref_zero", amount=Money.zero(currency))
            ),
            "start below a cent": lambda: gateway.start_payment(
                subject.request("ref_inexact", amount=Money(unit / 10 + 1, currency))
            ),
            "parse a non-ASCII signature": lambda: gateway.verify_notification(garbled, b"{}"),
        }
        escaped: dict[str, str] = {}
        for name, attempt in attempts.items():
            try:
                attempt()
            except PaymentsError:
                pass
            except Exception as error:
                escaped[name] = f"{type(error).__module__}.{type(error).__name__}: {error}"
        expect_equal(escaped, {})
