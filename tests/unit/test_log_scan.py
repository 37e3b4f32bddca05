"""The suite-wide log scan (``tests/conftest.py``) sees leaks, and the redaction step stops them."""

from __future__ import annotations

import logging

from tests.conftest import _LogScanner, leaks_in
from tests.log_scan import process_leaks


def test_the_scan_finds_what_the_redaction_must_catch() -> None:
    assert leaks_in("key sk_live_abcdefgh, card 4242 4242 4242 4242") == [
        "sk_live_abcdefgh",
        "4242 4242 4242 4242",
    ]
    assert leaks_in("Authorization: Bearer pay_admi_x")
    assert leaks_in("whsec_abcdefgh pi_1_secret_abcdefgh prv_test_abcdefgh test_events_abcdefg")


def test_the_scan_leaves_masked_lines_and_ids_alone() -> None:
    assert not leaks_in("Bearer [REDACTED] card [REDACTED] pay_18af8811bcce7dbc20d959f9")
    assert not leaks_in("at 1733490000001 ms")  # 13 digits, but no card number (Luhn)


def test_a_secret_logged_by_a_test_reaches_the_scan_masked() -> None:
    scanner = _LogScanner()
    logger = logging.getLogger("payments.test.scan")
    logger.addHandler(scanner)
    try:
        logger.warning("sent %s with card %s", "sk_test_abcdefgh", "4242424242424242")
    finally:
        logger.removeHandler(scanner)

    assert scanner.records == 1
    assert scanner.leaks == []


def test_what_a_process_wrote_is_scanned_line_by_line() -> None:
    output = "started\nsent sk_test_abcdefgh1 to stripe\nGET /health 200\n"
    [leak] = process_leaks("payments worker", output)
    assert leak.startswith("payments worker: ['sk_test_abcdefgh1'] in 'sent sk_test_")
    assert process_leaks("payments worker", "Bearer [REDACTED]\n") == []
    # a request id the service made, whose digits happen to pass the Luhn check
    request_id = "req_17238975999241cb9059a02937d9cd5b"
    line = f"INFO payments.access GET /v1/products/0 404 1.5ms request_id={request_id}"
    assert leaks_in(line)
    assert process_leaks("payments serve", line) == []
