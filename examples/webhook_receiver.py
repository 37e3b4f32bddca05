"""Receive payments webhooks: verify Payments-Signature on the raw body, act once per event id."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import make_server

from payments.webhooks import (
    InvalidSignatureError,
    MalformedNotificationError,
    WebhookEvent,
    verify,
)

Handler = Callable[[WebhookEvent], None]


def receiver(secret: str, handle: Handler) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that answers 200 to a genuine event (after ``handle``), 400 to anything else."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            event = verify(body, environ.get("HTTP_PAYMENTS_SIGNATURE"), secret)
        except (InvalidSignatureError, MalformedNotificationError):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"rejected\n"]
        handle(event)  # raise to answer 500: the event is sent again later
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]

    return app


def once_per_event(handle: Handler) -> Handler:
    """``handle`` each event id once: a retried or resent delivery carries the same id."""
    seen: set[str] = set()  # keep this in your database, next to what handle() changes

    def handle_new(event: WebhookEvent) -> None:
        if event.id not in seen:
            handle(event)
            seen.add(event.id)

    return handle_new


def credit(event: WebhookEvent) -> None:
    if event.type == "purchase.completed":
        amount = event.data["amount"]
        print(f"{event.aggregate_id} paid {amount['amount']} {amount['currency']}", flush=True)


def main() -> None:
    secret = os.environ["WEBHOOK_SECRET"]  # the "secret" of POST /v1/webhook-endpoints
    port = int(os.environ.get("PORT", "8080"))
    with make_server("127.0.0.1", port, receiver(secret, once_per_event(credit))) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
