"""Money: construction, exact arithmetic, rounding, minor units, allocation and serialization."""

from __future__ import annotations

import dataclasses
import operator
import pickle
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.domain.currency import Currency, all_currencies, get_currency
from payments.domain.errors import (
    CurrencyMismatchError,
    InvalidAmountError,
    UnknownCurrencyError,
    ValidationError,
)
from payments.domain.money import Money

EUR = get_currency("EUR")


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


# -- construction ------------------------------------------------------------------------------


def test_decimal_amount_is_kept_as_given() -> None:
    money = Money(Decimal("79.99"), EUR)
    assert money.amount == Decimal("79.99")
    assert money.currency is EUR


def test_int_amount_becomes_a_decimal() -> None:
    money = Money(5, "EUR")
    assert isinstance(money.amount, Decimal)
    assert money.amount == Decimal(5)


def test_string_amount_is_parsed_exactly() -> None:
    assert eur("0.1").amount == Decimal("0.1")
    assert eur("19.99").amount == Decimal("19.99")


@pytest.mark.parametrize("text", [" 19.99", "19.99 ", "\t19.99\n"])
def test_string_amount_ignores_surrounding_whitespace(text: str) -> None:
    assert Money(text, "EUR").amount == Decimal("19.99")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+5", "5"), ("-5", "-5"), (".5", "0.5"), ("5.", "5"), ("1e3", "1000"), ("1E-2", "0.01")],
)
def test_plain_decimal_notations_are_accepted(text: str, expected: str) -> None:
    assert Money(text, "EUR").amount == Decimal(expected)


def test_extra_precision_is_kept_not_rounded() -> None:
    money = eur("1.23456")
    assert money.amount == Decimal("1.23456")
    assert money.amount.as_tuple().exponent == -5


def test_float_amount_is_refused() -> None:
    with pytest.raises(TypeError):
        Money(0.1, "EUR")  # type: ignore[arg-type]


def test_integral_float_amount_is_refused_too() -> None:
    with pytest.raises(TypeError):
        Money(5.0, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [True, False, None, [1], Fraction(1, 2), b"1"])
def test_non_decimal_amount_types_are_refused(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "1,50",
        "1.2.3",
        "0x10",
        "1_000",
        "\u0661\u0662",
        "1 000",
        "--1",
        "1e",
        "e3",
    ],
)
def test_unparseable_string_amount_is_invalid(text: str) -> None:
    with pytest.raises(InvalidAmountError):
        Money(text, "EUR")


@pytest.mark.parametrize("text", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf"])
def test_non_finite_string_amount_is_invalid(text: str) -> None:
    with pytest.raises(InvalidAmountError):
        Money(text, "EUR")


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_non_finite_decimal_amount_is_invalid(amount: str) -> None:
    with pytest.raises(InvalidAmountError):
        Money(Decimal(amount), "EUR")


@pytest.mark.parametrize("text", ["1e-999999999", "1e999999999", "1e-101", "1e101"])
def test_absurdly_precise_or_large_amount_is_invalid(text: str) -> None:
    with pytest.raises(InvalidAmountError):
        Money(text, "EUR")


def test_invalid_amount_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        eur("abc")


def test_currency_code_is_looked_up_case_insensitively() -> None:
    assert Money(1, "eur").currency is EUR


def test_unknown_currency_code_is_refused() -> None:
    with pytest.raises(UnknownCurrencyError):
        Money(1, "ABC")


def test_non_string_currency_is_refused() -> None:
    with pytest.raises(TypeError):
        Money(1, 978)  # type: ignore[arg-type]


def test_money_is_immutable() -> None:
    money = eur("1.00")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = Decimal(2)  # type: ignore[misc]


def test_replace_normalizes_like_the_constructor() -> None:
    money = dataclasses.replace(eur("1.00"), amount="2.50")  # type: ignore[arg-type]
    assert money == eur("2.50")
    with pytest.raises(TypeError):
        dataclasses.replace(money, amount=2.5)  # type: ignore[arg-type]


def test_money_survives_pickling() -> None:
    money = eur("79.99")
    assert pickle.loads(pickle.dumps(money)) == money


def test_zero_has_the_currency_decimals() -> None:
    assert Money.zero("EUR").is_zero
    assert Money.zero("EUR").format_amount() == "0.00"
    assert Money.zero(get_currency("JPY")).format_amount() == "0"


# -- equality and hashing ----------------------------------------------------------------------


def test_trailing_zeros_do_not_change_equality_or_hash() -> None:
    assert eur("79.99") == eur("79.990")
    assert hash(eur("79.99")) == hash(eur("79.990"))


def test_same_amount_in_another_currency_is_not_equal() -> None:
    assert Money("1.00", "EUR") != Money("1.00", "USD")


def test_money_never_equals_a_bare_number() -> None:
    assert eur("1") != Decimal(1)
    assert eur("1") != 1  # type: ignore[comparison-overlap]


def test_equal_money_collapses_in_a_set() -> None:
    assert len({eur("1.5"), eur("1.50"), Money("1.5", "USD")}) == 2


# -- addition and subtraction ------------------------------------------------------------------


def test_addition_is_exact() -> None:
    assert eur("0.1") + eur("0.2") == eur("0.3")


def test_addition_keeps_every_digit_regardless_of_the_decimal_context() -> None:
    with localcontext() as context:
        context.prec = 3
        total = eur("12345.67") + eur("0.01")
    assert total.amount == Decimal("12345.68")


def test_addition_across_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError):
        eur("1") + Money("1", "USD")


@pytest.mark.parametrize("other", [1, Decimal(1), "1", 1.0])
def test_adding_a_non_money_raises_type_error(other: object) -> None:
    with pytest.raises(TypeError):
        eur("1") + other  # type: ignore[operator]
    with pytest.raises(TypeError):
        other + eur("1")  # type: ignore[operator]


def test_sum_works_from_a_zero_start() -> None:
    assert sum([eur("0.10")] * 3, Money.zero("EUR")) == eur("0.30")


def test_subtraction_is_exact() -> None:
    assert eur("0.3") - eur("0.1") == eur("0.2")
    assert eur("1") - eur("1.01") == eur("-0.01")


def test_subtraction_across_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError):
        eur("1") - Money("1", "USD")


def test_subtracting_a_non_money_raises_type_error() -> None:
    with pytest.raises(TypeError):
        eur("1") - 1  # type: ignore[operator]


def test_negation_flips_the_sign() -> None:
    assert -eur("19.99") == eur("-19.99")
    assert -eur("-19.99") == eur("19.99")


def test_negation_keeps_every_digit() -> None:
    amount = "1234567890123456789012345678901234567890.123"
    with localcontext() as context:
        context.prec = 5
        negated = -eur(amount)
    assert negated.amount == Decimal("-" + amount)


def test_negated_zero_prints_without_a_sign() -> None:
    assert str(-Money.zero("EUR")) == "0.00 EUR"


def test_abs_drops_the_sign() -> None:
    assert abs(eur("-19.99")) == eur("19.99")
    assert abs(eur("19.99")) == eur("19.99")


# -- multiplication and division ---------------------------------------------------------------


def test_multiplication_by_int() -> None:
    assert eur("19.99") * 3 == eur("59.97")


def test_multiplication_by_int_on_the_left() -> None:
    assert 3 * eur("19.99") == eur("59.97")


def test_multiplication_by_decimal_is_exact() -> None:
    product = eur("19.99") * Decimal("0.19")
    assert product.amount == Decimal("3.7981")
    assert not product.is_exact


def test_multiplication_never_rounds_long_amounts() -> None:
    product = eur("1234567890123456789012345678901234567890") * 3
    assert product.amount == Decimal(3703703670370370367037037036703703703670)


def test_multiplication_by_float_is_refused() -> None:
    with pytest.raises(TypeError):
        eur("1") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        1.5 * eur("1")  # type: ignore[operator]


def test_multiplication_by_bool_is_refused() -> None:
    with pytest.raises(TypeError):
        eur("1") * True


def test_multiplying_money_by_money_is_refused() -> None:
    with pytest.raises(TypeError):
        eur("1") * eur("2")  # type: ignore[operator]


def test_multiplication_by_a_non_finite_decimal_is_invalid() -> None:
    with pytest.raises(InvalidAmountError):
        eur("1") * Decimal("NaN")


def test_division_by_int() -> None:
    assert eur("100.00") / 4 == eur("25.00")


def test_division_by_decimal() -> None:
    assert eur("10") / Decimal("2.5") == eur("4")


def test_inexact_division_keeps_at_least_28_significant_digits() -> None:
    third = eur("100") / 3
    digits = third.amount.as_tuple().digits
    assert len(digits) >= 28
    assert set(digits) == {3}
    assert not third.is_exact
    assert third.quantize() == eur("33.33")


def test_division_is_unaffected_by_the_global_decimal_context() -> None:
    with localcontext() as context:
        context.prec = 3
        third = eur("100") / 3
    assert len(third.amount.as_tuple().digits) >= 28


def test_division_by_zero_raises_zero_division_error() -> None:
    with pytest.raises(ZeroDivisionError):
        eur("1") / 0
    with pytest.raises(ZeroDivisionError):
        eur("1") / Decimal("0.00")


def test_division_by_float_is_refused() -> None:
    with pytest.raises(TypeError):
        eur("1") / 2.0  # type: ignore[operator]


def test_dividing_money_by_money_is_refused() -> None:
    with pytest.raises(TypeError):
        eur("1") / eur("2")  # type: ignore[operator]


def test_dividing_a_number_by_money_is_refused() -> None:
    with pytest.raises(TypeError):
        2 / eur("1")  # type: ignore[operator]


# -- ordering ----------------------------------------------------------------------------------


def test_less_than_compares_amounts() -> None:
    assert eur("1.99") < eur("2")
    assert not eur("2") < eur("2.00")


def test_less_or_equal_compares_amounts() -> None:
    assert eur("2") <= eur("2.00")
    assert not eur("2.01") <= eur("2")


def test_greater_than_compares_amounts() -> None:
    assert eur("2.01") > eur("2")
    assert not eur("2") > eur("2.00")


def test_greater_or_equal_compares_amounts() -> None:
    assert eur("2.00") >= eur("2")
    assert not eur("1.99") >= eur("2")


COMPARISONS: list[Callable[[Money, Money], bool]] = [
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
]


@pytest.mark.parametrize("compare", COMPARISONS)
def test_ordering_across_currencies_raises_currency_mismatch(
    compare: Callable[[Money, Money], bool],
) -> None:
    with pytest.raises(CurrencyMismatchError):
        compare(eur("1"), Money("2", "USD"))


@pytest.mark.parametrize("compare", COMPARISONS)
def test_ordering_against_a_number_raises_type_error(
    compare: Callable[[object, object], bool],
) -> None:
    with pytest.raises(TypeError):
        compare(eur("1"), 2)


def test_money_sorts_by_amount() -> None:
    assert sorted([eur("3"), eur("-1"), eur("2")]) == [eur("-1"), eur("2"), eur("3")]


def test_sign_predicates() -> None:
    assert eur("0.00").is_zero and not eur("0.00").is_positive and not eur("0.00").is_negative
    assert eur("0.01").is_positive and not eur("0.01").is_zero and not eur("0.01").is_negative
    assert eur("-0.01").is_negative and not eur("-0.01").is_zero
    assert eur("-0").is_zero and not eur("-0").is_negative


# -- quantize and exactness --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("25.555", "25.56"),
        ("25.554", "25.55"),
        ("25.565", "25.57"),
        ("25.575", "25.58"),
        ("-25.555", "-25.56"),
        ("0.005", "0.01"),
        ("0.0049999", "0.00"),
    ],
)
def test_quantize_rounds_half_up_to_cents(amount: str, expected: str) -> None:
    assert eur(amount).quantize().amount.as_tuple() == Decimal(expected).as_tuple()


def test_quantize_accepts_another_rounding_mode() -> None:
    assert eur("25.565").quantize(ROUND_HALF_EVEN) == eur("25.56")
    assert eur("25.559").quantize(ROUND_DOWN) == eur("25.55")


@pytest.mark.parametrize(
    "rounding",
    [
        "ROUND_05UP",
        "ROUND_CEILING",
        "ROUND_DOWN",
        "ROUND_FLOOR",
        "ROUND_HALF_DOWN",
        "ROUND_HALF_EVEN",
        "ROUND_HALF_UP",
        "ROUND_UP",
    ],
)
def test_quantize_accepts_every_decimal_rounding_mode(rounding: str) -> None:
    assert eur("25.56").quantize(rounding) == eur("25.56")


def test_quantize_refuses_an_unknown_rounding_mode() -> None:
    with pytest.raises(ValueError):
        eur("1").quantize("ROUND_SOMETIMES")


def test_quantize_to_cop_keeps_two_decimals() -> None:
    assert str(Money("1234.565", "COP").quantize()) == "1234.57 COP"


def test_quantize_to_jpy_keeps_no_decimals() -> None:
    assert str(Money("1234.5", "JPY").quantize()) == "1235 JPY"
    assert str(Money("1234.4", "JPY").quantize()) == "1234 JPY"


def test_quantize_to_kwd_keeps_three_decimals() -> None:
    assert str(Money("1.2345", "KWD").quantize()) == "1.235 KWD"
    assert str(Money("1.2344", "KWD").quantize()) == "1.234 KWD"


def test_quantize_returns_new_money_and_keeps_the_original() -> None:
    money = eur("1.005")
    assert money.quantize() == eur("1.01")
    assert money.amount == Decimal("1.005")


@pytest.mark.parametrize(
    ("amount", "code", "exact"),
    [
        ("19.99", "EUR", True),
        ("19.990", "EUR", True),
        ("19", "EUR", True),
        ("1E+3", "EUR", True),
        ("19.995", "EUR", False),
        ("500", "JPY", True),
        ("500.0", "JPY", True),
        ("500.5", "JPY", False),
        ("1.234", "KWD", True),
        ("1.2345", "KWD", False),
        ("0.0001", "CLF", True),
    ],
)
def test_is_exact_means_no_precision_beyond_the_minor_unit(
    amount: str, code: str, exact: bool
) -> None:
    assert Money(amount, code).is_exact is exact


# -- minor units -------------------------------------------------------------------------------


def test_nineteen_ninety_nine_is_1999_minor_units() -> None:
    assert eur("19.99").to_minor_units() == 1999


@pytest.mark.parametrize(
    ("amount", "units"),
    [("0.29", 29), ("0.57", 57), ("1.15", 115), ("4.35", 435), ("1.10", 110), ("-19.99", -1999)],
)
def test_amounts_that_float_would_get_wrong_give_exact_minor_units(amount: str, units: int) -> None:
    assert eur(amount).to_minor_units() == units


def test_minor_units_follow_the_currency_exponent() -> None:
    assert Money("500", "JPY").to_minor_units() == 500
    assert Money("1.5", "KWD").to_minor_units() == 1500
    assert Money("1.2345", "CLF").to_minor_units() == 12345


def test_inexact_amount_has_no_minor_units() -> None:
    with pytest.raises(InvalidAmountError):
        eur("19.995").to_minor_units()


def test_from_minor_units_places_the_decimal_point() -> None:
    assert Money.from_minor_units(1999, "EUR") == eur("19.99")
    assert Money.from_minor_units(1999, "JPY") == Money("1999", "JPY")
    assert Money.from_minor_units(1999, "KWD") == Money("1.999", "KWD")
    assert Money.from_minor_units(-5, EUR) == eur("-0.05")


def test_from_minor_units_refuses_non_integers() -> None:
    with pytest.raises(TypeError):
        Money.from_minor_units(19.99, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.from_minor_units(True, "EUR")


# -- allocation --------------------------------------------------------------------------------


def amounts(parts: list[Money]) -> list[str]:
    return [part.format_amount() for part in parts]


def test_one_hundred_split_in_three_gives_the_extra_cent_to_the_first() -> None:
    assert amounts(eur("100.00").split(3)) == ["33.34", "33.33", "33.33"]


def test_allocation_by_equal_ratios_matches_split() -> None:
    assert eur("100.00").allocate([1, 1, 1]) == eur("100.00").split(3)


def test_allocation_gives_a_zero_ratio_nothing() -> None:
    assert amounts(eur("0.05").allocate([1, 0, 1])) == ["0.03", "0.00", "0.02"]
    assert amounts(eur("100.00").allocate([0, 1])) == ["0.00", "100.00"]


def test_five_cents_split_in_three() -> None:
    assert amounts(eur("0.05").split(3)) == ["0.02", "0.02", "0.01"]


def test_leftover_goes_to_the_largest_remainder_first() -> None:
    assert amounts(eur("1.00").allocate([1, 2])) == ["0.33", "0.67"]
    assert amounts(eur("0.10").allocate([Decimal("0.3"), Decimal("0.7")])) == ["0.03", "0.07"]


def test_allocation_by_decimal_ratios() -> None:
    assert amounts(eur("10").allocate([1, Decimal("0.5"), 0])) == ["6.67", "3.33", "0.00"]


def test_allocation_of_a_negative_amount_mirrors_the_positive_one() -> None:
    assert amounts(eur("-100.00").split(3)) == ["-33.34", "-33.33", "-33.33"]


def test_allocation_follows_the_currency_minor_unit() -> None:
    assert amounts(Money("100", "JPY").split(3)) == ["34", "33", "33"]
    assert amounts(Money("1", "KWD").split(3)) == ["0.334", "0.333", "0.333"]


def test_allocation_of_zero_gives_zeros() -> None:
    assert amounts(Money.zero("EUR").split(2)) == ["0.00", "0.00"]


def test_allocation_of_an_inexact_amount_is_invalid() -> None:
    with pytest.raises(InvalidAmountError):
        eur("0.001").allocate([1, 1])


@pytest.mark.parametrize("ratios", [[], [0], [0, 0], [1, -1]])
def test_allocation_needs_non_negative_ratios_with_a_positive_sum(ratios: list[int]) -> None:
    with pytest.raises(ValueError):
        eur("1").allocate(ratios)


@pytest.mark.parametrize("ratio", [1.5, True, "1"])
def test_allocation_refuses_non_int_non_decimal_ratios(ratio: object) -> None:
    with pytest.raises(TypeError):
        eur("1").allocate([1, ratio])  # type: ignore[list-item]


def test_allocation_refuses_non_finite_ratios() -> None:
    with pytest.raises(ValueError):
        eur("1").allocate([1, Decimal("Infinity")])


@pytest.mark.parametrize("n", [0, -1])
def test_split_needs_at_least_one_part(n: int) -> None:
    with pytest.raises(ValueError):
        eur("1").split(n)


def test_split_refuses_a_non_int_count() -> None:
    with pytest.raises(TypeError):
        eur("1").split(2.0)  # type: ignore[arg-type]


# -- formatting and serialization --------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "text"),
    [
        ("8", "EUR", "8.00"),
        ("79.990", "EUR", "79.99"),
        ("500", "JPY", "500"),
        ("1.5", "KWD", "1.500"),
        ("1E+3", "EUR", "1000.00"),
        ("-0.5", "EUR", "-0.50"),
        ("1.23456", "EUR", "1.23456"),
        ("1E-20", "EUR", "0.00000000000000000001"),
        ("-0", "EUR", "0.00"),
    ],
)
def test_format_amount_is_plain_digits(amount: str, code: str, text: str) -> None:
    assert Money(amount, code).format_amount() == text


def test_str_shows_amount_and_code() -> None:
    assert str(eur("79.99")) == "79.99 EUR"
    assert str(Money(500, "JPY")) == "500 JPY"


def test_repr_is_a_constructor_call() -> None:
    assert repr(eur("79.99")) == "Money('79.99', 'EUR')"
    assert eval(repr(eur("1.23456")), {"Money": Money}) == eur("1.23456")


def test_to_dict_gives_strings() -> None:
    assert eur("79.99").to_dict() == {"amount": "79.99", "currency": "EUR"}
    assert Money("1.5", "KWD").to_dict() == {"amount": "1.500", "currency": "KWD"}


def test_from_dict_reads_strings() -> None:
    assert Money.from_dict({"amount": "79.99", "currency": "EUR"}) == eur("79.99")


def test_from_dict_accepts_int_and_decimal_amounts() -> None:
    assert Money.from_dict({"amount": 8, "currency": "EUR"}) == eur("8")
    assert Money.from_dict({"amount": Decimal("8.5"), "currency": "eur"}) == eur("8.5")


@pytest.mark.parametrize(
    "data",
    [
        {"amount": 79.99, "currency": "EUR"},
        {"amount": True, "currency": "EUR"},
        {"amount": None, "currency": "EUR"},
        {"amount": "abc", "currency": "EUR"},
        {"amount": "NaN", "currency": "EUR"},
        {"currency": "EUR"},
    ],
)
def test_from_dict_with_a_bad_or_missing_amount_is_invalid(data: dict[str, object]) -> None:
    with pytest.raises(InvalidAmountError):
        Money.from_dict(data)


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "1"},
        {"amount": "1", "currency": None},
        {"amount": "1", "currency": 978},
        {"amount": "1", "currency": "ABC"},
        {"amount": "1", "currency": "XAU"},
    ],
)
def test_from_dict_with_a_bad_or_missing_currency_is_unknown(data: dict[str, object]) -> None:
    with pytest.raises(UnknownCurrencyError):
        Money.from_dict(data)


def test_from_dict_refuses_a_non_mapping() -> None:
    with pytest.raises(InvalidAmountError):
        Money.from_dict(["79.99", "EUR"])  # type: ignore[arg-type]


# -- properties --------------------------------------------------------------------------------

CURRENCIES = st.sampled_from(all_currencies())
MINOR_UNITS = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def exact_money(draw: st.DrawFn) -> Money:
    return Money.from_minor_units(draw(MINOR_UNITS), draw(CURRENCIES))


@st.composite
def any_money(draw: st.DrawFn) -> Money:
    places = draw(st.integers(min_value=0, max_value=8))
    amount = draw(
        st.decimals(
            min_value=-(10**12),
            max_value=10**12,
            allow_nan=False,
            allow_infinity=False,
            places=places,
        )
    )
    return Money(amount, draw(CURRENCIES))


RATIO = st.one_of(
    st.integers(min_value=0, max_value=1000),
    st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False),
)
RATIOS = st.lists(RATIO, min_size=1, max_size=12).filter(lambda ratios: sum(ratios) > 0)


@settings(deadline=None)
@given(money=exact_money(), ratios=RATIOS)
def test_allocation_always_sums_exactly_to_the_original(
    money: Money, ratios: list[int | Decimal]
) -> None:
    parts = money.allocate(ratios)
    assert len(parts) == len(ratios)
    assert sum(parts, Money.zero(money.currency)) == money
    assert all(part.currency == money.currency and part.is_exact for part in parts)


@settings(deadline=None)
@given(money=exact_money(), ratios=RATIOS)
def test_each_allocated_part_is_within_one_minor_unit_of_its_exact_share(
    money: Money, ratios: list[int | Decimal]
) -> None:
    units = money.to_minor_units()
    total = sum((Fraction(ratio) for ratio in ratios), Fraction(0))
    for part, ratio in zip(money.allocate(ratios), ratios, strict=True):
        assert abs(part.to_minor_units() - units * Fraction(ratio) / total) < 1
        if ratio == 0:
            assert part.is_zero


@settings(deadline=None)
@given(money=exact_money(), n=st.integers(min_value=1, max_value=50))
def test_split_parts_differ_by_at_most_one_minor_unit(money: Money, n: int) -> None:
    units = [part.to_minor_units() for part in money.split(n)]
    assert sum(units) == money.to_minor_units()
    assert max(units) - min(units) <= 1
    assert units == sorted(units, key=abs, reverse=True)


@settings(deadline=None)
@given(money=exact_money())
def test_money_to_minor_units_and_back_is_exact(money: Money) -> None:
    assert Money.from_minor_units(money.to_minor_units(), money.currency) == money


@settings(deadline=None)
@given(units=MINOR_UNITS, currency=CURRENCIES)
def test_minor_units_to_money_and_back_is_exact(units: int, currency: Currency) -> None:
    assert Money.from_minor_units(units, currency).to_minor_units() == units


@settings(deadline=None)
@given(money=any_money())
def test_dict_round_trip_is_exact(money: Money) -> None:
    restored = Money.from_dict(money.to_dict())
    assert restored == money
    assert restored.amount == money.amount
    assert "E" not in money.to_dict()["amount"]


@settings(deadline=None)
@given(money=any_money())
def test_quantized_money_is_exact_and_within_half_a_minor_unit(money: Money) -> None:
    rounded = money.quantize()
    assert rounded.is_exact
    half_unit = Decimal(1).scaleb(-money.currency.exponent) / 2
    assert abs(rounded.amount - money.amount) <= half_unit


@settings(deadline=None)
@given(a=any_money(), b=st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False))
def test_adding_then_subtracting_gives_back_the_original(a: Money, b: Decimal) -> None:
    other = Money(b, a.currency)
    assert (a + other) - other == a
    assert a + other == other + a
