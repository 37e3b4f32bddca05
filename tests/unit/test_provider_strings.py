"""Provider strings: identities we cannot store are refused, display text is cut."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.domain.errors import MalformedNotificationError
from payments.domain.gateway import Notification
from payments.domain.provider_strings import MAX_IDENTITY_LENGTH, admit_notification
from payments.domain.text import (
    display_text,
    storable,
    unstorable_fields,
)


@given(st.text(max_size=50))
def test_text_is_storable_unless_it_holds_nul_or_a_lone_surrogate(text: str) -> None:
    assert storable(text) == (
        "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    )
    assert not storable(text + "\x00")
    assert not storable("\ud800" + text)


def test_unstorable_fields_are_named_with_dots() -> None:
    value = {"name": "ok", "customer": {"name": "a\x00"}, "tags": ["x", "\udfff"], "k\x00": 1}
    assert sorted(unstorable_fields(value)) == ["body", "customer.name", "tags[1]"]


@given(st.text(max_size=600), st.integers(2, 300))
def test_display_text_is_storable_and_within_its_limit(text: str, limit: int) -> None:
    shown = display_text(text, limit)
    assert shown is not None
    assert storable(shown)
    assert len(shown) <= limit
    if storable(text) and len(text) <= limit:
        assert shown == text


@pytest.mark.parametrize(
    "notification",
    [
        Notification("fake", "e" * (MAX_IDENTITY_LENGTH + 1), "payment.succeeded"),
        Notification("fake", "evt_1", "t" * 201),
        Notification("fake", "evt_\x00", "payment.succeeded"),
    ],
)
def test_an_identity_we_cannot_store_is_refused_and_logged_at_warning(
    notification: Notification, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(MalformedNotificationError):
        admit_notification(notification, b"{}")
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "sha256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" in (
        record.getMessage()
    )
