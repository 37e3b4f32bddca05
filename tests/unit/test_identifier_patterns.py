"""Identifiers are matched whole: a trailing newline (or anything else) is not the same id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.adapters.memory import FakeGateway, FixedClock
from payments.domain.customer import check_customer_id
from payments.domain.errors import ValidationError
from payments.domain.services.banks import BankDirectory
from payments.domain.services.gateways import GatewayRegistry

customer_ids = st.text("abcXYZ019_.:@-", min_size=1, max_size=64)
tails = st.sampled_from(["\n", "\r\n", " ", "\x00", "\t", "\u2028"])


@given(customer_ids, tails)
def test_a_customer_id_with_anything_after_it_is_refused(customer_id: str, tail: str) -> None:
    assert check_customer_id(customer_id) == customer_id
    with pytest.raises(ValidationError):
        check_customer_id(customer_id + tail)


@given(st.sampled_from(["CO", "PE", "MX"]), tails)
def test_a_country_with_anything_after_it_is_refused(country: str, tail: str) -> None:
    directory = BankDirectory(GatewayRegistry([FakeGateway("pse")]), FixedClock())
    with pytest.raises(ValidationError):
        directory.banks(country + tail)
