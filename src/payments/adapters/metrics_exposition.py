"""The ``/metrics`` scrape: every process's instruments, and the backlog read at scrape time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from payments.adapters.metrics import ServiceMetrics
from payments.domain.services.backlog import Backlog

__all__ = ["BacklogCollector", "MetricsExposition"]

log = logging.getLogger(__name__)


class BacklogCollector(Collector):
    """Gauges computed when scraped: inbox messages by status, unpublished outbox events and
    how long the oldest has waited. A backlog that cannot be read (the database is down) is
    logged and left out; the other metrics are still served."""

    def __init__(self, backlog: Callable[[], Backlog], now: Callable[[], datetime]) -> None:
        self._backlog = backlog
        self._now = now

    def collect(self) -> Iterator[Metric]:
        try:
            backlog = self._backlog()
        except Exception:
            log.warning("metrics: the backlog could not be read", exc_info=True)
            return
        inbox = GaugeMetricFamily(
            "payments_inbox_messages",
            "Provider notifications in the inbox, by status.",
            labels=["status"],
        )
        for status, count in sorted(backlog.inbox.items()):
            inbox.add_metric([status], count)
        yield inbox
        yield GaugeMetricFamily(
            "payments_outbox_unpublished_events",
            "Domain events in the outbox waiting to be published.",
            value=backlog.outbox_waiting,
        )
        yield GaugeMetricFamily(
            "payments_outbox_publish_lag_seconds",
            "How long the oldest unpublished outbox event has waited (0: none waits).",
            value=backlog.publish_lag_seconds(self._now()),
        )


class MetricsExposition:
    """The text a scrape answers. Under gunicorn (``multiprocess_dir`` set) the sum of every
    worker's files; otherwise this process's own registry."""

    def __init__(
        self,
        metrics: ServiceMetrics,
        backlog: Collector,
        multiprocess_dir: str | None = None,
    ) -> None:
        if multiprocess_dir:
            self._registry = CollectorRegistry()
            MultiProcessCollector(self._registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        else:
            self._registry = metrics.registry
        self._registry.register(backlog)

    def scrape(self) -> bytes:
        """The metrics in the Prometheus text format (version 0.0.4)."""
        return generate_latest(self._registry)
