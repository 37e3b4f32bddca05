"""``payments webhooks list`` and ``payments webhooks deliveries`` as real processes, on a
database where the worker sent events to a merchant endpoint that failed once."""

from __future__ import annotations

from pathlib import Path

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from tests.integration.service import payments_env, run_payments
from tests.integration.test_merchant_webhooks import Merchant, merchant, webhooks_on

__all__ = ["merchant"]  # the fixture: a merchant's receiver on a loopback port


def test_webhooks_list_and_deliveries_show_endpoints_and_each_delivery_s_last_answer(
    tmp_path: Path, merchant: Merchant
) -> None:
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade(url)
    webhooks = webhooks_on(make_engine(url))
    live = webhooks.endpoints.create(merchant.url, ["purchase.completed"])
    off = webhooks.endpoints.create("http://127.0.0.1:9/events", ["*"])
    webhooks.endpoints.disable(off.endpoint.id)
    merchant.secret, merchant.failures = live.secret, 1
    webhooks.record(webhooks.completed("pur_1"))
    webhooks.dispatcher.run()  # answered 500: tried again later
    webhooks.clock.advance(seconds=10)
    webhooks.record(webhooks.completed("pur_2"))
    webhooks.dispatcher.run()  # pur_2 answered 200; pur_1's retry is not due yet
    webhooks.engine.dispose()
    env = payments_env(url)

    listed = run_payments("webhooks", "list", env=env)
    deliveries = run_payments("webhooks", "deliveries", live.endpoint.id, env=env)
    unknown = run_payments("webhooks", "deliveries", "whe_unknown", env=env)

    assert listed.returncode == 0, listed.stderr
    header, *rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert header == ["id", "url", "events", "status", "created_at", "disabled_at", "reason"]
    by_id = {row[0]: row for row in rows}
    assert set(by_id) == {live.endpoint.id, off.endpoint.id}
    assert by_id[live.endpoint.id][1:4] == [merchant.url, "purchase.completed", "enabled"]
    assert by_id[live.endpoint.id][5:] == ["-", "-"]
    assert by_id[off.endpoint.id][2:4] == ["*", "disabled"]
    assert by_id[off.endpoint.id][6] == "disabled by an operator"
    assert live.secret not in listed.stdout + listed.stderr  # the secret is shown once only

    assert deliveries.returncode == 0, deliveries.stderr
    header, *rows = [line.split("\t") for line in deliveries.stdout.splitlines()]
    assert "\t".join(header) == (
        "id\tevent_type\tevent_id\taggregate_id\tstatus\tattempts\tanswer_code"
        "\tlast_attempt_at\tnext_attempt_at\terror"
    )
    shown = {row[3]: (row[1], row[4], row[5], row[6]) for row in rows}
    assert shown == {
        "pur_1": ("purchase.completed", "pending", "1", "500"),
        "pur_2": ("purchase.completed", "succeeded", "1", "200"),
    }
    retry = next(row for row in rows if row[3] == "pur_1")
    assert retry[8] != "-"  # when it is sent again
    assert next(row for row in rows if row[3] == "pur_2")[8] == "-"

    assert unknown.returncode == 2
    assert "No webhook endpoint 'whe_unknown'" in unknown.stderr
