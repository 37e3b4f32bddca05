"""The JSON text the SQL mappers store is the text ``json.dumps`` writes, whichever encoder
writes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from payments.adapters.sql.mappers import _json, _loads


def _reference(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


_SCALARS = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=True)
_VALUES = st.recursive(
    _SCALARS | st.decimals() | st.datetimes(timezones=st.just(UTC)),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(_VALUES)
def test_any_value_is_stored_as_json_dumps_writes_it(value: object) -> None:
    assert _json(value) == _reference(value)


def test_an_event_payload_and_values_json_lacks() -> None:
    payload = {
        "purchase_id": "pur_01",
        "amount": {"amount": "79.99", "currency": "EUR"},
        "needs_review": False,
        "credits": "100",
        "gateway": None,
        "count": 2**70,
    }
    for value in (
        payload,
        ["stripe", "payu"],
        {"name": "Zoë \x7f", "b": 1},
        {"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "amount": Decimal("1.50")},
        {"ratio": 0.1, "big": 1e16},
        ("a", "b"),
    ):
        assert _json(value) == _reference(value)


@given(_VALUES)
def test_stored_text_is_read_as_json_loads_reads_it(value: object) -> None:
    text = _json(value)
    assert repr(_loads(text)) == repr(json.loads(text))


def test_text_msgspec_refuses_is_read_as_json_loads_reads_it() -> None:
    for text in ('{"a":NaN}', "[1e400]", '"\\ud800"', '{"a":1,"a":2}', "12345678901234567890123"):
        assert repr(_loads(text)) == repr(json.loads(text))
