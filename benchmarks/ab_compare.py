"""Compare the CPU per webhook of two source trees, interleaved so both share the same machine.

On shared cores the CPU cost of a request drifts by 10-20 % from minute to minute, more than
most changes move it. This runs one worker process per tree (``PYTHONPATH=<tree>/src``), each
with its own throwaway PostgreSQL database and the in-process app of ``cpu_per_webhook.py``,
and has them post small batches in turn (A B B A ...), so drift hits both alike. It prints
each tree's CPU per webhook (its process and its PostgreSQL backends) and the paired difference
with a 95 % interval. A tree is any directory with a ``src/payments`` package, for example
``git archive HEAD src | tar -x -C /tmp/before``.
``.venv/bin/python benchmarks/ab_compare.py --a /tmp/before --b . [--batches 40] [--batch 50]``.
``--checkouts`` compares ``POST /v1/purchases`` instead (``profile_checkouts.py``'s set-up: the
in-process fake gateway, an Idempotency-Key on each), per checkout.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent


def _cpu_ns(pid: int) -> int:
    """Nanoseconds process ``pid`` ran on a CPU (schedstat: finer than /proc/<pid>/stat ticks)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def _answer(pids: Sequence[int], batch: int, post: Callable[[], None]) -> None:
    """Run ``post`` (``batch`` requests) and print its CPU per request: ours, PostgreSQL's."""
    database = sum(_cpu_ns(pid) for pid in pids)
    own = time.process_time()
    post()
    own = time.process_time() - own
    database = sum(_cpu_ns(pid) for pid in pids) - database
    print(f"{own / batch * 1000:.4f} {database / batch / 1e6:.4f}", flush=True)


@contextmanager
def _in_process(make_container: Callable[[Any], Any]) -> Iterator[tuple[Any, Any]]:
    """A throwaway database, and the app ``make_container`` builds on it served in-process:
    ``(engine, test client)``; the worker's set-up, whatever it posts."""
    import falcon.testing
    from bench_database import throwaway_database
    from bench_run import DEFAULT_SERVER_URL, SERVER_URL_VARIABLE, service_env

    from payments.adapters.sql.engine import make_engine
    from payments.config import Settings

    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    with throwaway_database(server_url) as database_url:
        engine = make_engine(database_url)
        try:
            env = {**service_env(database_url), "PAYMENTS_PUBLIC_BASE_URL": "http://127.0.0.1"}
            container = make_container(Settings.from_env(env))
            yield engine, falcon.testing.TestClient(container.wsgi_app())
            container.engine().dispose()
        finally:
            engine.dispose()


def _checkout_worker(batch: int, batches: int) -> int:
    """Serve ``checkout`` commands on stdin, answering the CPU each batch of checkouts used."""
    from bench_database import seed_processing_purchases
    from checkouts import build_checkouts, checkout_container
    from cpu_accounting import database_backends
    from profile_checkouts import _post_all

    warm_up = 100
    with _in_process(checkout_container) as (engine, client):
        seed_processing_purchases(engine, 1)  # the product
        checkouts = build_checkouts(engine, warm_up + batch * batches)
        _post_all(client, checkouts[:warm_up])
        pids = database_backends(engine)
        posted = warm_up
        print("ready", flush=True)
        for _ in sys.stdin:
            chosen = checkouts[posted : posted + batch]
            posted += batch
            _answer(pids, batch, functools.partial(_post_all, client, chosen))
    return 0


def _worker(batch: int, batches: int) -> int:
    """Serve ``first`` and ``duplicate`` commands on stdin, answering the CPU each batch used."""
    from bench_database import seed_processing_purchases
    from bench_run import WEBHOOK_SECRET
    from cpu_accounting import database_backends
    from cpu_per_webhook import _post_all
    from signed_events import build_events, sign

    from payments.containers import build_container

    warm_up = 200
    with _in_process(build_container) as (engine, client):
        events = build_events(seed_processing_purchases(engine, warm_up + batch * batches))
        _post_all(client, sign(events[:warm_up], WEBHOOK_SECRET), "processed")
        _post_all(client, sign(events[: warm_up // 2], WEBHOOK_SECRET), "duplicate")
        pids = database_backends(engine)
        posted = warm_up
        print("ready", flush=True)
        for line in sys.stdin:
            kind = line.strip()
            if kind == "first":
                chosen = events[posted : posted + batch]
                posted += batch
                expected = "processed"
            else:
                chosen = events[posted - batch : posted]
                expected = "duplicate"
            deliveries = sign(chosen, WEBHOOK_SECRET)
            _answer(pids, batch, functools.partial(_post_all, client, deliveries, expected))
    return 0


class _Tree:
    def __init__(self, name: str, root: Path, args: argparse.Namespace) -> None:
        src = root / "src"
        if not (src / "payments").is_dir():
            raise SystemExit(f"{root} has no src/payments")
        self.name = name
        env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}", "PYTHONHASHSEED": "0"}
        command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
        command += ["--batch", str(args.batch), "--batches", str(args.batches)]
        command += ["--checkouts"] if args.checkouts else []
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.samples: dict[str, list[tuple[float, float]]] = {kind: [] for kind in _kinds(args)}

    @property
    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        return self.process.stdin, self.process.stdout

    def wait_ready(self) -> None:
        if self._pipes[1].readline().strip() != "ready":
            raise SystemExit(f"worker {self.name} did not start")

    def run(self, kind: str) -> None:
        stdin, stdout = self._pipes
        stdin.write(kind + "\n")
        stdin.flush()
        answer = stdout.readline().split()
        if len(answer) != 2:
            raise SystemExit(f"worker {self.name} failed")
        own, database = float(answer[0]), float(answer[1])
        self.samples[kind].append((own, database))

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=120)


def _interval(differences: Sequence[float]) -> str:
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return f"{mean:+.3f}"
    half = 1.96 * statistics.stdev(differences) / len(differences) ** 0.5
    return f"{mean:+.3f} ± {half:.3f}"


def _kinds(args: argparse.Namespace) -> tuple[str, ...]:
    return ("checkout",) if args.checkouts else ("first", "duplicate")


def _report(a: _Tree, b: _Tree, kind: str) -> None:
    what = f"{kind} deliveries, ms per webhook"
    if kind == "checkout":
        what = "checkouts, ms per checkout"
    print(f"\n{what} (mean of {len(a.samples[kind])} batches)")
    print(f"  {'':<12}{'ours':>10}{'PostgreSQL':>12}{'both':>10}")
    for tree in (a, b):
        ours = statistics.fmean(s[0] for s in tree.samples[kind])
        database = statistics.fmean(s[1] for s in tree.samples[kind])
        print(f"  {tree.name:<12}{ours:>10.3f}{database:>12.3f}{ours + database:>10.3f}")
    pairs = list(zip(a.samples[kind], b.samples[kind], strict=True))
    ours_more = [y[0] - x[0] for x, y in pairs]
    database_more = [y[1] - x[1] for x, y in pairs]
    both = [y[0] + y[1] - x[0] - x[1] for x, y in pairs]
    print(
        f"  B - A       ours {_interval(ours_more)}, PostgreSQL {_interval(database_more)}, "
        f"both {_interval(both)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, help="the tree to compare against (before)")
    parser.add_argument("--b", type=Path, help="the tree with the change (after)")
    parser.add_argument("--batches", type=int, default=40, help="batches per tree and kind")
    parser.add_argument("--batch", type=int, default=50, help="webhooks (or checkouts) per batch")
    parser.add_argument(
        "--checkouts", action="store_true", help="compare POST /v1/purchases instead of webhooks"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run = _checkout_worker if args.checkouts else _worker
        return run(args.batch, args.batches)
    if args.a is None or args.b is None:
        parser.error("--a and --b are required")
    print(f"load average {os.getloadavg()[0]:.2f} before the run", flush=True)
    trees = [_Tree("A (before)", args.a, args), _Tree("B (after)", args.b, args)]
    try:
        for tree in trees:
            tree.wait_ready()
        for index in range(args.batches):
            order: list[Any] = trees if index % 2 == 0 else trees[::-1]
            for kind in _kinds(args):
                for tree in order:
                    tree.run(kind)
    finally:
        for tree in trees:
            tree.close()
    for kind in _kinds(args):
        _report(trees[0], trees[1], kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
