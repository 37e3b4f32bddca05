"""PayU's three signatures, offline, against every documented vector (reference §0, §2.5, §6)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.adapters.gateways.payu import (
    SignatureAlgorithm,
    confirmation_new_value,
    confirmation_signature,
    request_signature,
    response_page_new_value,
    response_page_signature,
    to_payu_amount,
    verify_confirmation_signature,
)
from payments.domain.errors import InvalidSignatureError, MalformedNotificationError
from payments.domain.money import Money
from tests.unit.gateways.payu.payu_vectors import API_KEY, MERCHANT_ID, confirmation

# -- request signature (§2.5a, §6 "PayU: request signature") -------------------------------------


@pytest.mark.parametrize(
    ("reference", "amount", "currency", "digest"),
    [
        # [PAYU-INT]
        ("TestPayU", "3", "USD", "ba9ffa71559580175585e45ce70b6c37"),
        # [PAYU-FORM]
        ("TestPayU", "20000", "COP", "7ee7cf808ce6a39b17481c54f2c57acc"),
        # [PAYU-API-CO]
        (
            "PRODUCT_TEST_2021-06-23T19:59:43.229Z",
            "65000",
            "COP",
            "1d6c33aed575c4974ad5c0be7c6a1c87",
        ),
        # the same with 65000.00: a different digest (§6)
        (
            "PRODUCT_TEST_2021-06-23T19:59:43.229Z",
            "65000.00",
            "COP",
            "627b6c981e647a0a99327ba1a50e7660",
        ),
    ],
)
def test_request_signature_matches_documented_md5_vector(
    reference: str, amount: str, currency: str, digest: str
) -> None:
    signature = request_signature(
        api_key=API_KEY,
        merchant_id=MERCHANT_ID,
        reference_code=reference,
        amount=amount,
        currency=currency,
    )
    assert signature == digest


def test_request_signatures_of_65000_and_65000_00_differ() -> None:
    def signed(amount: str) -> str:
        return request_signature(
            api_key=API_KEY,
            merchant_id=MERCHANT_ID,
            reference_code="PRODUCT_TEST_2021-06-23T19:59:43.229Z",
            amount=amount,
            currency="COP",
        )

    assert signed("65000") != signed("65000.00")


def test_request_signature_signs_the_amount_text_payu_is_sent() -> None:
    # COP 65,000.00 is sent as "65000" (§2.3, §5), so it signs as the docs' API example.
    amount = to_payu_amount(Money("65000.00", "COP"))
    signature = request_signature(
        api_key=API_KEY,
        merchant_id=MERCHANT_ID,
        reference_code="PRODUCT_TEST_2021-06-23T19:59:43.229Z",
        amount=amount,
        currency="COP",
    )
    assert signature == "1d6c33aed575c4974ad5c0be7c6a1c87"


def test_sha256_request_signature_hashes_the_same_string() -> None:
    text = f"{API_KEY}~{MERCHANT_ID}~TestPayU~3~USD"
    signature = request_signature(
        api_key=API_KEY,
        merchant_id=MERCHANT_ID,
        reference_code="TestPayU",
        amount="3",
        currency="USD",
        algorithm=SignatureAlgorithm.SHA256,
    )
    assert signature == hashlib.sha256(text.encode()).hexdigest()
    assert signature != "ba9ffa71559580175585e45ce70b6c37"


# -- confirmation page new_value (§0 traps 3-4, §2.5c, §6) ---------------------------------------


@pytest.mark.parametrize(
    ("value", "new_value"),
    [
        ("100.00", "100.0"),
        ("150.00", "150.0"),
        ("150.20", "150.2"),  # PayU's rule, not Odoo's "150.20" (§0 trap 4)
        ("150.25", "150.25"),
        ("150.26", "150.26"),
        ("10000", "10000.0"),
        ("10000.00", "10000.0"),  # §5: the webhook's COP value signs as 10000.0
        ("150.2", "150.2"),
        ("0.05", "0.05"),
    ],
)
def test_confirmation_new_value_follows_payu_reference_rule(value: str, new_value: str) -> None:
    assert confirmation_new_value(value) == new_value


@pytest.mark.parametrize("value", ["", "150.", ".5", "150.255", "1,500.00", "-150.00", "1e3", "x"])
def test_confirmation_value_that_is_not_an_amount_is_malformed(value: str) -> None:
    with pytest.raises(MalformedNotificationError):
        confirmation_new_value(value)


@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
def test_confirmation_new_value_keeps_the_amount(amount: Decimal) -> None:
    value = format(amount, "f")
    new_value = confirmation_new_value(value)
    assert Decimal(new_value) == amount
    decimals = new_value.split(".")[1]
    assert len(decimals) in (1, 2)
    assert len(decimals) == 1 or decimals[1] != "0"


# -- confirmation page sign (§0 trap 2, §2.5c, §6) -----------------------------------------------


@pytest.mark.parametrize(
    ("reference", "value", "state_pol", "digest"),
    [
        ("TestPayU05", "150.26", "4", "1d95778a651e11a0ab93c2169a519cd6"),
        ("TestPayU04", "150.00", "4", "b607a2c2fa100e0947b206d41864fb86"),
        # the string the docs print (state 6) really hashes to this (§0 trap 2)
        ("TestPayU04", "150.00", "6", "df67936f918887b2aa31688a77a10fe1"),
    ],
)
def test_confirmation_signature_matches_documented_vector(
    reference: str, value: str, state_pol: str, digest: str
) -> None:
    signature = confirmation_signature(
        api_key=API_KEY,
        merchant_id=MERCHANT_ID,
        reference_sale=reference,
        value=value,
        currency="USD",
        state_pol=state_pol,
    )
    assert signature == digest
    fields = confirmation(reference_sale=reference, value=value, state_pol=state_pol, sign=digest)
    verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


def test_confirmation_sign_is_accepted_in_upper_case() -> None:
    fields = confirmation(value="150.26", reference_sale="TestPayU05")
    fields["sign"] = "1D95778A651E11A0AB93C2169A519CD6"
    verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


def test_value_150_00_signed_as_150_00_is_rejected() -> None:
    signed_as_sent = hashlib.md5(
        f"{API_KEY}~{MERCHANT_ID}~TestPayU04~150.00~USD~4".encode()
    ).hexdigest()
    fields = confirmation(value="150.00", sign=signed_as_sent)
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


def test_docs_first_example_digest_with_state_6_is_rejected() -> None:
    # The docs print b607... next to state_pol 6; it is the digest for state 4 (§0 trap 2).
    fields = confirmation(state_pol="6", value="150.00", sign="b607a2c2fa100e0947b206d41864fb86")
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


def test_response_page_rounding_does_not_verify_a_confirmation() -> None:
    # 150.25 signs as 150.25 on the confirmation page; the response page's 150.2 must not pass.
    fields = confirmation(value="150.25", state_pol="6")
    fields["sign"] = response_page_signature(
        api_key=API_KEY,
        merchant_id=MERCHANT_ID,
        reference_code="TestPayU04",
        tx_value="150.25",
        currency="USD",
        transaction_state="6",
    )
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


@pytest.mark.parametrize(
    ("field", "tampered"),
    [
        ("value", "1500.00"),
        ("value", "150.01"),
        ("currency", "COP"),
        ("state_pol", "6"),
        ("reference_sale", "TestPayU05"),
    ],
)
def test_tampered_confirmation_is_rejected(field: str, tampered: str) -> None:
    fields = confirmation()
    fields[field] = tampered
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


def test_confirmation_for_another_merchant_is_rejected() -> None:
    fields = confirmation(merchant_id="999999")
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


def test_confirmation_signed_with_another_api_key_is_rejected() -> None:
    fields = confirmation()
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key="another-key", merchant_id=MERCHANT_ID)


@pytest.mark.parametrize("missing", ["sign", "value", "currency", "state_pol", "reference_sale"])
def test_confirmation_without_a_signed_field_is_rejected(missing: str) -> None:
    fields = confirmation()
    del fields[missing]
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


def test_nothing_verifies_without_an_api_key() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(confirmation(), api_key="", merchant_id=MERCHANT_ID)


def test_sha256_confirmation_needs_sha256_verification() -> None:
    fields = confirmation(algorithm=SignatureAlgorithm.SHA256)
    verify_confirmation_signature(
        fields, api_key=API_KEY, merchant_id=MERCHANT_ID, algorithm=SignatureAlgorithm.SHA256
    )
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
    state_pol=st.sampled_from(["4", "5", "6", "7"]),
)
def test_what_payu_signs_verifies_and_another_state_does_not(
    amount: Decimal, state_pol: str
) -> None:
    fields = confirmation(value=format(amount, "f"), state_pol=state_pol)
    verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)
    fields["state_pol"] = "4" if state_pol != "4" else "6"
    with pytest.raises(InvalidSignatureError):
        verify_confirmation_signature(fields, api_key=API_KEY, merchant_id=MERCHANT_ID)


# -- response page (§2.5b, §0 trap 3, §6) --------------------------------------------------------


@pytest.mark.parametrize(
    ("tx_value", "new_value"),
    [("150.25", "150.2"), ("150.35", "150.4"), ("150.34", "150.3"), ("150", "150.0")],
)
def test_response_page_new_value_rounds_half_to_even(tx_value: str, new_value: str) -> None:
    assert response_page_new_value(tx_value) == new_value


def test_response_page_signature_matches_documented_vector() -> None:
    signature = response_page_signature(
        api_key=API_KEY,
        merchant_id=MERCHANT_ID,
        reference_code="TestPayU04",
        tx_value="150.25",
        currency="USD",
        transaction_state="6",
    )
    assert signature == "00286dc735bd9eaa8ae3a3a4cbb40688"


def test_the_two_new_value_rules_differ_for_150_25() -> None:
    assert confirmation_new_value("150.25") == "150.25"
    assert response_page_new_value("150.25") == "150.2"


@pytest.mark.parametrize("tx_value", ["", "1,50", "-1.5", "NaN", "1e3"])
def test_response_page_value_that_is_not_an_amount_is_malformed(tx_value: str) -> None:
    with pytest.raises(MalformedNotificationError):
        response_page_new_value(tx_value)
