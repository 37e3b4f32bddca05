"""CPU per checkout in-process (ours, PostgreSQL's), its round trips, and where it goes.

``POST /v1/purchases`` as ``webhooks.py`` serves it (``checkouts.py``: the container's WSGI app,
every market routed to an in-memory ``FakeGateway``), with a merchant key and an
``Idempotency-Key`` on every request, each buying the seeded product for a new customer. One
thread posts them in turn through falcon.testing against a throwaway PostgreSQL database: no
HTTP server, no load generator, no other request in flight, so the figures move little on a
shared machine. Use them to compare a change before and after, then confirm with
``webhooks.py --quick --only payments``.

``--trace`` prints one checkout's round trips (libpq's protocol trace: every message that waits
for the server, with the statements sent before it); ``--cprofile K`` lists the K functions
with the most CPU of their own under cProfile (a CPU clock; it inflates everything about 2.5
times: read the shares); ``--pyinstrument FILE`` writes pyinstrument's call tree instead.
``.venv/bin/python benchmarks/profile_checkouts.py [--checkouts N] [--rounds R] [--trace]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import falcon.testing
from bench_database import seed_processing_purchases, throwaway_database
from bench_run import DEFAULT_SERVER_URL, SERVER_URL_VARIABLE, service_env
from checkouts import CHECKOUT_PATH, Checkout, build_checkouts, check_checkouts, checkout_container
from cpu_accounting import database_backends, process_cpu_seconds
from cpu_per_webhook import _round_trips

from payments.adapters.sql.engine import make_engine
from payments.config import Settings


def _post_all(client: falcon.testing.TestClient, checkouts: Sequence[Checkout]) -> None:
    for checkout in checkouts:
        answer = client.simulate_post(CHECKOUT_PATH, body=checkout.body, headers=checkout.headers())
        if answer.status_code != 201:
            raise SystemExit(f"unexpected answer {answer.status}: {answer.text}")


def _cpu_per_checkout(
    client: falcon.testing.TestClient, checkouts: Sequence[Checkout], backends: list[int]
) -> tuple[float, float]:
    """(our CPU ms, PostgreSQL CPU ms) per checkout while ``checkouts`` are posted."""
    database = sum(process_cpu_seconds(pid) for pid in backends)
    own = time.process_time()
    _post_all(client, checkouts)
    own = time.process_time() - own
    database = sum(process_cpu_seconds(pid) for pid in backends) - database
    return own / len(checkouts) * 1000, database / len(checkouts) * 1000


def _profiled(client: falcon.testing.TestClient, checkouts: Sequence[Checkout], top: int) -> None:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    _post_all(client, checkouts)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"{len(checkouts)} checkouts under cProfile (CPU clock)\n{out.getvalue()}")


def _sampled(client: falcon.testing.TestClient, checkouts: Sequence[Checkout], into: Path) -> None:
    from pyinstrument import Profiler  # noqa: PLC0415 - the bench extra, only when asked

    profiler = Profiler(interval=0.0002)
    profiler.start()
    _post_all(client, checkouts)
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    into.write_text(f"{len(checkouts)} checkouts, in-process, one thread\n{text}")
    print(f"wrote {into}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=500, help="checkouts per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trace", action="store_true", help="print one checkout's round trips")
    parser.add_argument("--cprofile", type=int, metavar="K", help="cProfile, top K functions")
    parser.add_argument("--pyinstrument", type=Path, help="write pyinstrument's call tree here")
    args = parser.parse_args(argv)
    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    print(f"load average {os.getloadavg()[0]:.2f} before the run", flush=True)
    total = args.checkouts * args.rounds + 2
    with throwaway_database(server_url) as database_url:
        engine = make_engine(database_url)
        try:
            seed_processing_purchases(engine, 1)  # the product
            warm_up, traced, *checkouts = build_checkouts(engine, total)
            env = {**service_env(database_url), "PAYMENTS_PUBLIC_BASE_URL": "http://127.0.0.1"}
            container = checkout_container(Settings.from_env(env))
            client = falcon.testing.TestClient(container.wsgi_app())
            client.simulate_get("/ready")  # the first request connects
            _post_all(client, [warm_up])
            served = container.engine()
            trips = _round_trips(lambda: _post_all(client, [traced]), served, args.trace)
            figures: list[tuple[float, float]] = []
            if args.cprofile:
                _profiled(client, checkouts, args.cprofile)
            elif args.pyinstrument is not None:
                _sampled(client, checkouts, args.pyinstrument)
            else:
                backends = database_backends(engine)
                for round_ in range(args.rounds):
                    batch = checkouts[round_ * args.checkouts : (round_ + 1) * args.checkouts]
                    figures.append(_cpu_per_checkout(client, batch, backends))
            served.dispose()
            failed = [c for c in check_checkouts(engine, total) if not c.ok]
        finally:
            engine.dispose()
    if figures:
        ours = [f[0] for f in figures]
        database = [f[1] for f in figures]
        print(
            f"checkout  ours min {min(ours):.3f} median {statistics.median(ours):.3f} ms, "
            f"PostgreSQL min {min(database):.3f} median {statistics.median(database):.3f} ms, "
            f"{trips} round trips"
        )
    else:
        print(f"checkout  {trips} round trips")
    for check in failed:
        print(f"FAIL {check.name}: {check.detail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
