"""Where one signed webhook's CPU goes: cProfile of the in-process app (falcon.testing).

One thread posts every event in turn to the container's WSGI app against a throwaway
PostgreSQL database: the per-request cost without gunicorn, HTTP parsing or a load generator.
The profiler's clock is this process's CPU time (under load the service is CPU-bound; waiting
for PostgreSQL overlaps with other requests' work). cProfile itself inflates the figures about
2.5 times: read the shares, not the milliseconds. ``--pyinstrument FILE`` samples the same
run with pyinstrument instead (far less overhead) and writes its text call tree to FILE
(``benchmarks/profiles/webhook_hot_path.txt`` is one, checked in).
``.venv/bin/python benchmarks/profile_webhooks.py [--purchases N] [--top K] [--pyinstrument F]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import falcon
import falcon.testing
import psycopg
from bench_database import check_settled_once, seed_processing_purchases, throwaway_database
from bench_run import DEFAULT_SERVER_URL, SERVER_URL_VARIABLE, WEBHOOK_SECRET, service_env
from signed_events import WEBHOOK_PATH, SignedDelivery, build_events, sign
from sqlalchemy.engine import Connection

from payments.adapters.gateways.stripe import StripeGateway
from payments.adapters.sql import direct
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.repositories import (
    SqlInboxRepository,
    SqlLedgerRepository,
    SqlOutbox,
    SqlPurchaseRepository,
)
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.config import Settings
from payments.containers import build_container
from payments.domain.services import settlement
from payments.domain.services.notifications import NotificationService


def _maybe(owner: object, name: str) -> Callable[..., Any] | None:
    """``owner.name``, or None once someone renamed it (the step then shows as '-')."""
    found: Callable[..., Any] | None = getattr(owner, name, None)
    return found


# The steps of the webhook path, in the order they run; cumulative CPU of each.
STEPS: tuple[tuple[str, Callable[..., Any] | None], ...] = (
    ("whole request (Falcon app)", falcon.App.__call__),
    ("  NotificationService.receive", NotificationService.receive),
    ("    verify + parse + translate", StripeGateway.verify_notification),
    ("    unit of work: checkout", SqlUnitOfWork.__enter__),
    ("    purchase SELECT ... FOR UPDATE", _maybe(settlement, "find_purchase")),
    ("    ledger INSERT (2 rows, queued)", _maybe(SqlLedgerRepository, "book")),
    ("    purchase UPDATE + audit (1 stmt)", SqlPurchaseRepository.save),
    ("    outbox INSERT (2 rows)", SqlOutbox.add),
    ("    inbox INSERT", SqlInboxRepository.add),
    ("    COMMIT", SqlUnitOfWork.commit),
    ("    unit of work exit", SqlUnitOfWork.__exit__),
    ("statements run straight on psycopg", _maybe(direct, "execute")),
    ("statements run through SQLAlchemy", Connection.execute),
    ("psycopg execute, all of them", psycopg.Cursor.execute),
)


def _key(function: Callable[..., Any] | None) -> tuple[str, int, str] | None:
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    return (code.co_filename, code.co_firstlineno, code.co_name)


def print_steps(stats: pstats.Stats, requests: int) -> None:
    """Cumulative CPU per request of each step, and its share of the whole request."""
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    whole_key = _key(STEPS[0][1])
    whole = table[whole_key][3] if whole_key in table else 0.0
    print(f"\n{'step':<42}{'CPU ms/request':>15}{'share':>8}")
    for label, function in STEPS:
        key = _key(function)
        if key is None or key not in table:
            print(f"{label:<42}{'-':>15}")
            continue
        cumulative = table[key][3]
        share = cumulative / whole * 100 if whole else 0.0
        print(f"{label:<42}{cumulative / requests * 1000:>15.3f}{share:>7.1f}%")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--pyinstrument", type=Path, help="write pyinstrument's call tree here")
    args = parser.parse_args(argv)
    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    with throwaway_database(server_url) as database_url:
        engine = make_engine(database_url)
        try:
            events = build_events(seed_processing_purchases(engine, args.purchases))
            env = {**service_env(database_url), "PAYMENTS_PUBLIC_BASE_URL": "http://127.0.0.1"}
            container = build_container(Settings.from_env(env))
            client = falcon.testing.TestClient(container.wsgi_app())
            deliveries = sign(events, WEBHOOK_SECRET)
            client.simulate_get("/ready")  # the first request connects
            if args.pyinstrument is not None:
                return _sampled(client, deliveries, args.pyinstrument)
            profiler = cProfile.Profile(time.process_time)
            started = time.perf_counter()
            profiler.enable()
            for delivery in deliveries:
                answer = client.simulate_post(
                    WEBHOOK_PATH, body=delivery.body, headers=delivery.headers()
                )
                if answer.json != {"status": "processed"}:
                    profiler.disable()
                    print(f"unexpected answer {answer.status}: {answer.text}", file=sys.stderr)
                    return 1
            profiler.disable()
            elapsed = time.perf_counter() - started
            container.engine().dispose()
            failed = [c for c in check_settled_once(engine, args.purchases) if not c.ok]
        finally:
            engine.dispose()
    print(
        f"{len(deliveries)} webhooks in {elapsed:.2f} s under cProfile, one thread "
        f"({elapsed / len(deliveries) * 1000:.2f} ms each, wall)"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print_steps(stats, len(deliveries))
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    for check in failed:
        print(f"FAIL {check.name}: {check.detail}", file=sys.stderr)
    return 1 if failed else 0


def _sampled(
    client: falcon.testing.TestClient, deliveries: Sequence[SignedDelivery], into: Path
) -> int:
    """pyinstrument's text call tree of the webhooks, written to ``into``."""
    from pyinstrument import Profiler  # noqa: PLC0415 - the bench extra, only when asked

    profiler = Profiler(interval=0.0002)
    profiler.start()
    for delivery in deliveries:
        client.simulate_post(WEBHOOK_PATH, body=delivery.body, headers=delivery.headers())
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    into.write_text(f"{len(deliveries)} signed webhooks, in-process, one thread\n{text}")
    print(f"wrote {into}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
