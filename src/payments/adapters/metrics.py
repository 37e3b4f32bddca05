"""The service's Prometheus metrics: the instruments every part of the service reports to.

One ``ServiceMetrics`` per process, on its own registry (so each test's container counts from
zero). Under ``payments serve`` (gunicorn) ``PROMETHEUS_MULTIPROC_DIR`` is set and every
worker's values go to files there (``prometheus_client`` multiprocess mode); the scrape adds them
up (``metrics_exposition``). Every name starts ``payments_``; docs/operations.md lists them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values

from payments.domain.events import PurchaseCreated, PurchaseStatusChanged
from payments.domain.purchase import Purchase, PurchaseStatus
from payments.domain.seen import RecordsEvents

__all__ = ["LabelCache", "ServiceMetrics", "use_multiprocess_files"]

M = TypeVar("M", Counter, Gauge, Histogram)

_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNROUTED = "unrouted"
"""The route label of a request no route matched (its raw path would make endless series)."""


def use_multiprocess_files() -> None:
    """Make the metrics created from now on keep their values in ``PROMETHEUS_MULTIPROC_DIR``.

    ``prometheus_client`` picks its value class when it is imported, and the service imports it
    before ``payments serve`` has made the directory: each gunicorn worker calls this once, after
    the fork and before it builds its metrics.
    """
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


class LabelCache(Generic[M]):
    """A metric's children by label values, looked up in a plain dict: ``labels()`` takes a lock
    and converts every value on each call, which the request path does not need to pay."""

    __slots__ = ("_children", "_lock", "_metric")

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}
        self._lock = threading.Lock()

    def __call__(self, *labels: str) -> M:
        child = self._children.get(labels)
        if child is None:
            with self._lock:
                child = self._metric.labels(*labels)
                self._children[labels] = child
        return child


class ServiceMetrics:
    """Requests, webhooks, purchase transitions, gateway calls, circuits and worker jobs."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        counter, histogram = self._counter, self._histogram
        self._requests = counter(
            "payments_http_requests",
            "HTTP requests answered, by route template, method and status.",
            "route",
            "method",
            "status",
        )
        self._request_seconds = histogram(
            "payments_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            "route",
            "method",
        )
        self._webhooks = counter(
            "payments_webhooks",
            "Provider notifications received, by provider and outcome.",
            "provider",
            "outcome",
        )
        self._purchases = counter(
            "payments_purchase_transitions",
            "Purchases that entered a status (creation enters pending), by status and gateway.",
            "status",
            "gateway",
        )
        self._gateway_calls = counter(
            "payments_gateway_calls",
            "Calls to payment providers, by gateway, operation and outcome.",
            "gateway",
            "operation",
            "outcome",
        )
        self._gateway_seconds = histogram(
            "payments_gateway_call_duration_seconds",
            "Time a provider took to answer a call, by gateway and operation.",
            "gateway",
            "operation",
        )
        self._circuit_open = LabelCache(
            Gauge(
                "payments_gateway_circuit_open",
                "1 while a gateway's circuit breaker is open (calls paused) in any live process.",
                ["gateway"],
                registry=self.registry,
                multiprocess_mode="livemax",
            )
        )
        self._job_items = counter(
            "payments_worker_job_items",
            "Things the worker's jobs did, by job and what (settled, retried, published, ...).",
            "job",
            "label",
        )
        self._webhook_deliveries = counter(
            "payments_webhook_deliveries",
            "Merchant webhook sends by outcome (delivered, retried, failed) and endpoints "
            "disabled (disabled).",
            "outcome",
        )
        self._job_failures = counter(
            "payments_worker_job_failures",
            "Worker job runs that failed (tried again the next round), by job.",
            "job",
        )
        self._job_seconds = histogram(
            "payments_worker_job_duration_seconds",
            "Time one run of a worker job took, by job.",
            "job",
        )
        self._last_round = Gauge(
            "payments_worker_last_round_timestamp_seconds",
            "When the worker last finished a round (Unix time): now minus this is its lag.",
            registry=self.registry,
            multiprocess_mode="max",
        )  # fmt: skip

    def _counter(self, name: str, documentation: str, *labels: str) -> LabelCache[Counter]:
        return LabelCache(Counter(name, documentation, labels, registry=self.registry))

    def _histogram(self, name: str, documentation: str, *labels: str) -> LabelCache[Histogram]:
        return LabelCache(Histogram(name, documentation, labels, registry=self.registry))

    # -- HTTP ----------------------------------------------------------------------------------

    def request_answered(self, route: str | None, method: str, status: int, seconds: float) -> None:
        """One answered request; ``route`` is the matched template (None: no route matched)."""
        route = route or UNROUTED
        method = method if method in _HTTP_METHODS else "OTHER"
        self._requests(route, method, str(status)).inc()
        self._request_seconds(route, method).observe(seconds)

    def webhook_received(self, provider: str, outcome: str) -> None:
        """A provider notification's outcome (``processed``, ``duplicate``, …, ``rejected``)."""
        self._webhooks(provider, outcome).inc()

    # -- the books -----------------------------------------------------------------------------

    @staticmethod
    def purchase_moves(aggregates: Iterable[RecordsEvents]) -> list[tuple[str, str | None]]:
        """The transitions the purchases among ``aggregates`` recorded and a unit of work is
        about to commit, as ``(status entered, gateway)``: read before the commit collects the
        events, counted (``purchases_moved``) once it succeeded."""
        moves: list[tuple[str, str | None]] = []
        for aggregate in aggregates:
            if not isinstance(aggregate, Purchase):
                continue
            for event in aggregate.events:
                if isinstance(event, PurchaseStatusChanged):
                    moves.append((event.to_status, aggregate.gateway))
                elif isinstance(event, PurchaseCreated):
                    moves.append((PurchaseStatus.PENDING.value, event.gateway))
        return moves

    def purchases_moved(self, moves: Sequence[tuple[str, str | None]]) -> None:
        """Committed purchase transitions, each ``(status entered, gateway)``."""
        for status, gateway in moves:
            self._purchases(status, gateway or "none").inc()

    # -- providers -----------------------------------------------------------------------------

    def gateway_called(self, gateway: str, operation: str, outcome: str, seconds: float) -> None:
        """One provider call and its outcome (``ok``, ``refused``, ``unavailable``,
        ``circuit_open``: not sent)."""
        self._gateway_calls(gateway, operation, outcome).inc()
        if outcome != "circuit_open":
            self._gateway_seconds(gateway, operation).observe(seconds)

    def circuit_changed(self, gateway: str, is_open: bool) -> None:
        """A gateway's circuit opened or closed."""
        self._circuit_open(gateway).set(1 if is_open else 0)

    # -- the worker ----------------------------------------------------------------------------

    def job_ran(self, job: str, counts: dict[str, int] | None, seconds: float) -> None:
        """One run of a worker job: what it did by label (None: it failed) and how long."""
        self._job_seconds(job).observe(seconds)
        if counts is None:
            self._job_failures(job).inc()
            return
        for label, count in counts.items():
            if count:
                self._job_items(job, label).inc(count)

    def webhook_deliveries(self, outcomes: Mapping[str, int]) -> None:
        """Merchant webhook sends by outcome (``delivered``, ``retried``, ``failed``) and
        endpoints ``disabled``, as one dispatcher round counted them."""
        for outcome, count in outcomes.items():
            if count:
                self._webhook_deliveries(outcome).inc(count)

    def round_finished(self, at: float) -> None:
        """The worker finished a round at Unix time ``at``."""
        self._last_round.set(at)
