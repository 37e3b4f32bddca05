"""The ``payments`` command line: migrate, serve, api-keys, worker, reconcile, replay."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from payments.config import Settings
from payments.domain.errors import PaymentsError

if TYPE_CHECKING:
    from payments.domain.services.idempotency import IdempotencyService
    from payments.domain.services.notifications import NotificationService
    from payments.domain.services.purchases import PurchaseService, ReconcileReport
    from payments.domain.services.refunds import RefundService

log = logging.getLogger("payments")


def _settings() -> Settings:
    return Settings.from_env(os.environ)


def _container(settings: Settings | None = None) -> Any:
    """The composition root for a command; the embedded SQLite database is migrated first."""
    from payments.adapters.sql.migrate import upgrade
    from payments.containers import build_container

    settings = settings or _settings()
    if settings.database_url.startswith("sqlite"):
        upgrade(settings.database_url)
    return build_container(settings)


def cmd_migrate(args: argparse.Namespace) -> int:
    from payments.adapters.sql.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print(f"database at {_redact(settings.database_url)} is up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from payments.adapters.sql.migrate import upgrade

    settings = _settings()
    if args.port != 8000 or args.host != "127.0.0.1":
        os.environ.setdefault("PAYMENTS_PUBLIC_BASE_URL", f"http://{args.host}:{args.port}")
        settings = _settings()
    if settings.database_url.startswith("sqlite") or args.migrate:
        upgrade(settings.database_url)
    print(
        f"payments {settings.mode} mode on http://{args.host}:{args.port} "
        f"(database {_redact(settings.database_url)}; docs at /docs)",
        flush=True,
    )
    # The sandbox simulators keep their state in the serving process: one worker, many threads.
    workers = 1 if settings.sandbox else args.workers
    _run_gunicorn(settings, f"{args.host}:{args.port}", workers, args.threads)
    return 0


def _run_gunicorn(settings: Settings, bind: str, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from payments.wsgi import build_application

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "accesslog": "-",
                "timeout": 60,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            # Runs in each worker after the fork: its own engine, and in sandbox mode its own
            # simulators and their loopback server (threads do not survive a fork).
            return build_application(settings)

    _Server().run()


def cmd_api_keys_create(args: argparse.Namespace) -> int:
    container = _container()
    _, secret = container.access().create_key(args.role, args.customer_id)
    print(f"created a {args.role} key; it is shown only this once:", file=sys.stderr)
    print(secret)
    return 0


def _sweep(purchases: PurchaseService, settings: Settings, limit: int) -> ReconcileReport:
    """Settle stuck purchases from their providers and expire the stale ones, once; returns the
    service's ``ReconcileReport``."""
    return purchases.reconcile(expire_after=settings.payment_window, limit=limit)


def _worker_round(
    notifications: NotificationService,
    purchases: PurchaseService,
    idempotency: IdempotencyService,
    settings: Settings,
    refunds: RefundService | None = None,
) -> None:
    """One round of the worker; each step's failure is logged and the next step still runs."""
    if refunds is not None:
        try:  # refunds whose provider answer was lost: sent again under the same provider key
            refunds.retry_pending()
        except Exception:
            log.exception("worker: retrying unanswered refunds failed; trying again next round")
    retried: dict[str, int] = {}
    try:
        retried = notifications.retry_due()
    except Exception:
        log.exception("worker: retrying notifications failed; trying again next round")
    try:
        idempotency.purge_expired()
    except Exception:
        log.exception("worker: forgetting expired idempotency keys failed")
    settled = expired = failed = 0
    try:
        report = _sweep(purchases, settings, limit=100)
        settled, expired, failed = len(report.settled), len(report.expired), len(report.errors)
    except Exception:
        log.exception("worker: reconciliation failed; trying again next round")
    if retried or settled or expired or failed:
        log.info(
            "worker: retried %s, settled %s, expired %s, could not look up %s",
            retried,
            settled,
            expired,
            failed,
        )


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    container = _container(settings)
    notifications = container.notifications()
    purchases = container.purchases()
    rounds = 0
    while args.rounds == 0 or rounds < args.rounds:
        rounds += 1
        _worker_round(
            notifications, purchases, container.idempotency(), settings, container.refunds()
        )
        if args.rounds == 0 or rounds < args.rounds:
            time.sleep(args.interval)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    settings = _settings()
    container = _container(settings)
    report = _sweep(container.purchases(), settings, limit=args.limit)
    line = (
        f"looked up {report.looked_up} open purchases: settled {len(report.settled)}, "
        f"expired {len(report.expired)}"
    )
    if report.errors:
        line += f", {len(report.errors)} could not be looked up (see the log)"
    print(line)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    container = _container()
    status = container.notifications().process_stored(args.message_id)
    print(f"{args.message_id}: {status}")
    return 0


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="payments", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--migrate", action="store_true", help="migrate first (always on SQLite)")
    serve.set_defaults(func=cmd_serve)

    keys = sub.add_parser("api-keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it once")
    create.add_argument(
        "--role", required=True, choices=["admin", "merchant", "customer", "public"]
    )
    create.add_argument("--customer-id", default=None)
    create.set_defaults(func=cmd_api_keys_create)

    worker = sub.add_parser("worker", help="retry failed notifications and expire stale purchases")
    worker.add_argument("--interval", type=float, default=5.0)
    worker.add_argument("--rounds", type=int, default=0, help="stop after N rounds (0: forever)")
    worker.set_defaults(func=cmd_worker)

    reconcile = sub.add_parser("reconcile", help="settle or expire stuck purchases once")
    reconcile.add_argument("--limit", type=int, default=100)
    reconcile.set_defaults(func=cmd_reconcile)

    replay = sub.add_parser("replay", help="process one stored notification again")
    replay.add_argument("message_id")
    replay.set_defaults(func=cmd_replay)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except PaymentsError as error:
        print(f"payments: {error.message}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
