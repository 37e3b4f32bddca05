"""Signed Stripe webhooks per second through the real service on PostgreSQL, then the books checked.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/webhooks.py --help``); see
docs/benchmarks.md. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence

from bench_database import (
    Check,
    books,
    check_reference_settled,
    check_settled_once,
    check_unchanged,
    seed_processing_purchases,
    throwaway_database,
)
from cpu_accounting import CpuShare, database_backends, share, snapshot
from load_drivers import LoadResult, run_python, run_wrk, wrk_available
from service_process import Service, gunicorn_service
from signed_events import WEBHOOK_PATH, SignedDelivery, build_events, sign
from sqlalchemy import Engine, make_url

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
}
DESIGN_FIGURES = (
    ("hand-written Falcon + psycopg handler", 1100),
    ("typical Django view", 560),
    ("dj-stripe", 80),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=5000, help="purchases and events")
    parser.add_argument("--connections", type=int, default=32, help="open HTTP connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--duplicates", type=int, default=2000, help="events posted again in phase 2"
    )
    parser.add_argument(
        "--load-generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when installed, else the (slower) Python one",
    )
    parser.add_argument(
        "--app",
        choices=tuple(APPS),
        default="payments",
        help="payments: the real service; reference: the hand-written yardstick of DESIGN §9",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.purchases < 1 or args.connections < 1 or args.threads < 1 or args.workers < 1:
        parser.error("--purchases, --connections, --threads and --workers must be positive")
    if args.load_generator == "wrk" and not wrk_available():
        parser.error("wrk is not installed (apt-get install -y wrk)")
    if args.load_generator == "auto":
        args.load_generator = "wrk" if wrk_available() else "python"
    return args


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


def drive(
    service: Service, deliveries: Sequence[SignedDelivery], args: argparse.Namespace
) -> LoadResult:
    if args.load_generator == "wrk":
        return run_wrk(
            service.base_url, deliveries, threads=args.threads, connections=args.connections
        )
    return run_python(service.base_url, deliveries, connections=args.connections)


def run_phase(
    service: Service,
    engine: Engine,
    deliveries: Sequence[SignedDelivery],
    args: argparse.Namespace,
) -> tuple[LoadResult, CpuShare]:
    """Post ``deliveries`` once each and account for the CPU everybody used meanwhile."""
    before = snapshot(service.worker_pids(), database_backends(engine))
    result = drive(service, deliveries, args)
    after = snapshot(service.worker_pids(), database_backends(engine))
    return result, share(before, after)


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Stopped from outside: unwind, so that the server stops and the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    shown = make_url(server_url).render_as_string(hide_password=True)
    print(f"payments webhook benchmark: {args.purchases} signed payment_intent.succeeded")
    load = os.getloadavg()[0]
    print(f"  PostgreSQL server   {shown}")
    print(f"  machine             {os.cpu_count()} CPUs, load average {load:.2f} before the run")
    print(
        f"  service             {APPS[args.app]} under gunicorn gthread, {args.workers} "
        f"workers x {args.server_threads} threads, 127.0.0.1"
    )
    if not wrk_available():
        print("  wrk is not installed (apt-get install -y wrk): using the Python load generator")
    elif args.load_generator == "python":
        print("  load generator      the Python one, as asked (--load-generator python)")
    with throwaway_database(server_url, keep=args.keep_db) as database_url:
        engine = make_engine(database_url)
        try:
            ok, rate = benchmark(engine, database_url, args)
        finally:
            engine.dispose()
        if args.keep_db:
            print(f"\n  kept database       {make_url(database_url).database}")
    print(
        "\nDESIGN §9 (2 cores, PostgreSQL): "
        + ", ".join(f"{name} ~{figure:,}/s" for name, figure in DESIGN_FIGURES)
    )
    verdict = "ALL CHECKS PASSED" if ok else "CHECKS FAILED"
    print(f"this run: {rate:,.0f} webhooks/s, {verdict}")
    return 0 if ok else 1


def benchmark(engine: Engine, database_url: str, args: argparse.Namespace) -> tuple[bool, float]:
    """Seed, serve, run both phases and check the books; (all checks passed, webhooks/s)."""
    started = time.perf_counter()
    seeded = seed_processing_purchases(engine, args.purchases)
    print(
        f"  seeded              {len(seeded)} processing purchases in "
        f"{time.perf_counter() - started:.1f} s"
    )
    events = build_events(seeded)
    env = service_env(database_url)
    with gunicorn_service(
        env, workers=args.workers, threads=args.server_threads, app=APPS[args.app]
    ) as service:
        warm_up(service, args.connections)
        idle_rss, _ = service.worker_memory_kib()

        first, cpu = run_phase(service, engine, sign(events, WEBHOOK_SECRET), args)
        rss, peak = service.worker_memory_kib()
        report_load("Phase 1: every event once", first, cpu, "webhooks/s")
        print(
            f"  server RSS          {rss / 1024:.0f} MiB in {args.workers} workers "
            f"(peak {peak / 1024:.0f} MiB, {idle_rss / 1024:.0f} MiB before load)"
        )
        print("  correctness (from the database)")
        answered = Check(
            "every delivery answered processed",
            first.error_count == 0 and first.answers.get("processed") == len(seeded),
            f"{first.answers.get('processed', 0)} of {len(seeded)}, {first.error_count} errors",
        )
        settled = (
            check_settled_once(engine, args.purchases)
            if args.app == "payments"
            else check_reference_settled(engine, args.purchases)
        )
        ok = report_checks([answered, *settled])

        before = books(engine)
        sample = random.Random(7).sample(events, min(args.duplicates, len(events)))
        # A redelivery is the same event signed again, with a fresh timestamp.
        second, cpu = run_phase(service, engine, sign(sample, WEBHOOK_SECRET), args)
        report_load("Phase 2: the same events again (duplicates)", second, cpu, "duplicates/s")
        duplicates = Check(
            "every redelivery answered duplicate",
            second.error_count == 0 and second.answers.get("duplicate") == len(sample),
            f"{second.answers.get('duplicate', 0)} of {len(sample)}, {second.error_count} errors",
        )
        ok = report_checks([duplicates, check_unchanged(before, books(engine))]) and ok
    return ok, first.per_second


if __name__ == "__main__":
    sys.exit(main())
