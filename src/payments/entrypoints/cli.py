"""The ``payments`` command line: migrate, serve, api-keys, inbox, events, worker, reconcile,
replay."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

# Every command builds the composition root, which loads the whole service (SQLAlchemy, the
# Stripe SDK, Falcon) anyway: gunicorn's few modules add nothing noticeable to a start.
from gunicorn.app.base import BaseApplication

from payments.config import Settings
from payments.containers import Container, build_container
from payments.domain.errors import ConfigurationError, PaymentsError
from payments.domain.inbox import InboxStatus
from payments.domain.services.idempotency import IdempotencyService
from payments.domain.services.notifications import NotificationService
from payments.domain.services.outbox_relay import EventRelay
from payments.domain.services.purchases import PurchaseService, ReconcileReport
from payments.domain.services.refunds import RefundService
from payments.entrypoints.logs import configure_logging
from payments.wsgi import build_application

log = logging.getLogger("payments")


def _settings() -> Settings:
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_format)
    return settings


def _container(settings: Settings | None = None) -> Container:
    """The composition root for a command; the embedded SQLite database is migrated first."""
    container = build_container(settings or _settings())
    container.migrate_embedded()
    return container


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    build_container(settings).migrate()
    print(f"database at {_redact(settings.database_url)} is up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    if args.port != 8000 or args.host != "127.0.0.1":
        os.environ.setdefault("PAYMENTS_PUBLIC_BASE_URL", f"http://{args.host}:{args.port}")
        settings = _settings()
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
        f"(database {_redact(settings.database_url)}; docs at /docs)",
        flush=True,
    )
    _run_gunicorn(settings, f"{args.host}:{args.port}", workers, args.threads)
    return 0


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
            f"The database at {_redact(url)} is {state.describe()}: run `payments migrate` "
            "first (or `payments serve --migrate`)."
        )


def _gunicorn_logging(log_format: str) -> dict[str, Any]:
    """gunicorn's own settings for its logs: in ``json`` mode its error and access logs are
    JSON lines too (the access line becomes the ``message``)."""
    if log_format != "json":
        return {"accesslog": "-"}
    formatter = {"()": "payments.entrypoints.logs.JsonLogFormatter"}
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stderr",
        "filters": ["request_id", "redact"],
    }
    return {
        "accesslog": "-",
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": formatter},
            "filters": {
                "request_id": {"()": "payments.entrypoints.logs.RequestIdFilter"},
                "redact": {"()": "payments.entrypoints.logs.RedactionFilter"},
            },
            "handlers": {"json": handler},
            "root": {"level": "INFO", "handlers": ["json"]},
            "loggers": {
                "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
                "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
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
        # Runs in each worker after the fork: its own engine, and in sandbox mode its own
        # simulators and their loopback server (threads do not survive a fork).
        return build_application(self._settings)


def _run_gunicorn(settings: Settings, bind: str, workers: int, threads: int) -> None:
    options = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        **_gunicorn_logging(settings.log_format),
    }
    _Server(settings, options).run()


def cmd_api_keys_create(args: argparse.Namespace) -> int:
    container = _container()
    _, secret = container.access().create_key(args.role, args.customer_id)
    print(f"created a {args.role} key; it is shown only this once:", file=sys.stderr)
    print(secret)
    return 0


def cmd_api_keys_list(args: argparse.Namespace) -> int:
    """Every key with its prefix, never a secret (only hashes are stored)."""
    container = _container()
    print("id\tprefix\trole\tcustomer_id\tcreated_at\trevoked_at")
    for key in container.access().list_keys():
        fields = (key.id, key.prefix, key.role.value, key.customer_id or "-")
        print("\t".join((*fields, _when(key.created_at), _when(key.revoked_at))))
    return 0


def cmd_api_keys_revoke(args: argparse.Namespace) -> int:
    container = _container()
    key = container.access().revoke_key(args.key_id)
    print(f"{key.id} ({key.prefix}...) revoked at {_when(key.revoked_at)}")
    return 0


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


def cmd_inbox_list(args: argparse.Namespace) -> int:
    """Stored notifications, newest first: the ids ``payments replay`` takes."""
    status = InboxStatus(args.status) if args.status else None
    messages = _container().inbox().recent(status=status, limit=args.limit)
    print("id\tprovider\tevent_type\tstatus\tattempts\tlast_error")
    for message in messages:
        error = " ".join((message.last_error or "").split())  # one line per message
        if len(error) > 200:
            error = error[:199] + "…"
        fields = (message.id, message.provider, message.event_type, message.status.value)
        print("\t".join((*fields, str(message.attempts), error or "-")))
    return 0


def cmd_events_list(args: argparse.Namespace) -> int:
    """The outbox's unpublished events, oldest first, and how many wait in all."""
    waiting, events = _container().outbox_backlog().unpublished(limit=args.limit)
    print("position\tevent_id\ttype\taggregate_id\toccurred_at")
    for event in events:
        fields = (str(event.position), event.event_id, event.name, event.aggregate_id or "-")
        print("\t".join((*fields, _when(event.occurred_at))))
    print(f"{waiting} event(s) wait to be published", file=sys.stderr)
    return 0


def _publish_events(relay: EventRelay | None) -> int:
    """Publish the outbox's waiting events (with ``PAYMENTS_NATS_URL`` set); how many went out."""
    if relay is None:
        return 0
    try:
        report = relay.publish_pending()
    except Exception:
        log.exception("worker: publishing the outbox failed; trying again next round")
        return 0
    return len(report.published)


def _sweep(purchases: PurchaseService, settings: Settings, limit: int) -> ReconcileReport:
    """Settle stuck purchases from their providers and expire the stale ones, once; returns the
    service's ``ReconcileReport``."""
    return purchases.reconcile(expire_after=settings.payment_window, limit=limit)


def _worker_round(
    notifications: NotificationService,
    purchases: PurchaseService,
    idempotency: IdempotencyService,
    settings: Settings,
    *,
    refunds: RefundService | None = None,
    relay: EventRelay | None = None,
) -> None:
    """One round of the worker; each step's failure is logged and the next step still runs."""
    published = _publish_events(relay)
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
    published += _publish_events(relay)  # the events this round's own work caused
    if retried or settled or expired or failed or published:
        log.info(
            "worker: retried %s, settled %s, expired %s, could not look up %s, published %s",
            retried,
            settled,
            expired,
            failed,
            published,
        )


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    container = _container(settings)
    notifications = container.notifications()
    purchases = container.purchases()
    relay = container.event_relay()
    rounds = 0
    try:
        while args.rounds == 0 or rounds < args.rounds:
            rounds += 1
            _worker_round(
                notifications,
                purchases,
                container.idempotency(),
                settings,
                refunds=container.refunds(),
                relay=relay,
            )
            if args.rounds == 0 or rounds < args.rounds:
                time.sleep(args.interval)
    finally:
        if relay is not None:
            relay.close()
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
    status = _container().inbox().replay(args.message_id)
    print(f"{args.message_id}: {status}")
    return 0


def _redact(url: str) -> str:
    """``url`` without its user, password and query (where a password may also be given)."""
    url = url.split("?", 1)[0]
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _database_failure(error: BaseException) -> str | None:
    """One line for a database error (None for any other): the driver's message may quote
    the URL, a statement or its values, so only its class is shown."""
    reason = Container.database_error_reason(error)
    if reason is None:
        return None
    unreachable, name = reason
    try:
        where = _redact(Settings.from_env(os.environ).database_url)
    except PaymentsError:
        where = "PAYMENTS_DATABASE_URL"
    if unreachable:
        return f"cannot reach the database at {where}: {name}"
    return (
        f"the database at {where} refused a statement: {name} "
        "(is it migrated? run `payments migrate`)"
    )


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
    keys_sub.add_parser(
        "list", help="every key: id, prefix, role, customer, created, revoked (never a secret)"
    ).set_defaults(func=cmd_api_keys_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key: its bearer gets 401 from now on")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_api_keys_revoke)

    inbox = sub.add_parser("inbox", help="look at stored notifications")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True)
    listing = inbox_sub.add_parser(
        "list", help="stored notifications, newest first (ids for `payments replay`)"
    )
    listing.add_argument("--status", choices=[status.value for status in InboxStatus])
    listing.add_argument("--limit", type=_positive, default=50)
    listing.set_defaults(func=cmd_inbox_list)

    events = sub.add_parser("events", help="look at the outbox of domain events")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    events_list = events_sub.add_parser(
        "list", help="the events waiting to be published, oldest first"
    )
    events_list.add_argument(
        "--unpublished", action="store_true", required=True, help="the backlog (required)"
    )
    events_list.add_argument("--limit", type=_positive, default=50)
    events_list.set_defaults(func=cmd_events_list)

    worker = sub.add_parser(
        "worker",
        help="retry failed notifications, expire stale purchases, publish the outbox to NATS",
    )
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


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("console")  # until the settings say otherwise
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except PaymentsError as error:
        print(f"payments: {error.message}", file=sys.stderr)
        return 2
    except Exception as error:
        failure = _database_failure(error)
        if failure is None:
            raise
        print(f"payments: {failure}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
