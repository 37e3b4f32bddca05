"""The API worker's memory over many applied webhooks: RSS every chunk, from /proc/self.

One process serves the container's WSGI app in-process (falcon.testing, as
``cpu_per_webhook.py``) against a throwaway PostgreSQL database, and books ``--events``
signed ``payment_intent.succeeded`` webhooks, seeded and posted in chunks. It prints the
resident memory after each chunk; the figure to read is the growth after the first chunks
(caches, prepared statements and pools fill up first), which should be flat.
``.venv/bin/python benchmarks/memory.py [--events 100000] [--chunk 10000]`` or
``make bench BENCH_ARGS="--memory"``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import falcon.testing
from bench_database import check_settled_once, seed_processing_purchases, throwaway_database
from bench_run import DEFAULT_SERVER_URL, SERVER_URL_VARIABLE, WEBHOOK_SECRET, service_env
from cpu_per_webhook import _post_all
from signed_events import build_events, sign

from payments.adapters.sql.engine import make_engine
from payments.config import Settings
from payments.containers import build_container

FLAT_MIB = 10.0
"""Growth allowed between the end of the second chunk and the end of the run."""


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="webhooks applied in all")
    parser.add_argument("--chunk", type=int, default=10_000, help="seeded and posted at a time")
    args = parser.parse_args(argv)
    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    print(f"memory of one API worker over {args.events:,} applied webhooks", flush=True)
    with throwaway_database(server_url) as database_url:
        engine = make_engine(database_url)
        try:
            env = {**service_env(database_url), "PAYMENTS_PUBLIC_BASE_URL": "http://127.0.0.1"}
            container = build_container(Settings.from_env(env))
            client = falcon.testing.TestClient(container.wsgi_app())
            client.simulate_get("/ready")
            print(f"  {'applied':>9}  {'RSS MiB':>8}  {'seconds':>8}", flush=True)
            print(f"  {0:>9,}  {resident_mib():>8.1f}", flush=True)
            samples: list[float] = []
            applied = 0
            started = time.perf_counter()
            while applied < args.events:
                size = min(args.chunk, args.events - applied)
                seeded = seed_processing_purchases(engine, size, start=applied)
                events = build_events(seeded, start=applied)
                _post_all(client, sign(events, WEBHOOK_SECRET), "processed")
                applied += size
                gc.collect()
                samples.append(resident_mib())
                seconds = time.perf_counter() - started
                print(f"  {applied:>9,}  {samples[-1]:>8.1f}  {seconds:>8.0f}", flush=True)
            container.engine().dispose()
            failed = [c for c in check_settled_once(engine, applied) if not c.ok]
        finally:
            engine.dispose()
    settled = samples[min(1, len(samples) - 1)]
    growth = samples[-1] - settled
    flat = growth <= FLAT_MIB
    print(
        f"RSS {samples[-1]:.1f} MiB after {applied:,} webhooks; {growth:+.1f} MiB since "
        f"the second chunk ({'flat' if flat else 'GROWING'}, allowed {FLAT_MIB:.0f} MiB)"
    )
    for check in failed:
        print(f"FAIL {check.name}: {check.detail}", file=sys.stderr)
    return 0 if flat and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
