"""``POST /v1/webhooks/stripe`` on the real service: what is not ours is ``ignored``.

Stripe retries anything but a 2xx for three days, so events of other apps on the same account,
event types we do not use, and intents we never created must answer 200 ``ignored`` (and be
kept in the inbox for an operator), while a forged signature stays a 400.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from sqlalchemy import Engine, select

from payments.adapters.sql.tables import webhook_inbox
from tests.integration.service import RunningService, running_service


@pytest.fixture
def service(sqlite_engine: Engine) -> Iterator[RunningService]:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with running_service({"PAYMENTS_DATABASE_URL": url}) as running:
        yield running


def _event(event_id: str, event_type: str, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-09-30.endive",
            "created": int(time.time()),
            "data": {"object": data},
            "livemode": False,
            "type": event_type,
        }
    ).encode()


def _deliver(service: RunningService, body: bytes) -> requests.Response:
    simulator = service.container.sandbox().stripe_simulator
    header = simulator.sign(int(time.time()), body)
    return requests.post(
        service.base_url + "/v1/webhooks/stripe",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=30,
    )


def _intent(intent_id: str, metadata: dict[str, str]) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": 7999,
        "amount_received": 7999,
        "currency": "eur",
        "status": "succeeded",
        "metadata": metadata,
        "last_payment_error": None,
    }


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("customer.created", {"id": "cus_Other", "object": "customer"}),
        ("payment_intent.succeeded", _intent("pi_OtherApp", {})),
        ("payment_intent.succeeded", _intent("pi_Forgotten", {"purchase_reference": "ref_nope"})),
        (  # a currency Stripe lists but ISO 4217 no longer has: we never charge in it
            "payment_intent.succeeded",
            {**_intent("pi_Guilder", {"purchase_reference": "ref_nope"}), "currency": "ang"},
        ),
    ],
)
def test_what_is_not_ours_answers_200_ignored_and_is_kept(
    service: RunningService, sqlite_engine: Engine, event_type: str, data: dict[str, Any]
) -> None:
    answer = _deliver(service, _event("evt_not_ours", event_type, data))

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ignored"}
    with sqlite_engine.connect() as connection:
        rows = connection.execute(
            select(webhook_inbox.c.provider, webhook_inbox.c.event_id, webhook_inbox.c.status)
        ).all()
    assert [tuple(r) for r in rows] == [("stripe", "evt_not_ours", "ignored")]

    again = _deliver(service, _event("evt_not_ours", event_type, data))
    assert again.json() == {"status": "duplicate"}


def test_a_stripe_event_signed_with_another_secret_is_400(service: RunningService) -> None:
    body = _event("evt_forged", "customer.created", {"id": "cus_x"})
    header = f"t={int(time.time())},v1=" + "ab" * 32

    answer = requests.post(
        service.base_url + "/v1/webhooks/stripe",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=30,
    )

    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_signature"


@pytest.fixture
def rotating_service(sqlite_engine: Engine) -> Iterator[RunningService]:
    """Stripe configured with two webhook secrets, a space after the comma, as people write."""
    env = {
        "PAYMENTS_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
        "PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake_rotation_key",
        "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_old_fake, whsec_test_new_fake",
        "PAYMENTS_STRIPE_API_BASE": "http://127.0.0.1:9",  # never called: webhooks only
    }
    with running_service(env) as running:
        yield running


@pytest.mark.parametrize("secret", ["whsec_test_old_fake", "whsec_test_new_fake"])
def test_either_rotating_secret_verifies_on_the_service(
    rotating_service: RunningService, secret: str
) -> None:
    body = _event(f"evt_signed_{secret[11:14]}", "customer.created", {"id": "cus_x"})
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)

    answer = requests.post(
        rotating_service.base_url + "/v1/webhooks/stripe",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=30,
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ignored"}


def test_a_secret_outside_the_rotation_is_still_400(rotating_service: RunningService) -> None:
    body = _event("evt_other_secret", "customer.created", {"id": "cus_x"})
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_test_other")

    answer = requests.post(
        rotating_service.base_url + "/v1/webhooks/stripe",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=30,
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_signature"
