"""Verifying a notification's signature, per provider: Stripe's header (the scheme every
provider here shares), Wompi's event checksum, PayU's confirmation sign. Pure functions, no
I/O (pytest-benchmark, run on demand)."""

from __future__ import annotations

import json
import time

from pytest_benchmark.fixture import BenchmarkFixture

from payments.adapters.gateways.payu.signatures import (
    confirmation_signature,
    verify_confirmation_signature,
)
from payments.adapters.gateways.wompi.signatures import event_checksum, verify_event_checksum
from payments.adapters.wire import webhook_signing

STRIPE_SECRET = "whsec_micro_not_a_real_secret"
WOMPI_SECRET = "test_events_micro_not_a_real_secret"
PAYU_KEY = "4Vj8eK4rloUd272L48hsrarnUA"  # PayU's documented public sandbox key
PAYU_MERCHANT = "508029"


def test_stripe_signature_header(benchmark: BenchmarkFixture) -> None:
    body = json.dumps({"id": "evt_micro", "data": {"object": {"id": "pi_micro"}}}, indent=2)
    now = int(time.time())
    header = webhook_signing.signature_header([STRIPE_SECRET], now, body.encode())
    signed = benchmark(
        webhook_signing.verify, header, body.encode(), [STRIPE_SECRET], now=now, name="Stripe"
    )
    assert signed == now


def test_wompi_event_checksum(benchmark: BenchmarkFixture) -> None:
    data = {"transaction": {"id": "1234-1610641025-49201", "status": "APPROVED"}}
    properties = ["transaction.id", "transaction.status"]
    checksum = event_checksum(data, properties, 1530291411, WOMPI_SECRET)
    event = {
        "event": "transaction.updated",
        "data": {**data, "transaction": {**data["transaction"], "amount_in_cents": 4490000}},
        "timestamp": 1530291411,
        "signature": {"properties": properties, "checksum": checksum},
    }
    benchmark(verify_event_checksum, event, events_secret=WOMPI_SECRET)


def test_payu_confirmation_sign(benchmark: BenchmarkFixture) -> None:
    fields = {
        "merchant_id": PAYU_MERCHANT,
        "reference_sale": "ref_micro",
        "value": "150.00",
        "currency": "COP",
        "state_pol": "4",
    }
    fields["sign"] = confirmation_signature(
        api_key=PAYU_KEY,
        merchant_id=PAYU_MERCHANT,
        reference_sale=fields["reference_sale"],
        value=fields["value"],
        currency=fields["currency"],
        state_pol=fields["state_pol"],
    )
    benchmark(verify_confirmation_signature, fields, api_key=PAYU_KEY, merchant_id=PAYU_MERCHANT)
