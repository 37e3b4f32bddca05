"""The simulators' shared signed delivery: one signing scheme, kept events, recorded deliveries."""

from __future__ import annotations

import pytest

from payments.adapters.wire.webhook_signing import verify
from payments.domain.errors import ConfigurationError, NotFoundError
from payments.sandbox.delivery import Delivery, EventStyle, SignedEvents

SECRET = "whsec_test_signed_events_fake"
NOW = 1_800_000_000


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, path: str, headers: dict[str, str], body: bytes) -> int:
        self.received.append((path, headers, body))
        return self.status


STYLE = EventStyle(
    provider="test provider",
    signature_header="Test-Signature",
    headers={"Content-Type": "application/json"},
)


def events(receiver: Receiver | None, secrets: tuple[str, ...] = (SECRET,)) -> SignedEvents:
    return SignedEvents(
        STYLE, secrets, receiver, webhook_path="/v1/webhooks/test", clock=lambda: NOW
    )


def test_a_sent_event_carries_a_signature_the_shared_verifier_accepts() -> None:
    receiver = Receiver()
    summary = events(receiver).send("evt_1", "payment.succeeded", b'{"id":"evt_1"}')
    path, headers, body = receiver.received[0]
    assert summary == {"event_id": "evt_1", "type": "payment.succeeded", "delivered_status": 200}
    assert path == "/v1/webhooks/test"
    assert headers["Content-Type"] == "application/json"
    assert verify(headers["Test-Signature"], body, [SECRET], now=NOW) == NOW


def test_every_secret_signs_while_one_is_rolled() -> None:
    receiver = Receiver()
    events(receiver, ("whsec_old_fake", "whsec_new_fake")).send("evt_1", "t", b"{}")
    header = receiver.received[0][1]["Test-Signature"]
    assert header.count("v1=") == 2
    assert verify(header, b"{}", ["whsec_new_fake"], now=NOW) == NOW


def test_each_delivery_is_recorded_with_the_answered_status() -> None:
    sender = events(Receiver(status=503))
    sender.send("evt_1", "payment.failed", b"{}")
    [delivery] = sender.deliveries
    assert isinstance(delivery, Delivery)
    assert (delivery.event_id, delivery.event_type, delivery.status) == (
        "evt_1",
        "payment.failed",
        503,
    )


def test_without_a_deliverer_the_delivery_is_recorded_with_no_status() -> None:
    sender = events(None)
    assert sender.send("evt_1", "t", b"{}")["delivered_status"] is None
    assert sender.deliveries[0].status is None


def test_a_kept_event_is_redelivered_with_its_id_and_body() -> None:
    receiver = Receiver()
    sender = events(receiver)
    sender.keep("evt_1", "payment.succeeded", b'{"id":"evt_1"}')
    sender.redeliver("evt_1")
    sender.redeliver("evt_1")
    assert [body for _path, _headers, body in receiver.received] == [b'{"id":"evt_1"}'] * 2
    assert sender.body("evt_1") == b'{"id":"evt_1"}'


def test_an_unknown_event_is_not_found_naming_the_provider() -> None:
    with pytest.raises(NotFoundError, match="test provider"):
        events(Receiver()).redeliver("evt_never_sent")


def test_signing_without_a_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        events(Receiver(), ("",)).sign(NOW, b"{}")
