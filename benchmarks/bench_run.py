"""One run of the webhook benchmark for one app: seed, serve, post, wait until booked, check.

``webhooks.py`` alternates runs of the service and of the reference handler (A B B A ...) and
sums them up; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from bench_database import (
    OURS,
    Check,
    books,
    check_reference_settled,
    check_settled_once,
    check_unchanged,
    checkpoint,
    preload,
    seed_processing_purchases,
    throwaway_database,
)
from checkouts import CHECKOUT_PATH, build_checkouts, check_checkouts
from cpu_accounting import CpuShare, database_backends, share, snapshot
from load_drivers import LoadResult, run_python, run_wrk
from service_process import Service, gunicorn_service
from signed_events import WEBHOOK_PATH, Postable, build_events, sign
from sqlalchemy import Engine, text

from payments.adapters.sql.engine import make_engine

SERVER_URL_VARIABLE = "PAYMENTS_BENCH_DATABASE_URL"
DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STRIPE_KEY = "sk_test_bench_not_a_real_key"
WEBHOOK_SECRET = "whsec_bench_not_a_real_secret"
# Anything that tried to call Stripe would hit this closed loopback port, never the internet.
UNREACHABLE_STRIPE_API = "http://127.0.0.1:9"
APPS = {
    "payments": "payments.wsgi:application",
    "reference": "reference_handler:application",
    "checkouts": "checkouts:checkout_application",
}
BOOKED_TIMEOUT_SECONDS = 120


def service_env(database_url: str) -> dict[str, str]:
    """Sandbox mode with a fake Stripe test key: the Stripe gateway verifies the webhooks."""
    return {
        "PAYMENTS_DATABASE_URL": database_url,
        "PAYMENTS_MODE": "sandbox",
        "PAYMENTS_ROUTING": "*: stripe",
        "PAYMENTS_STRIPE_SECRET_KEY": STRIPE_KEY,
        "PAYMENTS_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PAYMENTS_STRIPE_API_BASE": UNREACHABLE_STRIPE_API,
        "PAYMENTS_LOG_FORMAT": "console",
    }


@dataclass(frozen=True, slots=True)
class RunFigures:
    """What one run measured."""

    app: str
    booked_per_s: float
    p99_ms: float
    errors: int
    books_ok: bool
    duplicates_per_s: float
    worker_rss_mib: float  # per worker, after the run
    checkouts_per_s: float | None = None
    checkout_p99_ms: float | None = None


def warm_up(service: Service, connections: int) -> None:
    """Build the app in every worker and open some pool connections before measuring.

    Readiness probes and webhooks with a forged signature (400, nothing stored) only.
    """
    host, port = service.base_url.removeprefix("http://").split(":")
    forged = {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=" + "0" * 64}

    def probe() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        for _ in range(10):
            connection.request("GET", "/ready")
            connection.getresponse().read()
            connection.request("POST", WEBHOOK_PATH, b'{"id": "evt_warm_up"}', forged)
            connection.getresponse().read()
        connection.close()

    threads = [threading.Thread(target=probe) for _ in range(min(connections, 16))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_phase(
    service: Service,
    engine: Engine,
    path: str,
    requests: Sequence[Postable],
    args: argparse.Namespace,
    settled: Callable[[LoadResult], object] | None = None,
) -> tuple[LoadResult, CpuShare]:
    """Post ``requests`` once each and account for the CPU everybody used meanwhile (until
    ``settled(result)`` returns, when given: the bookings after the last answer count too)."""
    before = snapshot(service.service_pids(), database_backends(engine))
    if args.load_generator == "wrk":
        result = run_wrk(
            service.base_url,
            path,
            requests,
            threads=args.threads,
            connections=args.connections,
        )
    else:
        result = run_python(service.base_url, path, requests, connections=args.connections)
    if settled is not None:
        settled(result)
    after = snapshot(service.service_pids(), database_backends(engine))
    booking = service.applier.pid if service.applier is not None else None
    return result, share(before, after, booking)


def booked_seconds(engine: Engine, result: LoadResult, count: int) -> float:
    """Seconds from the first delivery sent to the last purchase booked (completed in the
    database), waiting for the bookings if they come after the answers."""
    deadline = time.monotonic() + BOOKED_TIMEOUT_SECONDS
    query = text(
        "SELECT count(*), extract(epoch FROM max(completed_at)) FROM purchases "
        f"WHERE status = 'completed' AND {OURS}"
    )
    while True:
        with engine.connect() as connection:
            done, last = connection.execute(query).one()
        if done >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    # completed_at is wall-clock time; wrk's and our stamps are CLOCK_MONOTONIC.
    last_booked = float(last or 0) - (time.time() - time.monotonic())
    return max(result.finished, last_booked) - result.started


def report_load(title: str, result: LoadResult, cpu: CpuShare, unit: str) -> None:
    print(f"\n{title}")
    print(f"  load generator      {result.driver}")
    print(f"  posted              {result.sent} in {result.seconds:.2f} s")
    print(f"  {unit:<20}{result.per_second:,.0f}")
    print(
        f"  latency             p50 {result.p50_ms:.1f} ms   p90 {result.p90_ms:.1f} ms   "
        f"p99 {result.p99_ms:.1f} ms   max {result.max_ms:.1f} ms"
    )
    answers = ", ".join(f"{k} {v}" for k, v in sorted(result.answers.items())) or "none"
    print(f"  answers             {answers}")
    errors = ", ".join(f"{k} {v}" for k, v in sorted(result.errors.items()))
    print(f"  errors              {result.error_count}" + (f" ({errors})" if errors else ""))
    if result.probes:
        print(f"  tail probes         {result.probes} GET /health while the last answers came")
    shares = cpu.per_request_ms(result.sent)
    print("  CPU per request     " + ", ".join(f"{who} {ms:.2f} ms" for who, ms in shares.items()))
    if cpu.seconds <= 0:
        return
    busy = cpu.machine / (cpu.seconds * cpu.cores) * 100
    print(
        f"  machine             {busy:.0f}% busy over {cpu.cores} cores; the service got "
        f"{cpu.service / cpu.seconds:.2f} cores, PostgreSQL {cpu.database / cpu.seconds:.2f}"
    )
    ours = cpu.service + cpu.database + cpu.load_generator
    if ours > 0:
        # Rough: assumes the run is CPU-bound and scales linearly to all cores.
        print(
            f"  CPU-bound ceiling   ~{cpu.cores * result.sent / ours:,.0f}/s if these "
            f"{cpu.cores} cores ran only this service, PostgreSQL and the load generator"
        )


def report_checks(checks: Sequence[Check]) -> bool:
    for check in checks:
        print(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return all(check.ok for check in checks)


def one_run(server_url: str, app: str, args: argparse.Namespace) -> RunFigures:
    """A fresh database, seeded (and preloaded), and ``app`` under gunicorn: webhooks once,
    then duplicates, then (for the service) checkouts, each checked from the database."""
    with throwaway_database(server_url, keep=args.keep_db) as database_url:
        engine = make_engine(database_url)
        try:
            return _measure(engine, database_url, app, args)
        finally:
            engine.dispose()


def _serve(
    app: str, database_url: str, args: argparse.Namespace
) -> AbstractContextManager[Service]:
    env = service_env(database_url)
    if app == "payments":
        env["PAYMENTS_NOTIFICATION_MODE"] = args.notifications
    return gunicorn_service(
        env,
        workers=args.workers,
        threads=args.server_threads,
        app=APPS[app],
    )


def _measure(engine: Engine, database_url: str, app: str, args: argparse.Namespace) -> RunFigures:
    started = time.perf_counter()
    seeded = seed_processing_purchases(engine, args.purchases)
    preload(engine, args.preload)
    checkpoint(engine)  # every run, of either app, starts with no checkpoint due
    print(
        f"  seeded              {len(seeded)} processing purchases"
        + (f", {args.preload:,} preloaded" if args.preload else "")
        + f" in {time.perf_counter() - started:.1f} s"
    )
    events = build_events(seeded)
    with _serve(app, database_url, args) as service:
        warm_up(service, args.connections)
        booked: list[float] = []

        def all_booked(result: LoadResult) -> None:
            booked.append(booked_seconds(engine, result, len(seeded)))

        deliveries = sign(events, WEBHOOK_SECRET)
        first, cpu = run_phase(service, engine, WEBHOOK_PATH, deliveries, args, all_booked)
        seconds = booked[0]
        rss, _ = service.worker_memory_kib()
        report_load(f"{app}, phase 1: every event once", first, cpu, "answered/s")
        print(f"  booked/s            {len(seeded) / seconds:,.0f} (first sent to last booked)")
        expected = (
            "received" if app == "payments" and args.notifications == "ingest" else "processed"
        )
        answered = Check(
            f"every delivery answered {expected}",
            first.error_count == 0 and first.answers.get(expected) == len(seeded),
            f"{first.answers.get(expected, 0)} of {len(seeded)}, {first.error_count} errors",
        )
        settled = (
            check_settled_once(engine, args.purchases)
            if app == "payments"
            else check_reference_settled(engine, args.purchases)
        )
        ok = report_checks([answered, *settled])
        before = books(engine)
        sample = random.Random(7).sample(events, min(args.duplicates, len(events)))
        # A redelivery is the same event signed again, with a fresh timestamp.
        second, cpu = run_phase(service, engine, WEBHOOK_PATH, sign(sample, WEBHOOK_SECRET), args)
        report_load(f"{app}, phase 2: the same events again", second, cpu, "duplicates/s")
        duplicates = Check(
            "every redelivery answered duplicate",
            second.error_count == 0 and second.answers.get("duplicate") == len(sample),
            f"{second.answers.get('duplicate', 0)} of {len(sample)}, {second.error_count} errors",
        )
        ok = report_checks([duplicates, check_unchanged(before, books(engine))]) and ok
        rss, _ = service.worker_memory_kib()
        figures = RunFigures(
            app=app,
            booked_per_s=len(seeded) / seconds,
            p99_ms=first.p99_ms,
            errors=first.error_count + second.error_count,
            books_ok=ok,
            duplicates_per_s=second.per_second,
            worker_rss_mib=rss / 1024 / max(1, len(service.worker_pids())),
        )
    if app != "payments" or args.checkouts <= 0:
        return figures
    return _checkouts(engine, database_url, figures, args)


def _checkouts(
    engine: Engine, database_url: str, figures: RunFigures, args: argparse.Namespace
) -> RunFigures:
    """``POST /v1/purchases`` with the fake gateway, under the same gunicorn settings."""
    checkouts = build_checkouts(engine, args.checkouts)
    with _serve("checkouts", database_url, args) as service:
        warm_up(service, args.connections)
        result, cpu = run_phase(service, engine, CHECKOUT_PATH, checkouts, args)
        report_load("checkouts: POST /v1/purchases (fake gateway)", result, cpu, "checkouts/s")
        created = Check(
            "every checkout answered 201",
            result.error_count == 0 and result.answers.get("created") == len(checkouts),
            f"{result.answers.get('created', 0)} of {len(checkouts)}, {result.error_count} errors",
        )
        ok = report_checks([created, *check_checkouts(engine, len(checkouts))])
    return replace(
        figures,
        books_ok=figures.books_ok and ok,
        errors=figures.errors + result.error_count,
        checkouts_per_s=result.per_second,
        checkout_p99_ms=result.p99_ms,
    )
