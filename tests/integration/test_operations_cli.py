"""``payments purchases show`` and ``payments replay --status`` as real processes on the
database of a running sandbox service."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from payments.adapters.memory import FixedClock
from payments.domain.inbox import InboxStatus
from tests.integration.test_worker_cli import Operations, operations

__all__ = ["operations"]  # the fixture, shared with the worker's command tests


def _paid(operations: Operations, customer_id: str) -> dict[str, object]:
    purchase = operations.buy(customer_id)
    headers, body = operations.approve_at_provider(purchase)
    answer = operations.service.http.post(
        operations.service.base_url + "/v1/webhooks/stripe", data=body, headers=headers, timeout=30
    )
    assert answer.json() == {"status": "processed"}, answer.text
    return purchase


def test_purchases_show_json_has_the_purchase_its_trail_notifications_refunds_and_ledger(
    operations: Operations,
) -> None:
    purchase = _paid(operations, "cus_ana")
    refund = operations.service.call(
        "POST",
        f"/v1/purchases/{purchase['id']}/refunds",
        operations.admin_key,
        json={"amount": {"amount": "9.99", "currency": "EUR"}},
    )
    assert refund.status_code == 201, refund.text

    done = operations.cli("purchases", "show", str(purchase["id"]), "--json")

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["purchase"]["id"] == purchase["id"]
    assert document["purchase"]["status"] == "partially_refunded"
    assert document["purchase"]["amount"] == {"amount": "79.99", "currency": "EUR"}
    trail = [step["to_status"] for step in document["audit"]]
    assert trail[0] == "pending" and trail[-2:] == ["completed", "partially_refunded"], trail
    assert [n["status"] for n in document["notifications"]] == ["processed"]
    assert document["notifications"][0]["provider"] == "stripe"
    assert [r["id"] for r in document["refunds"]] == [refund.json()["id"]]
    assert document["refunds"][0]["amount"] == {"amount": "9.99", "currency": "EUR"}
    sources = {entry["asset"] for entry in document["ledger"]}
    assert sources == {"credits", "EUR"}
    assert len(document["ledger"]) == 4  # credit and money in, part of both out


def test_purchases_show_prints_tables(operations: Operations) -> None:
    purchase = _paid(operations, "cus_bob")

    done = operations.cli("purchases", "show", str(purchase["id"]))

    assert done.returncode == 0, done.stderr
    for title in ("Audit trail (", "Notifications (1)", "Refunds (0)", "Ledger entries (2)"):
        assert title in done.stdout
    assert str(purchase["id"]) in done.stdout
    assert "79.99 EUR" in done.stdout
    assert "\x1b[" not in done.stdout  # no terminal codes when piped


def test_purchases_show_of_an_unknown_purchase_exits_2_naming_it(operations: Operations) -> None:
    done = operations.cli("purchases", "show", "pur_never")

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines()[-1] == "payments: Purchase 'pur_never' does not exist."


def test_replay_status_failed_replays_every_failed_notification(operations: Operations) -> None:
    now = FixedClock(datetime.now(UTC))  # not due for an hour: only the operator's replay runs them
    purchases = [operations.buy(f"cus_{n}") for n in range(3)]
    messages = [
        operations.store_failed(operations.approve_at_provider(purchase), now)
        for purchase in purchases
    ]

    done = operations.cli("replay", "--status", "failed")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "replayed 3 notification(s): processed 3\n"
    assert "\x1b[" not in done.stderr  # no progress bar when standard error is not a terminal
    assert all(operations.message(m).status is InboxStatus.PROCESSED for m in messages)
    assert [operations.status(p) for p in purchases] == ["completed"] * 3


def test_replay_needs_one_message_id_or_a_status(operations: Operations) -> None:
    neither = operations.cli("replay")
    both = operations.cli("replay", "whk_1", "--status", "failed")

    for done in (neither, both):
        assert done.returncode == 2
        assert "give one message id, or --status" in done.stderr
