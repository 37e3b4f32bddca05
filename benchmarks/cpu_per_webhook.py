"""CPU per signed webhook in-process, without a profiler: ours, PostgreSQL's, and the round trips.

One thread posts every event in turn to the container's WSGI app (falcon.testing) against a
throwaway PostgreSQL database, then posts a sample again as duplicates. With no HTTP server,
no load generator and no other request in flight, the figures move little between runs on a
shared machine: use them to compare a change before and after, then confirm with
``webhooks.py``. The round trips of one webhook are counted from libpq's protocol trace.
``.venv/bin/python benchmarks/cpu_per_webhook.py [--purchases N] [--rounds R] [--trace]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

import falcon.testing
from bench_database import (
    check_reference_settled,
    check_settled_once,
    seed_processing_purchases,
    throwaway_database,
)
from bench_run import DEFAULT_SERVER_URL, SERVER_URL_VARIABLE, WEBHOOK_SECRET, service_env
from cpu_accounting import database_backends, process_cpu_seconds
from signed_events import WEBHOOK_PATH, SignedDelivery, build_events, sign
from sqlalchemy import Engine

from payments.adapters.sql.engine import make_engine
from payments.config import Settings
from payments.containers import build_container


def _post_all(
    client: falcon.testing.TestClient, deliveries: Sequence[SignedDelivery], expected: str
) -> None:
    for delivery in deliveries:
        answer = client.simulate_post(WEBHOOK_PATH, body=delivery.body, headers=delivery.headers())
        if answer.json != {"status": expected}:
            raise SystemExit(f"unexpected answer {answer.status}: {answer.text}")


def _measure(
    post: Callable[[], None], backends: Callable[[], list[int]], count: int
) -> tuple[float, float]:
    """(our CPU ms, PostgreSQL CPU ms) per request while ``post`` runs."""
    pids = backends()
    database = sum(process_cpu_seconds(pid) for pid in pids)
    own = time.process_time()
    post()
    own = time.process_time() - own
    database = sum(process_cpu_seconds(pid) for pid in pids) - database
    return own / count * 1000, database / count * 1000


def _round_trips(serve: Callable[[], None], engine: Engine, show: bool) -> int:
    """Messages that wait for the server (Sync, simple Query) while ``serve`` runs."""
    pooled = list(engine.pool._pool.queue)  # type: ignore[attr-defined]
    with tempfile.TemporaryFile("w+") as trace:
        for record in pooled:
            record.dbapi_connection.pgconn.trace(trace.fileno())
        serve()
        for record in pooled:
            record.dbapi_connection.pgconn.untrace()
        trace.seek(0)
        # Lines are "<time>\t<F|B>\t<length>\t<message>\t<fields>"; F is what we sent.
        sent = [line.rstrip("\n").split("\t") for line in trace]
    waits = 0
    named = {f'"{name}"': f'"{text}"' for name, text in _prepared(pooled)}
    pending: list[str] = []
    for fields in sent:
        if len(fields) < 4 or fields[1] != "F":
            continue
        message, rest = fields[3], fields[4].strip() if len(fields) > 4 else ""
        if message == "Parse":  # "<name>" "<text>" ...: remember prepared statements' text
            name, _, text = rest.partition(" ")
            named[name] = text
            pending.append(text)
        elif message == "Bind":  # "<portal>" "<statement>" ...: a prepared one is not parsed
            statement = rest.split(" ")[1] if " " in rest else ""
            if statement != '""':
                pending.append(named.get(statement, statement))
        elif message in ("Sync", "Query"):
            waits += 1
            if show:
                what = rest if message == "Query" else " | ".join(dict.fromkeys(pending))
                print(f"    {waits:>2} {what[:110]}")
            pending = []
    return waits


def _prepared(pooled: Sequence[Any]) -> list[tuple[str, str]]:
    """The statements psycopg prepared on these connections (libpq level: no transaction)."""
    found = []
    for record in pooled:
        result = record.dbapi_connection.pgconn.exec_(
            b"SELECT name, statement FROM pg_prepared_statements"
        )
        for row in range(result.ntuples):
            name, text = (result.get_value(row, column) or b"" for column in (0, 1))
            found.append((name.decode(), " ".join(text.decode().split())))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=1000, help="events per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (fresh purchases each)")
    parser.add_argument("--trace", action="store_true", help="print one webhook's round trips")
    parser.add_argument(
        "--app",
        choices=("payments", "reference"),
        default="payments",
        help="reference: the hand-written handler webhooks.py compares against",
    )
    args = parser.parse_args(argv)
    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    print(f"load average {os.getloadavg()[0]:.2f} before the run", flush=True)
    with throwaway_database(server_url) as database_url:
        engine = make_engine(database_url)
        try:
            env = {**service_env(database_url), "PAYMENTS_PUBLIC_BASE_URL": "http://127.0.0.1"}
            served: Any = None
            if args.app == "payments":
                container = build_container(Settings.from_env(env))
                client = falcon.testing.TestClient(container.wsgi_app())
                served = container.engine()
            else:
                os.environ.update(env)  # the reference handler reads its settings from there
                import reference_handler  # noqa: PLC0415 (reads its settings at import)

                client = falcon.testing.TestClient(reference_handler.create_app())
            client.simulate_get("/ready")  # the first request connects
            seeded = seed_processing_purchases(engine, args.purchases * args.rounds + 1)
            *events, warm_up = build_events(seeded)
            # Connects (the reference handler on its first webhook) and warms the caches.
            _post_all(client, sign([warm_up], WEBHOOK_SECRET), "processed")
            firsts: list[tuple[float, float]] = []
            duplicates: list[tuple[float, float]] = []
            trips = (0, 0)

            def backends() -> list[int]:
                return database_backends(engine)

            for round_ in range(args.rounds):
                batch = events[round_ * args.purchases : (round_ + 1) * args.purchases]
                *deliveries, last = sign(batch, WEBHOOK_SECRET)
                again = sign(batch[: max(1, args.purchases // 2)], WEBHOOK_SECRET)
                firsts.append(
                    _measure(
                        lambda d=deliveries: _post_all(client, d, "processed"),
                        backends,
                        len(deliveries),
                    )
                )
                show = args.trace and round_ == 0
                if served is None:
                    _post_all(client, [last], "processed")
                    first_trips = 0
                else:
                    first_trips = _round_trips(
                        lambda t=last: _post_all(client, [t], "processed"), served, show
                    )
                duplicates.append(
                    _measure(
                        lambda a=again: _post_all(client, a, "duplicate"), backends, len(again)
                    )
                )
                if served is None:
                    _post_all(client, again[:1], "duplicate")
                    trips = (0, 0)
                else:
                    repeated = again[:1]
                    trips = (
                        first_trips,
                        _round_trips(
                            lambda r=repeated: _post_all(client, r, "duplicate"), served, show
                        ),
                    )
            if served is not None:
                served.dispose()
            check = check_settled_once if args.app == "payments" else check_reference_settled
            failed = [c for c in check(engine, len(seeded)) if not c.ok]
        finally:
            engine.dispose()
    for title, figures, waits in (
        ("first delivery", firsts, trips[0]),
        ("duplicate", duplicates, trips[1]),
    ):
        ours = [f[0] for f in figures]
        database = [f[1] for f in figures]
        print(
            f"{title:<16} ours min {min(ours):.3f} median {statistics.median(ours):.3f} ms, "
            f"PostgreSQL min {min(database):.3f} median {statistics.median(database):.3f} ms, "
            f"{waits} round trips"
        )
    for check in failed:
        print(f"FAIL {check.name}: {check.detail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
