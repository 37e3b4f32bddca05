"""Checks for the shipped contract suites: a failed one raises ``AssertionError`` with both
sides shown, and, unlike an ``assert`` statement, still runs under ``python -O``."""

from __future__ import annotations

from typing import NoReturn, TypeVar

T = TypeVar("T")


def expect(condition: object, message: object = "") -> None:
    """Fail the test with ``message`` unless ``condition`` is true."""
    if not condition:
        fail(f"expected to hold: {message}" if message != "" else "expected to hold")


def expect_equal(actual: object, expected: object, message: object = "") -> None:
    """Fail the test unless ``actual == expected``, showing both."""
    if not actual == expected:  # noqa: SIM201 - ``==`` is the operator the caller compares by
        shown = f"{actual!r} != {expected!r}"
        fail(f"{message}: {shown}" if message != "" else shown)


def present(value: T | None, message: object = "") -> T:
    """``value``, failing the test when it is ``None``."""
    if value is None:
        fail(f"expected a value, got None: {message}" if message != "" else "got None")
    return value


def fail(message: str) -> NoReturn:
    """Fail the test (pytest reports an ``AssertionError`` as a failed check)."""
    raise AssertionError(message)
