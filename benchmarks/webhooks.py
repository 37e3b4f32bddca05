"""Signed Stripe webhooks booked per second, the service against the hand-written reference.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/webhooks.py --help``); see
docs/benchmarks.md. Never part of the test suite. Runs alternate (service, reference,
reference, service, ...), each on a fresh database, and the last line printed is one JSON
object of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
from collections.abc import Sequence

import memory
from bench_run import (
    APPS,
    DEFAULT_SERVER_URL,
    SERVER_URL_VARIABLE,
    RunFigures,
    one_run,
)
from load_drivers import wrk_available
from sqlalchemy import make_url

QUICK = {"purchases": 1200, "duplicates": 300, "checkouts": 500}
DEFAULTS = {"purchases": 5000, "duplicates": 2000, "checkouts": 3000}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, help="purchases and events per run (5000)")
    parser.add_argument("--duplicates", type=int, help="events posted again per run (2000)")
    parser.add_argument("--checkouts", type=int, help="POST /v1/purchases per service run (3000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each app (A B B A ...)")
    parser.add_argument("--quick", action="store_true", help="fewer events: under 3 minutes")
    parser.add_argument(
        "--preload",
        type=int,
        default=0,
        help="completed purchases (with inbox rows and ledger entries) stored before each run",
    )
    parser.add_argument(
        "--only",
        choices=("payments", "reference"),
        help="run one app only (no ratio)",
    )
    parser.add_argument("--connections", type=int, default=32, help="open HTTP connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--load-generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when installed, else the (slower) Python one",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--notifications",
        choices=("ingest", "apply"),
        default="ingest",
        help="the service's PAYMENTS_NOTIFICATION_MODE: ingest (stored, answered, booked by "
        "payments worker beside it) or apply (booked before the answer)",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="instead: one API worker's RSS over 100,000 applied webhooks (memory.py)",
    )
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.purchases, args.connections, args.threads, args.workers, args.rounds) < 1:
        parser.error("--purchases, --connections, --threads, --workers, --rounds: positive")
    if args.load_generator == "wrk" and not wrk_available():
        parser.error("wrk is not installed (apt-get install -y wrk)")
    if args.load_generator == "auto":
        args.load_generator = "wrk" if wrk_available() else "python"
    return args


def schedule(rounds: int, only: str | None) -> list[str]:
    """A B B A A B ...: each app ``rounds`` times, neither always first."""
    if only is not None:
        return [only] * rounds
    order: list[str] = []
    for index in range(rounds):
        pair = ["payments", "reference"]
        order += pair if index % 2 == 0 else pair[::-1]
    return order


def _median(values: Sequence[float | None]) -> float:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else 0.0


def summary(runs: Sequence[RunFigures]) -> dict[str, object]:
    """The medians of the runs, and the totals that must be zero."""
    service = [r for r in runs if r.app == "payments"]
    reference = [r for r in runs if r.app == "reference"]
    service_rate = _median([r.booked_per_s for r in service])
    reference_rate = _median([r.booked_per_s for r in reference])
    result: dict[str, object] = {
        "service_per_s": round(service_rate, 1),
        "reference_per_s": round(reference_rate, 1),
        "ratio": round(service_rate / reference_rate, 3) if reference_rate else None,
        "p99_ms": round(_median([r.p99_ms for r in service or reference]), 1),
        "errors": sum(r.errors for r in runs),
        "books": "ok" if all(r.books_ok for r in runs) else "FAILED",
    }
    return result


def round_ratios(runs: Sequence[RunFigures]) -> list[float]:
    """Each round's service rate over the reference's (the two runs of one round follow each
    other, A B B A ...): how far the ratio moves between rounds, which a median hides."""
    ratios = []
    for first, second in zip(runs[::2], runs[1::2], strict=False):
        pair = {first.app: first.booked_per_s, second.app: second.booked_per_s}
        if pair.get("reference") and "payments" in pair:
            ratios.append(pair["payments"] / pair["reference"])
    return ratios


def report(runs: Sequence[RunFigures], args: argparse.Namespace) -> None:
    print("\nRuns (booked/s from the first delivery sent to the last event booked)")
    for run in runs:
        checkout = (
            f", checkouts {run.checkouts_per_s:,.0f}/s p99 {run.checkout_p99_ms:.1f} ms"
            if run.checkouts_per_s is not None and run.checkout_p99_ms is not None
            else ""
        )
        print(
            f"  {run.app:<10} {run.booked_per_s:>7,.0f}/s  p99 {run.p99_ms:6.1f} ms  "
            f"duplicates {run.duplicates_per_s:,.0f}/s  RSS {run.worker_rss_mib:.0f} MiB/worker  "
            f"errors {run.errors}  books {'ok' if run.books_ok else 'FAILED'}{checkout}"
        )
    ratios = round_ratios(runs)
    if ratios:
        reference_p99 = _median([r.p99_ms for r in runs if r.app == "reference"])
        print(
            "\nratio per round (service / reference, the two runs of one round): "
            + ", ".join(f"{ratio:.3f}" for ratio in ratios)
            + f"; the reference's p99, median: {reference_p99:.1f} ms"
        )
    checkouts = [r.checkouts_per_s for r in runs if r.checkouts_per_s is not None]
    reference = [r.booked_per_s for r in runs if r.app == "reference"]
    if checkouts:
        rate = _median(checkouts)
        p99 = _median([r.checkout_p99_ms for r in runs])
        against = (
            f", {rate / _median(reference):.2f}x the reference's webhooks" if reference else ""
        )
        print(f"\ncheckouts (fake gateway, Idempotency-Key each): {rate:,.0f}/s{against}")
        print(f"  p99 {p99:.1f} ms")
    rss = max((r.worker_rss_mib for r in runs if r.app == "payments"), default=0.0)
    if rss:
        print(f"API worker RSS after the runs: at most {rss:.0f} MiB per worker")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory:
        return memory.main([])
    # Stopped from outside: unwind, so that the servers stop and the databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    shown = make_url(server_url).render_as_string(hide_password=True)
    order = schedule(args.rounds, args.only)
    print(f"payments webhook benchmark: {args.purchases} signed payment_intent.succeeded per run")
    print(f"  PostgreSQL server   {shown}")
    print(
        f"  machine             {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} before the run"
    )
    print(
        f"  under gunicorn gthread, {args.workers} workers x {args.server_threads} threads, "
        f"127.0.0.1; runs: {' '.join(order)}"
    )
    if args.load_generator == "python":
        print("  load generator      the Python one (wrk is faster: apt-get install -y wrk)")
    runs: list[RunFigures] = []
    for index, app in enumerate(order, start=1):
        print(f"\n=== run {index} of {len(order)}: {app} ({APPS[app]})")
        runs.append(one_run(server_url, app, args))
    report(runs, args)
    result = summary(runs)
    print(json.dumps(result))
    return 0 if result["books"] == "ok" and result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
