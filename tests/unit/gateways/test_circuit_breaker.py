"""The circuit breaker: a provider that keeps failing is left alone for a while, then tried."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from payments.adapters.gateways.circuit_breaker import CircuitBreakingGateway, CircuitState
from payments.adapters.memory import FakeGateway
from payments.config import Settings
from payments.containers import build_container
from payments.domain.errors import GatewayUnavailableError, PaymentDeclinedError
from payments.domain.gateway import Payer, PaymentRequest, PaymentStart
from payments.domain.money import Money
from payments.domain.purchase import PaymentOutcome
from tests.unit.conftest import MERCHANT, bootstrap


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(n: int) -> PaymentRequest:
    return PaymentRequest(
        purchase_id=f"pur_{n}",
        reference=f"ref_{n}",
        amount=Money("79.99", "EUR"),
        description="8 Hour Premium Package",
        payer=Payer("cus_ana", None, None),
        country="PT",
        payment_method=None,
        idempotency_key=f"pur_{n}:start:0",
    )


def breaker(gateway: FakeGateway, clock: Clock) -> CircuitBreakingGateway:
    return CircuitBreakingGateway(gateway, failure_threshold=3, reset_after=30, clock=clock)


def starts(gateway: FakeGateway) -> int:
    return sum(1 for name, _ in gateway.calls if name == "start_payment")


def fail_three_times(guarded: CircuitBreakingGateway, gateway: FakeGateway) -> None:
    for n in range(3):
        gateway.fail_next(charged=False)
        with pytest.raises(GatewayUnavailableError):
            guarded.start_payment(request(n))


def test_outages_in_a_row_open_the_circuit_and_calls_then_fail_without_io() -> None:
    gateway, clock = FakeGateway("fake"), Clock()
    guarded = breaker(gateway, clock)
    fail_three_times(guarded, gateway)
    assert guarded.state is CircuitState.OPEN
    before = starts(gateway)
    with pytest.raises(GatewayUnavailableError) as fast:
        guarded.start_payment(request(9))
    assert starts(gateway) == before
    assert fast.value.charged_possible is False
    assert fast.value.details == {"circuit": "open", "retry_after": 30}


def test_after_the_reset_time_one_trial_call_closes_the_circuit_when_it_works() -> None:
    gateway, clock = FakeGateway("fake"), Clock()
    guarded = breaker(gateway, clock)
    fail_three_times(guarded, gateway)
    clock.now += 30
    assert guarded.state is CircuitState.HALF_OPEN
    assert isinstance(guarded.start_payment(request(10)), PaymentStart)
    assert guarded.state is CircuitState.CLOSED
    guarded.start_payment(request(11))
    assert starts(gateway) == 5


def test_a_failed_trial_opens_the_circuit_again_for_a_whole_reset_time() -> None:
    gateway, clock = FakeGateway("fake"), Clock()
    guarded = breaker(gateway, clock)
    fail_three_times(guarded, gateway)
    clock.now += 31
    gateway.fail_next(charged=False)
    with pytest.raises(GatewayUnavailableError):
        guarded.start_payment(request(10))
    assert guarded.state is CircuitState.OPEN
    clock.now += 29
    with pytest.raises(GatewayUnavailableError) as fast:
        guarded.start_payment(request(11))
    assert fast.value.details["circuit"] == "open"
    assert starts(gateway) == 4


def test_declines_are_the_provider_working_and_never_open_the_circuit() -> None:
    gateway, clock = FakeGateway("fake"), Clock()
    guarded = breaker(gateway, clock)
    for n in range(10):
        gateway.decline_next()
        with pytest.raises(PaymentDeclinedError):
            guarded.start_payment(request(n))
    assert guarded.state is CircuitState.CLOSED


def test_an_answer_between_outages_starts_the_count_again() -> None:
    gateway, clock = FakeGateway("fake"), Clock()
    guarded = breaker(gateway, clock)
    for round_ in range(3):
        for n in range(2):
            gateway.fail_next(charged=False)
            with pytest.raises(GatewayUnavailableError):
                guarded.start_payment(request(round_ * 10 + n))
        guarded.start_payment(request(round_ * 10 + 5))
    assert guarded.state is CircuitState.CLOSED


def test_only_one_trial_call_runs_while_the_circuit_is_half_open() -> None:
    release, entered = threading.Event(), threading.Event()

    class SlowGateway(FakeGateway):
        def start_payment(self, request: PaymentRequest) -> PaymentStart:
            if request.purchase_id == "pur_slow":
                entered.set()
                release.wait(5)
            return super().start_payment(request)

    gateway, clock = SlowGateway("fake"), Clock()
    guarded = breaker(gateway, clock)
    fail_three_times(guarded, gateway)
    clock.now += 30
    trial = threading.Thread(target=lambda: guarded.start_payment(request_named("pur_slow")))
    trial.start()
    assert entered.wait(5)
    with pytest.raises(GatewayUnavailableError):
        guarded.start_payment(request(12))  # the trial is still out: this one waits its turn
    release.set()
    trial.join(5)
    assert guarded.state is CircuitState.CLOSED


def request_named(purchase_id: str) -> PaymentRequest:
    base = request(99)
    return PaymentRequest(
        purchase_id=purchase_id,
        reference=base.reference,
        amount=base.amount,
        description=base.description,
        payer=base.payer,
        country=base.country,
        payment_method=None,
        idempotency_key=f"{purchase_id}:start:0",
    )


def test_notifications_are_verified_while_the_circuit_is_open() -> None:
    gateway, clock = FakeGateway("fake"), Clock()
    guarded = breaker(gateway, clock)
    start = guarded.start_payment(request(50))
    fail_three_times(guarded, gateway)
    headers, body = gateway.notification(start.gateway_reference, PaymentOutcome.SUCCEEDED)
    assert guarded.verify_notification(headers, body).payment is not None


def test_an_open_circuit_sends_new_purchases_to_the_next_gateway_of_the_chain() -> None:
    first, second = FakeGateway("first"), FakeGateway("second")
    clock = Clock()
    guarded = breaker(first, clock)
    payments = bootstrap([guarded, second], routing="*: first, second")  # type: ignore[list-item]
    product = payments.premium_package()
    for n in range(3):
        first.fail_next(charged=False)
        payments.buy(product, f"cus_{n}")
    calls_before = starts(first)
    purchase = payments.purchases.get(payments.buy(product, "cus_late"), MERCHANT)
    assert purchase.gateway == "second"
    assert starts(first) == calls_before  # no thread waited on the failing provider
    assert payments.accounts.get("cus_late", MERCHANT).credits == Decimal("0")


def test_the_service_puts_every_gateway_behind_a_circuit_breaker(tmp_path: Path) -> None:
    settings = Settings.from_env({"PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    registry = build_container(settings).gateways()
    for name in ("stripe", "wompi"):
        assert isinstance(registry[name], CircuitBreakingGateway)


class Heard:
    """An observer that keeps what the breaker told it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.circuits: list[tuple[str, bool]] = []

    def gateway_called(self, gateway: str, operation: str, outcome: str, seconds: float) -> None:
        assert seconds >= 0
        self.calls.append((gateway, operation, outcome))

    def circuit_changed(self, gateway: str, is_open: bool) -> None:
        self.circuits.append((gateway, is_open))


def test_the_observer_hears_each_call_its_outcome_and_the_circuit_opening_and_closing() -> None:
    gateway, clock, heard = FakeGateway(), Clock(), Heard()
    guarded = CircuitBreakingGateway(
        gateway, failure_threshold=3, reset_after=30, clock=clock, observer=heard
    )
    guarded.start_payment(request(10))
    gateway.decline_next()
    with pytest.raises(PaymentDeclinedError):
        guarded.start_payment(request(11))
    fail_three_times(guarded, gateway)
    with pytest.raises(GatewayUnavailableError):
        guarded.start_payment(request(5))  # not sent: the circuit is open
    clock.now += 31
    guarded.start_payment(request(6))  # the trial call closes it

    outcomes = [outcome for _, _, outcome in heard.calls]
    assert outcomes == ["ok", "refused", *["unavailable"] * 3, "circuit_open", "ok"]
    assert {(name, operation) for name, operation, _ in heard.calls} == {("fake", "start_payment")}
    assert heard.circuits == [("fake", True), ("fake", False)]
