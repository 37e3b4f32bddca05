"""What ``payments serve`` writes (gunicorn's lines and ours) shows no secret, whatever a client
puts in the query string, in console and in JSON mode: its access line leaves the query out."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from payments.adapters.sql.migrate import upgrade
from tests.integration.service import payments_serve
from tests.log_scan import process_leaks

# A provider's redirect back to a return page carries the payment's client secret in the query.
CLIENT_SECRET = "pi_3QeXAMPLE0001_secret_fakefakefake0001"


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_secret_in_the_query_string_stays_out_of_the_server_s_log(
    tmp_path: Path, log_format: str
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    with payments_serve(url, tmp_path, PAYMENTS_LOG_FORMAT=log_format) as base_url:
        answer = requests.get(
            f"{base_url}/health?payment_intent_client_secret={CLIENT_SECRET}",
            headers={"Referer": f"https://shop.example/return?secret={CLIENT_SECRET}"},
            timeout=30,
        )
        assert answer.status_code == 200
    [log] = tmp_path.glob("serve-*.log")
    lines = log.read_text()

    assert "/health" in lines  # the access lines are there, ours and gunicorn's
    assert " 200 " in lines or '"status": 200' in lines
    assert CLIENT_SECRET not in lines
    assert "client_secret=" not in lines
    assert process_leaks(str(log), lines) == []
