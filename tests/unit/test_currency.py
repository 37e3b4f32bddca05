"""The ISO 4217 currency table and its lookup."""

from __future__ import annotations

import dataclasses

import pytest

from payments.domain.currency import Currency, all_currencies, get_currency
from payments.domain.errors import UnknownCurrencyError, ValidationError


def test_table_holds_the_active_iso_4217_list() -> None:
    assert 150 <= len(all_currencies()) <= 190


def test_no_two_currencies_share_a_code() -> None:
    codes = [currency.code for currency in all_currencies()]
    assert len(codes) == len(set(codes))


def test_no_two_currencies_share_a_numeric_code() -> None:
    numerics = [currency.numeric for currency in all_currencies()]
    assert len(numerics) == len(set(numerics))


def test_every_entry_is_well_formed() -> None:
    for currency in all_currencies():
        assert len(currency.code) == 3 and currency.code.isascii() and currency.code.isupper()
        assert len(currency.numeric) == 3 and currency.numeric.isdigit()
        assert currency.exponent in {0, 2, 3, 4}
        assert currency.name.strip() == currency.name != ""


def test_all_currencies_are_sorted_by_code() -> None:
    codes = [currency.code for currency in all_currencies()]
    assert codes == sorted(codes)


def test_lookup_returns_the_table_entry() -> None:
    for currency in all_currencies():
        assert get_currency(currency.code) is currency


@pytest.mark.parametrize(
    ("code", "numeric", "exponent"),
    [
        ("USD", "840", 2),
        ("EUR", "978", 2),
        ("GBP", "826", 2),
        ("COP", "170", 2),
        ("MXN", "484", 2),
        ("BRL", "986", 2),
        ("CLP", "152", 0),
        ("JPY", "392", 0),
        ("KRW", "410", 0),
        ("ISK", "352", 0),
        ("VND", "704", 0),
        ("PYG", "600", 0),
        ("UGX", "800", 0),
        ("XAF", "950", 0),
        ("XOF", "952", 0),
        ("XPF", "953", 0),
        ("KWD", "414", 3),
        ("BHD", "048", 3),
        ("JOD", "400", 3),
        ("OMR", "512", 3),
        ("TND", "788", 3),
        ("LYD", "434", 3),
        ("IQD", "368", 3),
        ("CLF", "990", 4),
        ("UYW", "927", 4),
    ],
)
def test_known_currency_has_its_iso_numeric_code_and_exponent(
    code: str, numeric: str, exponent: int
) -> None:
    currency = get_currency(code)
    assert (currency.code, currency.numeric, currency.exponent) == (code, numeric, exponent)


def test_exactly_the_iso_zero_decimal_currencies_have_exponent_zero() -> None:
    zero_decimal = {c.code for c in all_currencies() if c.exponent == 0}
    assert zero_decimal == {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }


def test_exactly_the_iso_three_decimal_currencies_have_exponent_three() -> None:
    three_decimal = {c.code for c in all_currencies() if c.exponent == 3}
    assert three_decimal == {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}


def test_euro_has_its_iso_name() -> None:
    assert get_currency("EUR").name == "Euro"


@pytest.mark.parametrize("code", ["eur", "Eur", "eUR", "EUR"])
def test_lookup_is_case_insensitive(code: str) -> None:
    assert get_currency(code).code == "EUR"


@pytest.mark.parametrize("code", [" EUR", "EUR ", "EUR\n", "E UR"])
def test_lookup_does_not_strip_whitespace(code: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        get_currency(code)


@pytest.mark.parametrize("code", ["", "ABC", "EU", "EURO", "978", "ZZZ"])
def test_unknown_code_raises_unknown_currency_error(code: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        get_currency(code)


@pytest.mark.parametrize(
    "code",
    ["XAU", "XAG", "XPD", "XPT", "XDR", "XTS", "XXX", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA"],
)
def test_codes_without_a_minor_unit_are_not_currencies(code: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        get_currency(code)


@pytest.mark.parametrize("code", ["HRK", "ZWL", "SLL", "VEF", "DEM"])
def test_withdrawn_codes_are_not_currencies(code: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        get_currency(code)


def test_non_ascii_lookalike_of_a_code_is_unknown() -> None:
    # "\u0131".upper() == "I": the dotless i must not turn "\u0131nr" into INR.
    with pytest.raises(UnknownCurrencyError):
        get_currency("\u0131nr")


def test_non_string_code_raises_type_error() -> None:
    with pytest.raises(TypeError):
        get_currency(978)  # type: ignore[arg-type]


def test_unknown_currency_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        get_currency("ABC")


def test_currency_is_immutable_and_hashable() -> None:
    euro = get_currency("EUR")
    with pytest.raises(dataclasses.FrozenInstanceError):
        euro.exponent = 3  # type: ignore[misc]
    assert {euro: 1}[Currency("EUR", "978", 2, "Euro")] == 1


@pytest.mark.parametrize(
    ("code", "numeric", "exponent"),
    [
        ("eur", "978", 2),
        ("EURO", "978", 2),
        ("EUR", "97", 2),
        ("EUR", "978", -1),
        ("EUR", "978", 5),
    ],
)
def test_malformed_currency_is_refused(code: str, numeric: str, exponent: int) -> None:
    with pytest.raises(ValueError):
        Currency(code, numeric, exponent, "Euro")
