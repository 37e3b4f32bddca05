"""The DESIGN §9 yardstick on this machine: a hand-written Falcon + psycopg webhook handler.

Verify the signature, insert the inbox row, update the purchase, insert one ledger entry: three
statements in one transaction, no domain model, no audit, no outbox. It runs in the same
gunicorn, on the same schema and events as the service (``webhooks.py`` alternates them), so
the two figures are taken under the same conditions. Never use it for anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from typing import Any

import falcon
import psycopg

TOLERANCE_SECONDS = 300

_INSERT_INBOX = (
    "INSERT INTO webhook_inbox (id, provider, event_id, event_type, headers, body, received_at,"
    " status, attempts) VALUES (%s, 'stripe', %s, %s, %s, %s, now(), 'processed', 0)"
    " ON CONFLICT (provider, event_id) DO NOTHING"
)
_COMPLETE_PURCHASE = (
    "UPDATE purchases SET status = 'completed', updated_at = now(), completed_at = now(),"
    " version = version + 1 WHERE gateway = 'stripe' AND gateway_reference = %s"
    " AND status = 'processing' RETURNING id, customer_id, amount, currency"
)
_INSERT_LEDGER = (
    "INSERT INTO ledger_entries (id, customer_id, kind, asset, amount, source, created_at,"
    " purchase_id) VALUES (%s, %s, 'purchase_payment', %s, %s, %s, now(), %s)"
    " ON CONFLICT (source) DO NOTHING"
)


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _verified(header: str | None, body: bytes, secret: bytes) -> bool:
    if not header:
        return False
    parts = [item.partition("=") for item in header.split(",")]
    timestamps = [value for key, _, value in parts if key == "t"]
    signatures = [value.encode() for key, _, value in parts if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    if abs(time.time() - int(timestamps[0])) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret, timestamps[0].encode() + b"." + body, hashlib.sha256)
    digest = expected.hexdigest().encode()
    return any(hmac.compare_digest(digest, candidate) for candidate in signatures)


class StripeWebhook:
    def __init__(self, conninfo: str, secret: str) -> None:
        self._conninfo = conninfo
        self._secret = secret.encode()
        self._local = threading.local()

    def _connection(self) -> psycopg.Connection[Any]:
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = psycopg.connect(self._conninfo)
            self._local.connection = connection
        return connection

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.bounded_stream.read()
        if not _verified(req.get_header("Stripe-Signature"), body, self._secret):
            raise falcon.HTTPBadRequest(title="Invalid signature")
        event = json.loads(body)
        intent = event["data"]["object"]
        headers = json.dumps({k.lower(): v for k, v in req.headers.items()})
        connection = self._connection()
        with connection.transaction():
            stored = connection.execute(
                _INSERT_INBOX, (uuid.uuid4().hex, event["id"], event["type"], headers, body)
            )
            if stored.rowcount == 0:
                resp.media = {"status": "duplicate"}
                return
            row = connection.execute(_COMPLETE_PURCHASE, (intent["id"],)).fetchone()
            if row is not None:
                purchase_id, customer_id, amount, currency = row
                connection.execute(
                    _INSERT_LEDGER,
                    (
                        uuid.uuid4().hex,
                        customer_id,
                        currency,
                        amount,
                        f"purchase:{purchase_id}:payment",
                        purchase_id,
                    ),
                )
        resp.media = {"status": "processed" if row is not None else "ignored"}


class Health:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


def create_app() -> falcon.App[falcon.Request, falcon.Response]:
    app = falcon.App()
    webhook = StripeWebhook(
        _conninfo(os.environ["PAYMENTS_DATABASE_URL"]),
        os.environ["PAYMENTS_STRIPE_WEBHOOK_SECRET"],
    )
    app.add_route("/v1/webhooks/stripe", webhook)
    app.add_route("/health", Health())
    app.add_route("/ready", Health())
    return app


application = create_app()
