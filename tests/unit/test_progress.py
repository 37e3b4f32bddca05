"""Long operator commands report their progress: the reconciliation sweep after each purchase,
and the command's bar is drawn only on a terminal."""

from __future__ import annotations

import io
import sys
from datetime import timedelta

import pytest

from payments.entrypoints.cli.progress import progress_bar
from tests.unit.conftest import Payments


def test_reconcile_tells_its_progress_after_each_purchase(payments: Payments) -> None:
    product = payments.premium_package()
    for n in range(3):
        payments.buy(product, f"cus_{n}")
    payments.clock.advance(minutes=20)
    heard: list[tuple[int, int]] = []

    report = payments.purchases.reconcile(
        expire_after=timedelta(hours=24), progress=lambda done, total: heard.append((done, total))
    )

    assert report.looked_up == 3
    assert heard == [(1, 3), (2, 3), (3, 3)]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_the_bar_is_drawn_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    stderr = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    with progress_bar("reconciling") as advance:
        advance(1, 2)
        advance(2, 2)

    assert ("reconciling" in stderr.getvalue()) is terminal
