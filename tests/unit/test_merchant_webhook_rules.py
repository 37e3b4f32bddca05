"""Merchant webhook rules offline: the backoff schedule, the receivers' verify helper, sealed
secrets and their key setting."""

from __future__ import annotations

import json
import random
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from payments.adapters.webhooks import FernetSecretBox, NoSecretBox
from payments.adapters.wire.webhook_signing import signature_header
from payments.config import SANDBOX_WEBHOOK_SECRETS_KEY, Settings
from payments.containers import build_container
from payments.domain.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedNotificationError,
    ValidationError,
)
from payments.domain.events import StoredEvent
from payments.domain.webhooks import (
    RETRY_WINDOW,
    DeliveryStatus,
    WebhookDelivery,
    checked_event_types,
    known_event_types,
    retry_delay,
)
from payments.webhooks import verify

SECRET = "whsec_test_not_a_real_secret"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
BODY = json.dumps(
    {
        "id": "evt_1",
        "type": "purchase.completed",
        "occurred_at": "2026-03-01T00:00:00+00:00",
        "aggregate_id": "pur_1",
        "data": {"amount": {"amount": "79.99", "currency": "EUR"}, "ratio": 0.1},
    }
).encode()


def test_retries_wait_one_minute_doubling_to_six_hours_with_jitter_below_each_step() -> None:
    jitter = random.Random(3)
    for attempt, minutes in [(1, 1), (2, 2), (3, 4), (9, 256), (10, 360), (40, 360)]:
        for _ in range(20):
            wait = retry_delay(attempt, jitter)
            assert timedelta(minutes=minutes) * 0.75 <= wait <= timedelta(minutes=minutes)


def test_a_delivery_fails_once_its_next_try_would_fall_after_three_days() -> None:
    event = StoredEvent(1, "evt_1", "purchase.completed", "pur_1", T0, {})
    delivery = WebhookDelivery("whd_1", "whe_1", event, DeliveryStatus.PENDING, T0, T0)
    jitter = random.Random(5)
    now, attempts = T0, 0
    while delivery.status is DeliveryStatus.PENDING:
        delivery = delivery.claimed(now).failed_attempt(now, 503, None, jitter)
        attempts += 1
        now = delivery.next_attempt_at
    assert delivery.status is DeliveryStatus.FAILED
    assert now <= T0 + RETRY_WINDOW
    assert now + timedelta(hours=6) > T0 + RETRY_WINDOW  # it did use the window
    assert 15 <= attempts <= 25


def test_event_types_are_the_outbox_names() -> None:
    known = known_event_types()
    assert {"purchase.completed", "purchase.created", "refund.recorded"} <= known
    assert "event" not in known
    assert checked_event_types(["purchase.completed", "purchase.completed"]) == (
        "purchase.completed",
    )
    with pytest.raises(ValidationError):
        checked_event_types(["purchase.*"])


def test_verify_returns_the_event_with_decimals_never_floats() -> None:
    header = signature_header([SECRET], int(time.time()), BODY)

    event = verify(BODY, header, SECRET)

    assert (event.id, event.type, event.aggregate_id) == ("evt_1", "purchase.completed", "pur_1")
    assert event.occurred_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert event.data["ratio"] == Decimal("0.1")
    assert verify(BODY.decode(), header, SECRET) == event


@pytest.mark.parametrize(
    ("body", "header_secret", "age", "secret"),
    [
        (BODY + b" ", SECRET, 0, SECRET),  # tampered body
        (BODY, "whsec_someone_else", 0, SECRET),  # signed with another secret
        (BODY, SECRET, 301, SECRET),  # stale
        (BODY, SECRET, -301, SECRET),  # from the future
        (BODY, SECRET, 0, ""),  # no secret configured: never passes
    ],
)
def test_verify_refuses_what_we_did_not_sign_just_now(
    body: bytes, header_secret: str, age: int, secret: str
) -> None:
    header = signature_header([header_secret], int(time.time()) - age, BODY)
    with pytest.raises(InvalidSignatureError):
        verify(body, header, secret)


def test_verify_refuses_a_missing_or_malformed_header() -> None:
    for header in (None, "", "v1=abc", "t=1,t=2,v1=abc", "nonsense"):
        with pytest.raises(InvalidSignatureError):
            verify(BODY, header, SECRET)


def test_verify_refuses_a_signed_body_that_is_not_an_event() -> None:
    for body in (b"[]", b'{"id": "evt_1"}', b"not json", b'{"id": 1, "type": "x"}'):
        header = signature_header([SECRET], int(time.time()), body)
        with pytest.raises(MalformedNotificationError):
            verify(body, header, SECRET)


def test_a_tolerance_may_be_widened_for_a_slow_receiver() -> None:
    header = signature_header([SECRET], int(time.time()) - 600, BODY)
    assert verify(BODY, header, SECRET, tolerance=900).id == "evt_1"


def test_secrets_are_sealed_and_opened_across_a_key_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = FernetSecretBox([old]).seal(SECRET)

    rotated = FernetSecretBox([new, old])

    assert SECRET not in sealed_before
    assert rotated.open(sealed_before) == SECRET
    assert FernetSecretBox([new]).open(rotated.seal(SECRET)) == SECRET
    with pytest.raises(ConfigurationError):
        FernetSecretBox([new]).open(sealed_before)
    with pytest.raises(ConfigurationError):
        NoSecretBox().seal(SECRET)


def test_the_secrets_key_setting_is_checked_at_start() -> None:
    assert Settings.from_env({}).webhook_secrets_keys == (SANDBOX_WEBHOOK_SECRETS_KEY,)
    key = Fernet.generate_key().decode()
    settings = Settings.from_env(
        {"PAYMENTS_WEBHOOK_SECRETS_KEY": f"{key}, {SANDBOX_WEBHOOK_SECRETS_KEY}"}
    )
    assert settings.webhook_secrets_keys == (key, SANDBOX_WEBHOOK_SECRETS_KEY)
    with pytest.raises(ConfigurationError, match="Fernet keys"):
        Settings.from_env({"PAYMENTS_WEBHOOK_SECRETS_KEY": "not-a-key"})
    assert key not in repr(settings)


def test_the_webhooks_doc_shows_the_receiver_example_as_it_is() -> None:
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "webhooks.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    assert blocks == [(root / "examples" / "webhook_receiver.py").read_text()]


def test_the_live_container_refuses_loopback_endpoints_and_the_sandbox_one_takes_them() -> None:
    live = Settings.from_env(
        {
            "PAYMENTS_MODE": "live",
            "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_" + "x" * 24,
            "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_" + "y" * 24,
        }
    )
    live_sender = build_container(live).webhook_sender()
    for url in ("https://127.0.0.1/events", "https://localhost/events", "http://[::1]/events"):
        with pytest.raises(ValidationError):
            live_sender.check_destination(url)
    build_container(Settings.from_env({})).webhook_sender().check_destination(
        "http://127.0.0.1:8080/events"
    )
