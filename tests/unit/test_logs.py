"""The log pipeline: secrets and card numbers masked, the request id on every record, formats."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.domain.services.access import KEY_PREFIX
from payments.entrypoints import logs
from payments.entrypoints.logs import (
    MASK,
    ConsoleLogFormatter,
    JsonLogFormatter,
    RedactionFilter,
    RequestIdFilter,
    configure_logging,
    enter_request,
    install_filters,
    leave_request,
    redact,
)

SECRETS = [
    f"{KEY_PREFIX}admi_Zq3xT0bW9-kP_aaaaBBBBccccDDDDeeee",
    "sk_live_51HabcdEFGHijklMNOPqrstuv",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "rk_live_51Habcdefghijklmno",
    "rk_test_51Habcdefghijklmno",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
    "seti_1Mm8s8LkdIwHu7ix0OXBfTRG_secret_NXDICkPqPeiBTAFqWmkbff09lRmSVXe",
    "prv_test_S2E6yDqcQ3m6JjR8IvaPnKUe5iOtv1G8",
    "prv_prod_S2E6yDqcQ3m6JjR8IvaPnKUe5iOtv1G8",
    "prod_integrity_Z5mMke9x0k8gpErbDqwrJXMqsI6SFli6",
    "prod_events_Z5mMke9x0k8gpErbDqwrJXMqsI6SFli6",
    "test_integrity_Z5mMke9x0k8gpErbDqwrJXMqsI6SFli6",
    "test_events_Z5mMke9x0k8gpErbDqwrJXMqsI6SFli6",
    "4242424242424242",
    "4000 0566 5566 5556",
    "5555-5555-5555-4444",
    "378282246310005",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_each_kind_of_secret_is_masked(secret: str) -> None:
    masked = redact(f"calling with {secret}, then more")

    assert secret not in masked
    assert masked == f"calling with {MASK}, then more"


def test_a_bearer_token_of_any_shape_is_masked() -> None:
    assert redact("Authorization: Bearer abc.def-ghi") == f"Authorization: Bearer {MASK}"


@pytest.mark.parametrize(
    "harmless",
    [
        "purchase pur_01HZX3 (reference ref_8f2a) applied",
        "pi_3MtwBwLkdIwHu7ix28a3tqPa succeeded",  # an intent id is not its client secret
        "payment pay_18af8811bcce7dbc20d959f9 and pay_rfd_1 are provider ids",
        "pk_test_TYooMQauvdEDq54NiTphI7jx",  # publishable keys are public
        "pub_test_Q5yDA9xoKdePzhSGeVe9HAez7HgGORGf",
        "amount 799900 COP at 2026-12-06 13:10:43 t=1733490000",
        "request_id=req_5f1b2c3d4e5f60718293a4b5c6d7e8f9",
    ],
)
def test_what_is_not_a_secret_is_kept(harmless: str) -> None:
    assert redact(harmless) == harmless


@given(
    digits=st.text(alphabet="0123456789", min_size=13, max_size=19),
    separator=st.sampled_from(["", " ", "-"]),
    before=st.text(alphabet=" ,.:;=()'\"cardnumbe", max_size=20),
    after=st.text(alphabet=" ,.:;=()'\"cardnumbe", max_size=20),
)
def test_no_card_number_survives(digits: str, separator: str, before: str, after: str) -> None:
    grouped = separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))

    masked = redact(f"{before}{grouped}{after}")

    assert not re.search(r"[0-9]", masked)
    assert masked == f"{before}{MASK}{after}"


@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_shorter_numbers_are_kept(digits: str) -> None:
    assert redact(f"amount {digits}.") == f"amount {digits}."


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("payments.test", logging.INFO, __file__, 1, msg, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


# Text made of secrets' pieces, near-misses and filler: masking skips the full pattern only for
# text it could not match, so the result is always the full pattern's.
_PIECES = st.sampled_from(
    [*SECRETS, "Bearer ", "Bearer", "pay_", "sk_", "rk_", "whsec_", "pi_", "seti_", "prv_",
     "_secret_", "_integrity_", "_events_", "test", "live", "prod", "abcdEFGH", "0123456789",
     "4242", " ", "-", "--", "/", ",", "x", "12", "evt_1NG8Du2eZvKYlo2CA0ZoVMY1"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=12).map("".join))
def test_masking_answers_what_the_whole_pattern_answers(text: str) -> None:
    whole = logs._SECRETS.sub(lambda m: (m.group("bearer") or "") + MASK, text)
    assert redact(text) == whole


def test_the_filter_masks_the_message_and_its_arguments() -> None:
    record = _record("key %s and card %s", "sk_live_abcdefgh", "4242424242424242")

    RedactionFilter().filter(record)

    assert record.getMessage() == f"key {MASK} and card {MASK}"


def test_the_filter_keeps_arguments_that_do_not_fit_the_message() -> None:
    record = _record("only %s here", "sk_test_abcdefgh", "whsec_abcdefgh")

    RedactionFilter().filter(record)

    assert record.getMessage() == f"only %s here {MASK} {MASK}"


def test_the_filter_masks_the_traceback() -> None:
    try:
        raise ValueError("bad key sk_live_abcdefgh")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()

    RedactionFilter().filter(record)

    assert record.exc_text is not None
    assert "sk_live_abcdefgh" not in record.exc_text
    assert MASK in record.exc_text


def test_records_inside_a_request_carry_its_id_and_outside_none() -> None:
    def log_in_and_out() -> tuple[logging.LogRecord, logging.LogRecord]:
        token = enter_request("req-42")
        try:
            inside = _record("inside")
            RequestIdFilter().filter(inside)
        finally:
            leave_request(token)
        outside = _record("outside")
        RequestIdFilter().filter(outside)
        return inside, outside

    # A fresh context: a test elsewhere may kill a request mid-way (as a dying process would).
    inside, outside = contextvars.Context().run(log_in_and_out)

    assert inside.request_id == "req-42"  # type: ignore[attr-defined]
    assert outside.request_id is None  # type: ignore[attr-defined]


def test_console_lines_end_with_the_request_id() -> None:
    line = ConsoleLogFormatter().format(_record("hello", request_id="req-42"))

    assert line.endswith("INFO payments.test hello request_id=req-42")
    assert ConsoleLogFormatter().format(_record("hello", request_id=None)).endswith("hello")


def test_json_lines_have_the_request_id_and_the_context_fields() -> None:
    record = _record(
        "apply", request_id="req-42", purchase_id="pur_1", reference="ref_1", note=object()
    )

    entry = json.loads(JsonLogFormatter().format(record))

    assert entry["request_id"] == "req-42"
    assert (entry["message"], entry["level"], entry["logger"]) == ("apply", "INFO", "payments.test")
    assert (entry["purchase_id"], entry["reference"], entry["note"]) == ("pur_1", "ref_1", None)


def test_json_context_fields_are_masked_too() -> None:
    record = _record("x", header="Bearer pay_admi_abcdefgh")
    install_filters(logging.NullHandler()).filter(record)

    assert json.loads(JsonLogFormatter().format(record))["header"] == f"Bearer {MASK}"


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_configured_logging_masks_and_marks_every_line(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(log_format)
        token = enter_request("req-7")
        try:
            logging.getLogger("payments.test").info("sent %s", "sk_live_abcdefgh")
        finally:
            leave_request(token)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]

    err = capsys.readouterr().err
    assert "sk_live_abcdefgh" not in err
    assert MASK in err
    assert "req-7" in err
