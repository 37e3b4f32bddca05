"""CPU of the pieces of a signed webhook that run outside the database, each timed alone.

The HTTP layer is the container's WSGI app called as gunicorn calls it (one environ per request,
no falcon.testing) with the inbox use case answering ``processed`` at once: routing, middleware,
request id, access line (logged only at warning, as in the benchmark's gunicorn), metrics, body
and header reading, the answer. Then Stripe's verification and translation of the benchmark's
event, a ULID, and the webhook's two log lines as ``payments serve`` configures logging (written
to /dev/null). No database is reached. Each figure is the best of 15 rounds of process CPU time, so
it moves little on a shared machine; compare two trees with ``PYTHONPATH=<tree>/src``.
``.venv/bin/python benchmarks/webhook_pieces.py [--log-format json]``.
"""

from __future__ import annotations

import argparse
import io
import logging
import logging.config
import os
import sys
import time
import timeit
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import falcon.testing
from bench_run import WEBHOOK_SECRET, service_env
from signed_events import WEBHOOK_PATH, SeededPurchase, build_events, sign

from payments.adapters.gateways.stripe.events import notification_from_body
from payments.adapters.system import UlidGenerator
from payments.adapters.wire.notification_json import parse_notification
from payments.config import Settings
from payments.containers import build_container
from payments.domain.services import notifications
from payments.entrypoints.cli.serve import _gunicorn_logging
from payments.entrypoints.logs import enter_request

_NO_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:9/not_reached"


def _cpu_us(piece: Callable[[], object], number: int = 2000) -> float:
    """Microseconds of process CPU per call: the best of 15 rounds of ``number`` calls."""
    rounds = timeit.repeat(piece, number=number, repeat=15, timer=time.process_time)
    return min(rounds) / number * 1e6


def _http_layer(body: bytes, headers: dict[str, str]) -> Callable[[], object]:
    """One POST through the whole WSGI app, the inbox use case answering at once."""
    env = {**service_env(_NO_DATABASE), "PAYMENTS_PUBLIC_BASE_URL": "http://127.0.0.1"}
    app = build_container(Settings.from_env(env)).wsgi_app()
    receipt = notifications.Receipt(notifications.Delivery.PROCESSED, "whk_1", "pur_1")

    def receive(self: object, provider: str, headers: object, body: bytes) -> object:
        return receipt

    notifications.NotificationService.receive = receive  # type: ignore[assignment,method-assign]
    template = falcon.testing.create_environ(
        path=WEBHOOK_PATH, method="POST", headers=headers, body=body
    )

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        return None

    def post() -> bytes:
        environ = {**template, "wsgi.input": io.BytesIO(body)}
        answer: Iterable[bytes] = app(environ, start_response)
        return b"".join(answer)

    if post() != b'{"status":"processed"}':
        raise SystemExit("the stubbed webhook did not answer processed")
    return post


def _log_lines(log_format: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """The access line and the receipt line, through the filters and formatter of ``serve``."""
    logging.config.dictConfig(_gunicorn_logging(log_format)["logconfig_dict"])
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the whole run
    enter_request("req_0699590e8cb941e4af69fc8fc380353f")
    access = logging.getLogger("payments.access")
    receipts = logging.getLogger("payments.domain.services.notifications")

    def access_line() -> None:
        fields = {"method": "POST", "path": WEBHOOK_PATH, "status": 200, "duration_ms": 1.234}
        access.info("%s %s %d %.1fms", "POST", WEBHOOK_PATH, 200, 1.234, extra=fields)

    def receipt_line() -> None:
        receipts.info(
            "notification %s/%s (%s): %s, purchase %s",
            "stripe",
            "evt_1NG8Du2eZvKYlo2CA0ZoVMY1",
            "payment_intent.succeeded",
            "processed",
            "pur_01JD8ZX3K4M5N6P7Q8R9S0T1V2",
            extra={"provider": "stripe", "event_id": "evt_1NG8Du2eZvKYlo2CA0ZoVMY1"},
        )

    return access_line, receipt_line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-format", choices=("console", "json"), default="console")
    args = parser.parse_args(argv)
    ((event_id, body),) = build_events([SeededPurchase("pur_1", "ref_1", "pi_1", 7999, "eur")])
    (delivery,) = sign([(event_id, body)], WEBHOOK_SECRET)
    headers = delivery.headers()
    lowered = {name.lower(): value for name, value in headers.items()}
    post = _http_layer(body, headers)
    env = {**service_env(_NO_DATABASE), "PAYMENTS_PUBLIC_BASE_URL": "http://127.0.0.1"}
    gateway: Any = build_container(Settings.from_env(env)).gateways()["stripe"]
    stripe = getattr(gateway, "inner", gateway)  # past the circuit breaker
    ids = UlidGenerator()
    pieces: list[tuple[str, Callable[[], object]]] = [
        ("HTTP layer, use case stubbed", post),
        ("verify, parse and translate", lambda: stripe.verify_notification(lowered, body)),
        ("  parse_notification", lambda: parse_notification(body, "Stripe")),
        ("  notification_from_body", lambda: notification_from_body(body)),
        ("one ULID (six per webhook)", lambda: ids.new("whk")),
    ]
    print(f"load average {os.getloadavg()[0]:.2f}; CPU per call, best of 15 rounds")
    for name, piece in pieces:
        print(f"  {name:<40}{_cpu_us(piece):>8.2f} us", flush=True)
    # Logging as `payments serve` configures it (the benchmark's gunicorn logs only warnings).
    access_line, receipt_line = _log_lines(args.log_format)
    served = [
        (f"access line ({args.log_format})", access_line),
        (f"receipt line ({args.log_format})", receipt_line),
    ]
    for name, piece in served:
        print(f"  {name:<40}{_cpu_us(piece):>8.2f} us", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
