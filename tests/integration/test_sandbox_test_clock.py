"""The sandbox test clock lives in the database: every process reading it sees a move."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.test_clock import SqlTestClock


def test_a_move_is_seen_by_every_clock_on_the_database(database: Engine) -> None:
    service, worker = SqlTestClock(database), SqlTestClock(database, refresh_seconds=0)
    before = worker.now()

    moved = service.advance(timedelta(days=15))
    service.advance(timedelta(hours=1))

    assert moved - datetime.now(UTC) > timedelta(days=14, hours=23)
    assert worker.now() - before >= timedelta(days=15, hours=1)
    assert worker.now().tzinfo is not None


def test_a_clock_without_its_table_keeps_system_time(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/unmigrated.db")
    try:
        now = SqlTestClock(engine).now()
        assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    finally:
        engine.dispose()


def test_the_clock_reads_its_offset_while_a_unit_of_work_holds_the_write_lock(
    database: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # The worker's use cases ask the clock for the time inside their transaction: on SQLite
    # that transaction holds the write lock, and a clock read that wanted it too would wait out
    # the busy timeout, then fall back to a stale offset.
    SqlTestClock(database).advance(timedelta(days=3))
    clock = SqlTestClock(database, refresh_seconds=0)
    with database.begin() as writer:
        writer.execute(text("UPDATE sandbox_clock SET updated_at = updated_at"))
        with caplog.at_level(logging.WARNING, logger="payments.adapters.sql.test_clock"):
            now = clock.now()
    assert "could not read its offset" not in caplog.text
    assert now - datetime.now(UTC) > timedelta(days=2, hours=23)
