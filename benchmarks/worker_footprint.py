"""What one API worker holds after serving: its RSS and the packages it imported.

Builds the service as a gunicorn worker of ``webhooks.py`` does (``payments.wsgi``, sandbox mode,
the benchmark's settings, a throwaway PostgreSQL database) in a process that imports nothing
else first, serves a readiness probe, a signed webhook twice and a checkout (at the configured
Stripe, unreachable: 503) through it in-process (a bare WSGI environ, no test client), then
prints the resident memory and the top-level packages loaded, most modules first. Use it to
see what a change to the imports saves, then confirm with ``webhooks.py`` (the gunicorn
worker's figure).
``.venv/bin/python benchmarks/worker_footprint.py [--modules N]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _call(app: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> str:
    """One request through the WSGI app; its status line."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    status: list[str] = []

    def start_response(line: str, _headers: Any, _exc_info: Any = None) -> Any:
        status.append(line)
        return lambda _data: None

    answer = app(environ, start_response)
    b"".join(answer)
    close = getattr(answer, "close", None)
    if close is not None:
        close()
    return status[0]


def serve(requests_file: str, top: int) -> int:
    """The worker's part: import the service, serve the requests in the file, report."""
    requests = json.loads(Path(requests_file).read_text())
    before = set(sys.modules)
    baseline = resident_mib()
    import payments.wsgi  # noqa: PLC0415 - the measured import, after the baseline

    for method, path, body, headers in requests:
        status = _call(payments.wsgi.application, method, path, body.encode(), headers)
        print(f"  {method} {path}: {status}")
    after = resident_mib()
    loaded = [name for name in sys.modules if name not in before]
    packages = Counter(name.split(".")[0] for name in loaded)
    print(f"RSS {baseline:.1f} MiB before the service's imports, {after:.1f} MiB after serving")
    print(f"{len(loaded)} modules imported by the service, in {len(packages)} packages:")
    for package, count in packages.most_common(top):
        print(f"  {count:>5}  {package}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=40, help="packages listed")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the worker process's part
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.modules)
    # The harness (its database, seeding and signing) runs here; the worker in a process of its
    # own that imports nothing else first.
    from bench_database import seed_processing_purchases, throwaway_database  # noqa: PLC0415
    from bench_run import (  # noqa: PLC0415
        DEFAULT_SERVER_URL,
        SERVER_URL_VARIABLE,
        WEBHOOK_SECRET,
        service_env,
    )
    from checkouts import build_checkouts  # noqa: PLC0415
    from signed_events import WEBHOOK_PATH, build_events, sign  # noqa: PLC0415

    from payments.adapters.sql.engine import make_engine  # noqa: PLC0415

    server_url = os.environ.get(SERVER_URL_VARIABLE) or DEFAULT_SERVER_URL
    with throwaway_database(server_url) as database_url, tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url)
        seeded = seed_processing_purchases(engine, 2)
        (checkout,) = build_checkouts(engine, 1)
        engine.dispose()
        first, again = sign(build_events(seeded[:1]) * 2, WEBHOOK_SECRET)
        requests = [
            ("GET", "/ready", "", {}),
            ("POST", WEBHOOK_PATH, first.body.decode(), first.headers()),
            ("POST", WEBHOOK_PATH, again.body.decode(), again.headers()),
            ("POST", "/v1/purchases", checkout.body.decode(), checkout.headers()),
        ]
        requests_file = Path(tmp) / "requests.json"
        requests_file.write_text(json.dumps(requests))
        env = {**os.environ, **service_env(database_url)}
        command = [sys.executable, __file__, "--serve", str(requests_file)]
        command += ["--modules", str(args.modules)]
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
