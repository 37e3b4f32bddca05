"""Where one signed webhook's time goes: cProfile of the in-process app (falcon.testing).

One thread posts every event in turn to the container's WSGI app against a throwaway
PostgreSQL database, so the figures are the per-request cost without HTTP, gunicorn or load
generator. ``.venv/bin/python benchmarks/profile_webhooks.py [--purchases N] [--top K]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Sequence

import falcon.testing
from bench_database import check_settled_once, seed_processing_purchases, throwaway_database
from signed_events import WEBHOOK_PATH, build_events, sign
from webhooks import DEFAULT_SERVER_URL, SERVER_URL_VARIABLE, WEBHOOK_SECRET, service_env

from payments.adapters.sql.engine import make_engine
from payments.config import Settings
from payments.containers import build_container


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30, help="functions to list")
    parser.add_argument("--sort", default="cumulative", choices=("tottime", "cumulative"))
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
            # Warm up: the first request imports and connects.
            client.simulate_get("/ready")
            # CPU time, not wall time: under load the service is CPU-bound, and waiting for
            # PostgreSQL overlaps with other requests' work.
            profiler = cProfile.Profile(time.process_time)
            started = time.perf_counter()
            profiler.enable()
            for delivery in deliveries:
                answer = client.simulate_post(
                    WEBHOOK_PATH, body=delivery.body, headers=delivery.headers()
                )
                if answer.json != {"status": "processed"}:
                    print(f"unexpected answer {answer.status}: {answer.text}", file=sys.stderr)
                    return 1
            profiler.disable()
            elapsed = time.perf_counter() - started
            container.engine().dispose()
            failed = [c for c in check_settled_once(engine, args.purchases) if not c.ok]
        finally:
            engine.dispose()
    print(
        f"{len(deliveries)} webhooks in {elapsed:.2f} s under cProfile, one thread: "
        f"{elapsed / len(deliveries) * 1000:.2f} ms each (wall; cProfile adds overhead); "
        "times below are CPU seconds of this process"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    for check in failed:
        print(f"FAIL {check.name}: {check.detail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
