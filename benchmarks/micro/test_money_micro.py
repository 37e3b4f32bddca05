"""Money arithmetic and allocation (pytest-benchmark, run on demand: docs/benchmarks.md)."""

from __future__ import annotations

from decimal import Decimal

from pytest_benchmark.fixture import BenchmarkFixture

from payments.domain.money import Money

PRICE = Money("79.99", "EUR")
FEE = Money("2.40", "EUR")


def test_add_and_subtract(benchmark: BenchmarkFixture) -> None:
    assert benchmark(lambda: PRICE + FEE - FEE) == PRICE


def test_multiply_by_a_decimal(benchmark: BenchmarkFixture) -> None:
    assert benchmark(lambda: PRICE * Decimal("1.5")) == Money("119.985", "EUR")


def test_allocate_in_three_shares(benchmark: BenchmarkFixture) -> None:
    parts = benchmark(PRICE.allocate, [1, 1, 1])
    assert sum(parts, start=Money.zero("EUR")) == PRICE


def test_split_a_refund_in_twelve(benchmark: BenchmarkFixture) -> None:
    parts = benchmark(PRICE.split, 12)
    assert len(parts) == 12
    assert sum(parts, start=Money.zero("EUR")) == PRICE


def test_parse_and_write_the_wire_form(benchmark: BenchmarkFixture) -> None:
    wire = {"amount": "79.99", "currency": "EUR"}
    assert benchmark(lambda: Money.from_dict(wire).to_dict()) == wire


def test_minor_units_both_ways(benchmark: BenchmarkFixture) -> None:
    assert benchmark(lambda: Money.from_minor_units(PRICE.to_minor_units(), "EUR")) == PRICE
