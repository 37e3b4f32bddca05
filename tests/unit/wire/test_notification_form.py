"""Form-encoded notifications are read with limits: size, number of fields, no repeats."""

from __future__ import annotations

import pytest

from payments.adapters.wire.notification_form import MAX_FORM_FIELDS, parse_form_notification
from payments.adapters.wire.notification_json import MAX_NOTIFICATION_BYTES
from payments.domain.errors import MalformedNotificationError


def test_fields_are_read_as_utf8_text() -> None:
    fields = parse_form_notification(b"value=150.00&cc_holder=Jos%C3%A9+P&empty=", "PayU")
    assert fields == {"value": "150.00", "cc_holder": "José P", "empty": ""}


@pytest.mark.parametrize(
    "body",
    [
        b"a=" + b"x" * MAX_NOTIFICATION_BYTES,
        b"&".join(b"f%d=1" % n for n in range(MAX_FORM_FIELDS + 1)),
        b"value=1.00&value=9.00",
        b"not a form",
        "value=1\u00e9".encode(),
    ],
    ids=["too-large", "too-many-fields", "repeated", "no-pairs", "not-ascii"],
)
def test_an_absurd_form_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedNotificationError, match="PayU"):
        parse_form_notification(body, "PayU")
