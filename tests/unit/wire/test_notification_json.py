"""Notification bodies parsed with limits: absurd bodies are one MalformedNotificationError."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.adapters.wire.notification_json import (
    MAX_DEPTH,
    MAX_NOTIFICATION_BYTES,
    parse_notification,
)
from payments.domain.errors import MalformedNotificationError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(json_values)
def test_ordinary_json_reads_as_json_does(value: object) -> None:
    assert parse_notification(json.dumps(value).encode(), "test") == value


def test_nesting_up_to_the_limit_is_read() -> None:
    body = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    parse_notification(body, "test")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
        b'{"a":' * 200_000 + b"1" + b"}" * 200_000,  # past Python's recursion limit
        b'{"created": 1' + b"0" * 30 + b"}",
        b'{"created": 1' + b"0" * 100_000 + b"}",  # past int's max str digits
        b'{"amount": -1' + b"0" * 20 + b"}",
        b'{"id": "\\ud800"}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": 1e999}',
        b"\xff\xfe",
        b"",
        b"{" * 10,
        b" " * (MAX_NOTIFICATION_BYTES + 1),
    ],
    ids=lambda body: repr(body[:16]),
)
def test_absurd_bodies_are_malformed_notifications(body: bytes) -> None:
    with pytest.raises(MalformedNotificationError):
        parse_notification(body, "test")


@settings(max_examples=100)
@given(st.binary(max_size=300))
def test_any_bytes_are_json_or_a_malformed_notification(body: bytes) -> None:
    with contextlib.suppress(MalformedNotificationError):
        parse_notification(body, "test")


def test_numbers_with_a_fraction_are_decimals_never_floats() -> None:
    value = parse_notification(b'{"amount": 79.99, "tiny": 1e-5, "n": 7}', "Test")
    assert value == {"amount": Decimal("79.99"), "tiny": Decimal("0.00001"), "n": 7}
    assert isinstance(value, dict)
    assert not any(isinstance(item, float) for item in value.values())
