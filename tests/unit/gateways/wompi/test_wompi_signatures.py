"""Wompi's integrity signature and event checksum, offline, against the documented vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from payments.adapters.gateways.wompi import (
    event_checksum,
    integrity_signature,
    verify_event_checksum,
)
from payments.domain.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedNotificationError,
)
from tests.unit.gateways.wompi.wompi_vectors import (
    DOCS_CHECKSUM,
    EVENTS_SECRET,
    INTEGRITY_SECRET,
    PRINTED_CHECKSUM,
    PROPERTIES,
    docs_event,
)

# -- integrity signature (§3.4, §6) --------------------------------------------------------------

DOCS_INTEGRITY = "37c8407747e595535433ef8f6a811d853cd943046624a0ec04662b17bbf33bf5"


def test_integrity_signature_matches_documented_vector() -> None:
    signature = integrity_signature(
        reference="sk8-438k4-xmxm392-sn2m",
        amount_in_cents=2490000,
        currency="COP",
        integrity_secret=INTEGRITY_SECRET,
    )
    assert signature == DOCS_INTEGRITY


def test_widget_examples_reusing_the_docs_hash_do_not_verify() -> None:
    # The widget HTML examples print the same hash for 4XMPGKWWPKWQ / 4950000 (§3.4 gotcha).
    signature = integrity_signature(
        reference="4XMPGKWWPKWQ",
        amount_in_cents=4950000,
        currency="COP",
        integrity_secret=INTEGRITY_SECRET,
    )
    assert signature != DOCS_INTEGRITY


def test_integrity_signature_with_expiration_time_hashes_it_before_the_secret() -> None:
    expiration = "2023-06-09T20:28:50.000Z"
    signature = integrity_signature(
        reference="sk8-438k4-xmxm392-sn2m",
        amount_in_cents=2490000,
        currency="COP",
        integrity_secret=INTEGRITY_SECRET,
        expiration_time=expiration,
    )
    text = f"sk8-438k4-xmxm392-sn2m2490000COP{expiration}{INTEGRITY_SECRET}"
    assert signature == hashlib.sha256(text.encode()).hexdigest()
    assert signature != DOCS_INTEGRITY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", "sk8-438k4-xmxm392-sn2n"),
        ("amount_in_cents", 2490001),
        ("currency", "USD"),
        ("integrity_secret", "test_integrity_other"),
    ],
)
def test_integrity_signature_changes_with_every_part(field: str, value: object) -> None:
    parts: dict[str, object] = {
        "reference": "sk8-438k4-xmxm392-sn2m",
        "amount_in_cents": 2490000,
        "currency": "COP",
        "integrity_secret": INTEGRITY_SECRET,
    }
    parts[field] = value
    assert integrity_signature(**parts) != DOCS_INTEGRITY  # type: ignore[arg-type]


def test_integrity_signature_needs_the_secret() -> None:
    with pytest.raises(ConfigurationError):
        integrity_signature(reference="r", amount_in_cents=100, currency="COP", integrity_secret="")


# -- event checksum (§0 trap 1, §3.5, §6) --------------------------------------------------------


def test_event_checksum_matches_the_documented_algorithm() -> None:
    event = docs_event()
    checksum = event_checksum(event["data"], PROPERTIES, 1530291411, EVENTS_SECRET)
    assert checksum == DOCS_CHECKSUM
    verify_event_checksum(event, events_secret=EVENTS_SECRET)


def test_digest_printed_in_the_old_docs_is_not_accepted() -> None:
    event = docs_event()
    event["signature"]["checksum"] = PRINTED_CHECKSUM
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET)


def test_printed_digest_in_the_header_is_not_accepted_either() -> None:
    event = docs_event()
    del event["signature"]["checksum"]
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET, header_checksum=PRINTED_CHECKSUM)


def test_upper_case_checksum_is_accepted() -> None:
    event = docs_event()
    event["signature"]["checksum"] = DOCS_CHECKSUM.upper()
    verify_event_checksum(event, events_secret=EVENTS_SECRET)


def test_checksum_in_the_x_event_checksum_header_alone_is_accepted() -> None:
    event = docs_event()
    del event["signature"]["checksum"]
    verify_event_checksum(event, events_secret=EVENTS_SECRET, header_checksum=DOCS_CHECKSUM)


def test_header_checksum_that_disagrees_with_the_body_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(
            docs_event(), events_secret=EVENTS_SECRET, header_checksum=PRINTED_CHECKSUM
        )


def test_event_without_any_checksum_is_rejected() -> None:
    event = docs_event()
    del event["signature"]["checksum"]
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET)


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "1234-1610641025-49202"), ("status", "DECLINED"), ("amount_in_cents", 4490001)],
)
def test_tampered_signed_property_is_rejected(field: str, value: object) -> None:
    event = docs_event()
    event["data"]["transaction"][field] = value
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET)


def test_tampered_timestamp_is_rejected() -> None:
    event = docs_event()
    event["timestamp"] = 1530291412
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET)


def test_reordered_properties_are_rejected() -> None:
    event = docs_event()
    event["signature"]["properties"] = list(reversed(PROPERTIES))
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET)


def test_other_events_secret_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(docs_event(), events_secret="test_events_other")


def test_nothing_verifies_without_an_events_secret() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_event_checksum(docs_event(), events_secret="")


def test_properties_are_read_from_the_event() -> None:
    # "Los properties pueden variar": the event names what is signed.
    event = docs_event()
    event["signature"]["properties"] = ["transaction.reference", "transaction.amount_in_cents"]
    event["signature"]["checksum"] = hashlib.sha256(
        f"MZQ3X2DE2SMX44900001530291411{EVENTS_SECRET}".encode()
    ).hexdigest()
    verify_event_checksum(event, events_secret=EVENTS_SECRET)


@pytest.mark.parametrize(
    "properties",
    [["transaction.missing"], ["transaction.shipping_address"], ["transaction"], [], "x", [1]],
)
def test_properties_that_cannot_be_read_are_malformed(properties: object) -> None:
    event = docs_event()
    event["signature"]["properties"] = properties
    with pytest.raises(MalformedNotificationError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET)


@pytest.mark.parametrize("timestamp", ["1530291411", 1530291411.0, True, None])
def test_timestamp_that_is_not_an_integer_is_malformed(timestamp: object) -> None:
    event = docs_event()
    event["timestamp"] = timestamp
    with pytest.raises(MalformedNotificationError):
        verify_event_checksum(event, events_secret=EVENTS_SECRET)


_VALUES = st.one_of(st.text(max_size=20), st.integers(min_value=-(10**12), max_value=10**12))


@given(values=st.lists(_VALUES, min_size=3, max_size=3), index=st.integers(0, 2), new=_VALUES)
def test_checksum_changes_with_any_property_value(
    values: list[object], index: int, new: object
) -> None:
    names = ["id", "status", "amount_in_cents"]
    data = {"transaction": dict(zip(names, values, strict=True))}
    assume(str(new) != str(values[index]))
    before = event_checksum(data, PROPERTIES, 1530291411, EVENTS_SECRET)
    data["transaction"][names[index]] = new
    # Concatenation without a separator can collide ("ab"+"c" == "a"+"bc") only when two
    # values change together; changing one value always changes the hashed text.
    assert event_checksum(data, PROPERTIES, 1530291411, EVENTS_SECRET) != before
