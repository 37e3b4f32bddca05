"""Wompi settings, offline: key environments and the documented sandbox values (§3.1, §3.7, §6)."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.wompi import environment_of_key
from payments.adapters.gateways.wompi.settings import (
    SANDBOX_APPROVED_CARD,
    SANDBOX_CARD_OUTCOMES,
    SANDBOX_DECLINED_CARD,
    SANDBOX_NEQUI_OUTCOMES,
    SANDBOX_PSE_OUTCOMES,
)
from tests.unit.gateways.wompi.wompi_vectors import EVENTS_SECRET, INTEGRITY_SECRET


@pytest.mark.parametrize(
    ("kind", "key", "environment"),
    [
        ("public", "pub_test_Q5yDA9xoKdePzhSGeVe9HAez7HgGORGf", "test"),
        ("private", "prv_prod_abc", "prod"),
        ("events", EVENTS_SECRET, "prod"),
        ("integrity", INTEGRITY_SECRET, "prod"),
        ("integrity", "test_integrity_abc", "test"),
        ("public", "prv_test_abc", None),
        ("events", "whsec_abc", None),
    ],
)
def test_key_environment_is_read_from_its_prefix(
    kind: str, key: str, environment: str | None
) -> None:
    assert environment_of_key(kind, key) == environment


def test_documented_sandbox_outcomes() -> None:
    assert SANDBOX_APPROVED_CARD == "4242424242424242"
    assert SANDBOX_DECLINED_CARD == "4111111111111111"
    assert SANDBOX_CARD_OUTCOMES == {
        SANDBOX_APPROVED_CARD: "APPROVED",
        SANDBOX_DECLINED_CARD: "DECLINED",
    }
    assert SANDBOX_NEQUI_OUTCOMES == {"3991111111": "APPROVED", "3992222222": "DECLINED"}
    assert SANDBOX_PSE_OUTCOMES["1"] == "APPROVED"
    assert SANDBOX_PSE_OUTCOMES["2"] == "DECLINED"
