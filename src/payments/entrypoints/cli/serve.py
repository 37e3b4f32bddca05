"""``payments migrate`` and ``payments serve``: the database schema and the HTTP API under
gunicorn."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Every command builds the composition root, which loads the whole service (SQLAlchemy, the
# Stripe SDK, Falcon) anyway: gunicorn's few modules add nothing noticeable to a start.
from gunicorn.app.base import BaseApplication
from prometheus_client.multiprocess import mark_process_dead

from payments.adapters.metrics import use_multiprocess_files
from payments.config import METRICS_MULTIPROCESS_DIR, Settings
from payments.containers import Container, build_container
from payments.domain.errors import ConfigurationError
from payments.entrypoints.cli.common import load_settings, redact
from payments.wsgi import build_application

log = logging.getLogger("payments")


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    build_container(settings).migrate()
    print(f"database at {redact(settings.database_url)} is up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.port != 8000 or args.host != "127.0.0.1":
        os.environ.setdefault("PAYMENTS_PUBLIC_BASE_URL", f"http://{args.host}:{args.port}")
        settings = load_settings()
    # Everything that can refuse the start is checked here, in gunicorn's master: a worker that
    # fails to boot would only say so in a traceback, and gunicorn would keep restarting it.
    container = build_container(settings)
    if args.migrate:
        container.migrate()
    elif not container.migrate_embedded():
        _refuse_an_unmigrated_database(container)
    workers = _serving_workers(settings, args.workers)
    print(
        f"payments {settings.mode} mode on http://{args.host}:{args.port} "
        f"(database {redact(settings.database_url)}; docs at /docs)",
        flush=True,
    )
    with _metrics_files(settings) as settings:
        _run_gunicorn(settings, f"{args.host}:{args.port}", workers, args.threads)
    return 0


@contextmanager
def _metrics_files(settings: Settings) -> Iterator[Settings]:
    """The settings with ``PROMETHEUS_MULTIPROC_DIR``: the directory where the gunicorn
    workers keep their metrics, so that any worker's ``/metrics`` adds up all of them. One the
    operator set is used as it is; otherwise a new temporary one, removed when serving ends."""
    given = settings.metrics_multiprocess_dir
    made = None if given else tempfile.mkdtemp(prefix="payments-metrics-")
    directory = given or made or ""
    os.environ[METRICS_MULTIPROCESS_DIR] = directory  # the workers inherit it
    try:
        yield dataclasses.replace(settings, metrics_multiprocess_dir=directory)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _serving_workers(settings: Settings, asked: int) -> int:
    """How many gunicorn workers serve (docs/decisions/0011).

    Sandbox mode serves one, whatever was asked: its simulators keep their state in the serving
    process (a warning says so when more were asked). Without ``PAYMENTS_REDIS_URL`` each worker
    counts the guest-checkout limits on its own, so live mode refuses more than one worker
    without it (``ConfigurationError`` naming the variable and the multiplied limits).
    """
    per_ip = settings.guest_checkouts_per_ip_hour
    per_email = settings.guest_checkouts_per_email_hour
    if settings.sandbox:
        if asked > 1:
            log.warning(
                "sandbox mode serves 1 worker, not %s (the simulators keep their state in it): "
                "guest checkouts stay limited to %s an hour per client address and %s per "
                "e-mail, not %s and %s",
                asked,
                per_ip,
                per_email,
                per_ip * asked,
                per_email * asked,
            )
        return 1
    if asked > 1 and settings.redis_url is None:
        raise ConfigurationError(
            f"Live mode with --workers {asked} needs PAYMENTS_REDIS_URL: without it each worker "
            f"counts guest checkouts on its own ({per_ip * asked} an hour per client address "
            f"instead of {per_ip}, {per_email * asked} per e-mail instead of {per_email}); set "
            "it, or serve --workers 1."
        )
    return asked


def _refuse_an_unmigrated_database(container: Container) -> None:
    """``ConfigurationError`` unless the database is at this code's migration head: serving an
    unmigrated database would fail every request (a database error stops the start too)."""
    try:
        state = container.schema_state()
    finally:
        container.engine().dispose()  # gunicorn's workers open their own after the fork
    if not state.usable:
        url = container.settings().database_url
        raise ConfigurationError(
            f"The database at {redact(url)} is {state.describe()}: run `payments migrate` "
            "first (or `payments serve --migrate`)."
        )


ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
"""gunicorn's access line: client, method, path, protocol, status, body size, duration. Never the
query string or the referrer: a redirect back from a provider may carry a client secret there."""


def _gunicorn_logging(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """gunicorn's own settings for its logs: its error and access lines go to standard error
    through the service's filters (request id, redaction), as console lines or, in ``json``
    mode, JSON lines (the access line becomes the ``message``)."""
    formatter = "JsonLogFormatter" if log_format == "json" else "ConsoleLogFormatter"
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "payments",
        "stream": "ext://sys.stderr",
        "filters": ["request_id", "redact"],
    }
    return {
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"payments": {"()": f"payments.entrypoints.logs.{formatter}"}},
            "filters": {
                "request_id": {"()": "payments.entrypoints.logs.RequestIdFilter"},
                "redact": {"()": "payments.entrypoints.logs.RedactionFilter"},
            },
            "handlers": {"payments": handler},
            "root": {"level": level, "handlers": ["payments"]},
            "loggers": {
                "gunicorn.error": {"level": "INFO", "handlers": ["payments"], "propagate": False},
                "gunicorn.access": {"level": "INFO", "handlers": ["payments"], "propagate": False},
            },
        },
    }


class _Server(BaseApplication):  # type: ignore[misc]
    """gunicorn serving ``build_application(settings)`` with gthread workers."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork: its own engine, its metric files, and in sandbox
        # mode its own simulators and their loopback server (threads do not survive a fork).
        use_multiprocess_files()
        return build_application(self._settings)


def _forget_dead_worker(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: drop the live gauges of a worker that exited."""
    mark_process_dead(worker.pid, os.environ.get(METRICS_MULTIPROCESS_DIR))  # type: ignore[no-untyped-call]


def _run_gunicorn(settings: Settings, bind: str, workers: int, threads: int) -> None:
    options = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "child_exit": _forget_dead_worker,
        **_gunicorn_logging(settings.log_format, settings.log_level),
    }
    _Server(settings, options).run()


def register(commands: argparse._SubParsersAction[Any]) -> None:
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--migrate", action="store_true", help="migrate first (always on SQLite)")
    serve.set_defaults(func=cmd_serve)
