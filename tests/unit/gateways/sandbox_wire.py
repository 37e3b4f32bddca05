"""Sandbox wire messages and an offline gateway, shared by the sandbox adapter's tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping

import requests

from payments.adapters.gateways.sandbox import SandboxGateway
from payments.domain.gateway import Payer, PaymentRequest
from payments.domain.money import Money

SECRET = "sandbox_test_secret"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z


def hmac_header(body: bytes, *, secret: str = SECRET, timestamp: int = NOW) -> str:
    """The header computed by the documented algorithm, independently of the adapter."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class UnusableSession(requests.Session):
    """A session that fails the test if the adapter does any I/O."""

    def request(self, *args: object, **kwargs: object) -> requests.Response:
        raise AssertionError("no I/O was expected")


def gateway(*, now: float = NOW) -> SandboxGateway:
    return SandboxGateway(UnusableSession(), "http://sandbox.invalid", SECRET, clock=lambda: now)


def payment_wire(**overrides: object) -> dict[str, object]:
    payment: dict[str, object] = {
        "id": "pay_1",
        "object": "payment",
        "reference": "ref_1",
        "status": "pending",
        "amount": {"amount": "79.99", "currency": "EUR"},
        "amount_refunded": {"amount": "0.00", "currency": "EUR"},
        "payment_method": "card",
        "checkout_url": "http://sandbox.invalid/checkout/pay_1",
        "client_secret": "pay_1_secret_abc",
        "decline_code": None,
        "failure_message": None,
        "metadata": {},
        "created": NOW,
    }
    payment.update(overrides)
    return payment


def event_body(event_type: str, data: Mapping[str, object], event_id: str = "evt_1") -> bytes:
    return json.dumps({"id": event_id, "type": event_type, "created": NOW, "data": data}).encode()


def succeeded_body() -> bytes:
    return event_body("payment.succeeded", payment_wire(status="succeeded"))


def request(**overrides: object) -> PaymentRequest:
    fields: dict[str, object] = {
        "purchase_id": "pur_1",
        "reference": "ref_1",
        "amount": Money("79.99", "EUR"),
        "description": "8 Hour Premium Package",
        "payer": Payer("cus_1", "ana@example.com", "Ana"),
        "country": "ES",
        "payment_method": "card",
        "idempotency_key": "pur_1:start:0",
        "return_url": "https://shop.example/done",
        "metadata": {"purchase_id": "pur_1"},
    }
    fields.update(overrides)
    return PaymentRequest(**fields)  # type: ignore[arg-type]


def walk(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
