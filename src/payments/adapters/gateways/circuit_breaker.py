"""A circuit breaker around any payment gateway: stop calling a provider that keeps failing."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Protocol, TypeVar

from payments.domain.errors import GatewayUnavailableError, PaymentsError
from payments.domain.gateway import (
    Bank,
    Notification,
    OffSessionCharge,
    PaymentRequest,
    PaymentStart,
    RefundRequest,
    RefundResult,
    SavedPaymentMethod,
    SaveMethodRequest,
)
from payments.domain.ports import PaymentGateway
from payments.domain.purchase import GatewayObservation

log = logging.getLogger(__name__)

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_RESET_AFTER_SECONDS = 30.0

_T = TypeVar("_T")


class CircuitState(StrEnum):
    CLOSED = "closed"  # calls go through; consecutive outages are counted
    OPEN = "open"  # calls fail at once, without I/O, until the reset time
    HALF_OPEN = "half_open"  # one trial call goes through; its outcome closes or reopens


class GatewayCallObserver(Protocol):
    """Told about every provider call the breaker guards (the service's metrics)."""

    def gateway_called(self, gateway: str, operation: str, outcome: str, seconds: float) -> None:
        """``outcome``: ``ok``, ``refused`` (a decline or refusal: the provider answered),
        ``unavailable`` (an outage), ``error`` (anything else), ``circuit_open`` (not sent)."""

    def circuit_changed(self, gateway: str, is_open: bool) -> None:
        """The circuit opened (``is_open``) or closed again."""


class CircuitBreakingGateway(PaymentGateway):
    """Wraps ``inner``: after ``failure_threshold`` outages in a row (``GatewayUnavailableError``)
    the circuit opens, and for ``reset_after`` seconds every call fails at once with
    ``GatewayUnavailableError(charged_possible=False)``: nothing was sent, so the purchase fails
    over to the next gateway of its chain instead of holding a thread for the provider's
    timeouts. Then one trial call is let through: success closes the circuit, an outage opens
    it again.

    Declines, refusals and other answers are the provider working, and close the circuit.
    Notifications are verified locally and always pass. ``observer`` hears of every guarded
    call (operation, outcome, duration) and every change of the circuit.
    """

    def __init__(
        self,
        inner: PaymentGateway,
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        reset_after: float = DEFAULT_RESET_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        observer: GatewayCallObserver | None = None,
    ) -> None:
        if failure_threshold < 1 or reset_after <= 0:
            raise ValueError("A circuit needs a threshold of at least 1 and a positive reset time.")
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self._threshold = failure_threshold
        self._reset_after = reset_after
        self._clock = clock
        self._observer = observer
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> CircuitState:
        """Where the circuit stands now."""
        with self._lock:
            if self._opened_at is None:
                return CircuitState.CLOSED
            if self._clock() - self._opened_at < self._reset_after:
                return CircuitState.OPEN
            return CircuitState.HALF_OPEN

    def _admit(self) -> bool:
        """May a call go through now? True for the trial call of a half-open circuit."""
        with self._lock:
            if self._opened_at is None:
                return False
            waited = self._clock() - self._opened_at
            if waited >= self._reset_after and not self._trial_running:
                self._trial_running = True
                return True
            retry_after = max(math.ceil(self._reset_after - waited), 1)
        raise GatewayUnavailableError(
            f"Gateway {self.name} is failing; calls are paused for a while.",
            charged_possible=False,
            details={"circuit": "open", "retry_after": retry_after},
        )

    def _guarded(self, operation: str, call: Callable[[], _T]) -> _T:
        started = time.perf_counter()
        outcome = "circuit_open"
        try:
            trial = self._admit()
            try:
                result = call()
            except GatewayUnavailableError:
                outcome = "unavailable"
                self._record_outage(trial)
                raise
            except BaseException as error:
                outcome = "refused" if isinstance(error, PaymentsError) else "error"
                self._record_answer(trial)
                raise
            outcome = "ok"
            self._record_answer(trial)
            return result
        finally:
            if self._observer is not None:
                seconds = time.perf_counter() - started
                self._observer.gateway_called(self.name, operation, outcome, seconds)

    def _record_outage(self, trial: bool) -> None:
        with self._lock:
            self._failures += 1
            opened = trial or (self._opened_at is None and self._failures >= self._threshold)
            if trial:
                self._trial_running = False
                self._opened_at = self._clock()
                log.warning("gateway %s: the trial call failed, circuit open again", self.name)
            elif opened:
                self._opened_at = self._clock()
                log.warning(
                    "gateway %s: circuit open after %s outages in a row", self.name, self._failures
                )
        if opened and self._observer is not None:
            self._observer.circuit_changed(self.name, True)

    def _record_answer(self, trial: bool) -> None:
        with self._lock:
            if trial:
                self._trial_running = False
                self._opened_at = None
                log.info("gateway %s: circuit closed, the provider answers again", self.name)
            if self._opened_at is None:
                self._failures = 0
        if trial and self._observer is not None:
            self._observer.circuit_changed(self.name, False)

    # -- the port, guarded -------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """The inner gateway's ``start_payment``, unless the circuit is open."""
        return self._guarded("start_payment", lambda: self.inner.start_payment(request))

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """The inner gateway's ``lookup``, unless the circuit is open."""
        return self._guarded("lookup", lambda: self.inner.lookup(reference, gateway_reference))

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """The inner gateway's ``cancel``, unless the circuit is open."""
        return self._guarded(
            "cancel", lambda: self.inner.cancel(gateway_reference, idempotency_key)
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        """The inner gateway's ``refund``, unless the circuit is open."""
        return self._guarded("refund", lambda: self.inner.refund(request))

    def save_payment_method(self, request: SaveMethodRequest) -> SavedPaymentMethod:
        """The inner gateway's ``save_payment_method``, unless the circuit is open."""
        return self._guarded("save_payment_method", lambda: self.inner.save_payment_method(request))

    def charge_saved_method(self, request: OffSessionCharge) -> PaymentStart:
        """The inner gateway's ``charge_saved_method``, unless the circuit is open."""
        return self._guarded("charge_saved_method", lambda: self.inner.charge_saved_method(request))

    def banks(self, country: str) -> list[Bank]:
        """The inner gateway's ``banks``, unless the circuit is open."""
        return self._guarded("banks", lambda: self.inner.banks(country))

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Always the inner gateway's: verifying a notification calls no provider."""
        return self.inner.verify_notification(headers, body)

    def parse_stored_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Always the inner gateway's: parsing a stored notification calls no provider."""
        return self.inner.parse_stored_notification(headers, body)
