"""Notification bodies parsed with limits: absurd bodies are one MalformedNotificationError."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.adapters.wire.notification_json import (
    MAX_DECIMAL_EXPONENT,
    MAX_DEPTH,
    MAX_INTEGER_BITS,
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


# Numbers near every limit, and nesting on both sides of it: a body either reads as the JSON it
# is or breaks a documented limit, whichever path reads it.
_fractions = st.decimals(allow_nan=False, allow_infinity=False).filter(
    lambda number: "." in str(number) or "E" in str(number)
) | st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(1, 999),
    st.integers(-40, 40),
)
_numbers = st.integers(-(2**70), 2**70) | _fractions
_number_values = st.recursive(
    st.none() | st.text(max_size=3) | _numbers,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def _breaks_a_limit(value: object, depth: int = 0) -> bool:
    if isinstance(value, int):
        return value.bit_length() > MAX_INTEGER_BITS
    if isinstance(value, Decimal):
        return abs(value.adjusted()) > MAX_DECIMAL_EXPONENT
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return depth + 1 > MAX_DEPTH or any(_breaks_a_limit(c, depth + 1) for c in children)
    return False


@settings(max_examples=300)
@given(_number_values, st.integers(0, MAX_DEPTH + 2))
def test_a_body_reads_as_its_json_unless_it_breaks_a_limit(value: object, wrappers: int) -> None:
    for _ in range(wrappers):
        value = [value]
    body = _ENCODER.encode(value)
    if _breaks_a_limit(value):
        with pytest.raises(MalformedNotificationError):
            parse_notification(body, "test")
    else:
        assert parse_notification(body, "test") == value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"note": "' + b"[" * (MAX_DEPTH + 5) + b'"}', {"note": "[" * (MAX_DEPTH + 5)}),
        (b'{"id": "pi_' + b"9" * 30 + b'"}', {"id": "pi_" + "9" * 30}),
        (b"[18446744073709551615]", [2**64 - 1]),
        (b'{"a": 1e-30, "b": 1e30}', {"a": Decimal("1e-30"), "b": Decimal("1e30")}),
    ],
    ids=["brackets in text", "digits in text", "largest 64-bit integer", "decimal limits"],
)
def test_brackets_and_digits_that_only_look_absurd_are_read(body: bytes, expected: object) -> None:
    assert parse_notification(body, "test") == expected


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[" * (MAX_DEPTH + 1) + b"1e999" + b"]" * (MAX_DEPTH + 1), "nested too deeply"),
        (b"[1e999, " + b"1" * 25 + b"]", "integer too long"),
        (b'[1e-31, {"a": 1.5}]', "number out of range"),
    ],
)
def test_the_message_names_the_problem_the_exact_walk_finds(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedNotificationError, match=problem):
        parse_notification(body, "test")
