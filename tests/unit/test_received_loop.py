"""The worker's loop of ingest mode: full batches are applied back to back, an idle look waits,
a failure is logged and tried again, and the loop ends when told to, after one last look."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from payments.domain.services.inbox_applier import DEFAULT_CLAIM
from payments.entrypoints.cli.worker import _apply_received_until, drain_received


class _Applier:
    """Answers the given batches in turn, then nothing; stops the loop once it has none."""

    def __init__(self, batches: list[Any], stop: threading.Event) -> None:
        self.batches = batches
        self.stop = stop
        self.calls = 0

    def apply_received(self) -> dict[str, int]:
        self.calls += 1
        if not self.batches:
            self.stop.set()
            return {}
        batch = self.batches.pop(0)
        if isinstance(batch, Exception):
            raise batch
        return {"processed": batch}


def test_full_batches_are_drained_until_one_comes_short() -> None:
    applier = _Applier([DEFAULT_CLAIM, DEFAULT_CLAIM, 3, 9], threading.Event())

    assert list(drain_received(applier)) == [DEFAULT_CLAIM, DEFAULT_CLAIM, 3]  # type: ignore[arg-type]
    assert applier.batches == [9]


def test_the_loop_applies_what_comes_survives_a_failure_and_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = threading.Event()
    applier = _Applier([5, RuntimeError("database went away"), 2], stop)

    _apply_received_until(applier, stop, idle=0.001)  # type: ignore[arg-type]

    assert applier.batches == []
    assert applier.calls == 5  # the last one after the stop: nothing came meanwhile
    assert "applying received notifications failed" in caplog.text


def test_what_came_before_the_stop_is_applied_even_if_the_loop_starts_after_it() -> None:
    stop = threading.Event()
    stop.set()  # a worker run for one round can end before its thread ever looked
    applier = _Applier([DEFAULT_CLAIM, 7], stop)

    _apply_received_until(applier, stop, idle=0.001)  # type: ignore[arg-type]

    assert applier.batches == []
    assert applier.calls == 2
