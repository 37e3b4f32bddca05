"""``payments worker`` and ``payments reconcile``: the background jobs.

A worker round runs every job of ``worker_jobs`` in turn. A job is one use-case call that answers
how many things it did, by label; one job's failure is logged and the next still runs. A new
background job is one more ``WorkerJob`` in ``worker_jobs``.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import start_http_server

from payments.adapters.metrics import ServiceMetrics
from payments.config import Settings
from payments.containers import Container
from payments.domain.services.inbox_applier import DEFAULT_CLAIM, InboxApplier
from payments.domain.services.outbox_relay import EventRelay
from payments.domain.services.purchases import PurchaseService, ReconcileReport
from payments.domain.services.use_case import Progress
from payments.domain.services.webhooks import WebhookDispatcher
from payments.entrypoints.cli.common import load_settings, open_container, positive
from payments.entrypoints.cli.progress import progress_bar

log = logging.getLogger("payments")


@dataclass(frozen=True, slots=True)
class WorkerJob:
    """One step of a worker round: ``run`` answers its counts by label (``{"settled": 2}``);
    ``doing`` names it in the line that logs its failure (``worker: <doing> failed; …``)."""

    doing: str
    run: Callable[[], Mapping[str, int]]


def _sweep(
    purchases: PurchaseService,
    settings: Settings,
    limit: int,
    progress: Progress | None = None,
) -> ReconcileReport:
    """Settle stuck purchases from their providers and expire the stale ones, once."""
    return purchases.reconcile(expire_after=settings.payment_window, limit=limit, progress=progress)


def _publishing(relay: EventRelay) -> WorkerJob:
    def publish() -> Mapping[str, int]:
        return {"published": len(relay.publish_pending().published)}

    return WorkerJob("publishing the outbox", publish)


def _merchant_webhooks(dispatcher: WebhookDispatcher, metrics: ServiceMetrics) -> WorkerJob:
    def deliver() -> Mapping[str, int]:
        report = dispatcher.run()
        metrics.webhook_deliveries(report.outcomes())
        return {
            "webhook deliveries made": report.fanned_out,
            "webhooks delivered": report.delivered,
            "webhook attempts retried": report.retried,
            "webhook deliveries failed": report.failed,
            "webhook endpoints disabled": len(report.disabled),
        }

    return WorkerJob("sending merchant webhooks", deliver)


def worker_jobs(
    container: Container, settings: Settings, *, applying_apart: bool = False
) -> list[WorkerJob]:
    """The jobs of one round, in order. With ``PAYMENTS_NATS_URL`` set the outbox is published
    first (what earlier rounds left) and last (the events this round's own work caused).
    ``applying_apart``: threads of their own apply received notifications (ingest mode), so no
    round does it too (two appliers would split each other's batches and hold up the round)."""
    purchases, refunds = container.purchases(), container.refunds()
    notifications, idempotency = container.notifications(), container.idempotency()
    cash_vouchers = container.cash_vouchers()

    def resend_refunds() -> Mapping[str, int]:
        # refunds whose provider answer was lost: sent again under the same provider key
        return {"resent refunds": len(refunds.retry_pending().answered)}

    def retry_notifications() -> Mapping[str, int]:
        return {"retried": sum(notifications.retry_due().values())}

    def apply_received() -> Mapping[str, int]:
        # ingest mode's stored deliveries (decision 0042); in apply mode there are none
        return {"applied": sum(drain_received(container.inbox_applier()))}

    def forget_keys() -> Mapping[str, int]:
        idempotency.purge_expired()
        return {}

    def reconcile() -> Mapping[str, int]:
        report = _sweep(purchases, settings, limit=100)
        return {
            "settled": len(report.settled),
            "expired": len(report.expired),
            "could not look up": len(report.errors),
        }

    def renew_subscriptions() -> Mapping[str, int]:
        # claimed rows: two workers never charge one subscription's period twice
        return container.subscriptions().run_due()

    def number_invoices() -> Mapping[str, int]:
        # after the jobs that complete purchases: their invoices are issued unnumbered
        return {"numbered": container.invoices().number_pending()}

    relay = container.event_relay()
    publishing = [_publishing(relay)] if relay is not None else []
    return [
        *publishing,
        WorkerJob("retrying unanswered refunds", resend_refunds),
        *([] if applying_apart else [WorkerJob("applying received notifications", apply_received)]),
        WorkerJob("retrying notifications", retry_notifications),
        WorkerJob("forgetting expired idempotency keys", forget_keys),
        WorkerJob("expiring unpaid Efecty vouchers", cash_vouchers.expire_due),
        WorkerJob("reconciliation", reconcile),
        WorkerJob("renewing subscriptions", renew_subscriptions),
        WorkerJob("numbering invoices", number_invoices),
        *publishing,
        _merchant_webhooks(container.webhook_dispatcher(), container.metrics()),
    ]


def run_round(jobs: Sequence[WorkerJob], metrics: ServiceMetrics | None = None) -> dict[str, int]:
    """Every job once; the counts summed by label, logged in one line when anything happened.
    ``metrics`` hears of each job's counts, failures and duration, and of the round's end."""
    done: dict[str, int] = {}
    for job in jobs:
        started = time.perf_counter()
        try:
            counts = job.run()
        except Exception:
            log.exception("worker: %s failed; trying again next round", job.doing)
            if metrics is not None:
                metrics.job_ran(job.doing, None, time.perf_counter() - started)
            continue
        if metrics is not None:
            metrics.job_ran(job.doing, dict(counts), time.perf_counter() - started)
        for label, count in counts.items():
            done[label] = done.get(label, 0) + count
    if metrics is not None:
        metrics.round_finished(time.time())
    if any(done.values()):
        log.info("worker: %s", ", ".join(f"{label} {count}" for label, count in done.items()))
    return done


def drain_received(applier: InboxApplier) -> Iterator[int]:
    """Apply received notifications batch after batch while full batches come: how many each
    batch applied."""
    while True:
        applied = sum(applier.apply_received().values())
        yield applied
        if applied < DEFAULT_CLAIM:
            return


def _apply_received_until(applier: InboxApplier, stop: threading.Event, idle: float) -> None:
    """Ingest mode: apply received notifications as they come (a batch as soon as the one
    before ends; ``idle`` seconds between looks when there was nothing) until ``stop``, and
    once more after it, so that what was received before the stop is applied (``--rounds``)."""
    while True:
        stopping = stop.is_set()
        try:
            applied = sum(drain_received(applier))
        except Exception:
            log.exception("worker: applying received notifications failed; trying again")
            if stopping:
                return
            stop.wait(1.0)
            continue
        if stopping:
            return
        if not applied:
            stop.wait(idle)


def cmd_worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    container = open_container(settings)
    appliers = args.apply_threads if settings.ingest_notifications else 0
    jobs = worker_jobs(container, settings, applying_apart=appliers > 0)
    metrics = container.metrics()
    if args.metrics_port:
        # The worker's own metrics (its jobs, the provider calls they make), on loopback unless
        # told otherwise: a scrape target beside the API's /metrics.
        start_http_server(args.metrics_port, args.metrics_address, registry=metrics.registry)
    rounds = 0
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_apply_received_until,
            args=(container.inbox_applier(), stop, args.apply_interval),
            name=f"applying received notifications {number}",
            daemon=True,
        )
        for number in range(appliers)
    ]
    for thread in threads:
        thread.start()
    try:
        while args.rounds == 0 or rounds < args.rounds:
            rounds += 1
            run_round(jobs, metrics)
            if args.rounds == 0 or rounds < args.rounds:
                time.sleep(args.interval)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        relay = container.event_relay()
        if relay is not None:
            relay.close()
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    settings = load_settings()
    purchases = open_container(settings).purchases()
    with progress_bar("reconciling") as progress:
        report = _sweep(purchases, settings, limit=args.limit, progress=progress)
    line = (
        f"looked up {report.looked_up} open purchases: settled {len(report.settled)}, "
        f"expired {len(report.expired)}"
    )
    if report.errors:
        line += f", {len(report.errors)} could not be looked up (see the log)"
    print(line)
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    worker = commands.add_parser(
        "worker",
        help="retry failed notifications, expire stale purchases, renew subscriptions, "
        "publish the outbox to NATS",
    )
    worker.add_argument("--interval", type=float, default=5.0)
    worker.add_argument("--rounds", type=int, default=0, help="stop after N rounds (0: forever)")
    worker.add_argument(
        "--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port"
    )
    worker.add_argument("--metrics-address", default="127.0.0.1")
    worker.add_argument(
        "--apply-interval",
        type=float,
        default=0.05,
        help="ingest mode: seconds between looks for received notifications when none came",
    )
    worker.add_argument(
        "--apply-threads",
        type=positive,
        default=1,
        help="ingest mode: threads applying received notifications in disjoint batches (more "
        "only when the database is far: on one machine, two made smaller batches and cost "
        "PostgreSQL a third more per notification)",
    )
    worker.set_defaults(func=cmd_worker)

    reconcile = commands.add_parser("reconcile", help="settle or expire stuck purchases once")
    reconcile.add_argument("--limit", type=int, default=100)
    reconcile.set_defaults(func=cmd_reconcile)
