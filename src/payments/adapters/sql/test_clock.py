"""The sandbox test clock: system time plus an offset kept in the database for every process."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from payments.adapters.sql.engine import READS_ONLY
from payments.adapters.sql.tables import sandbox_clock
from payments.domain.ports import AdjustableClock

_ROW = 1
log = logging.getLogger(__name__)


class SqlTestClock(AdjustableClock):
    """``now()`` is the system's UTC time plus the offset stored in ``sandbox_clock`` (zero
    until advanced). The offset is read again at most every ``refresh_seconds`` (a monotonic
    interval), so a clock moved by another process is seen within that time and a request does
    not pay a query for each ``now()``; this process's own ``advance`` is seen at once."""

    def __init__(self, engine: Engine, *, refresh_seconds: float = 1.0) -> None:
        self._engine = engine
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._read_at: float | None = None

    def now(self) -> datetime:
        """The sandbox's current time, timezone-aware UTC."""
        with self._lock:
            due = self._read_at is None or time.monotonic() - self._read_at >= self._refresh
        if due:
            try:
                reader = self._engine.connect().execution_options(**{READS_ONLY: True})
                with reader as connection:
                    seconds = connection.execute(
                        select(sandbox_clock.c.offset_seconds).where(sandbox_clock.c.id == _ROW)
                    ).scalar_one_or_none()
            except SQLAlchemyError:
                # Not migrated yet, or unreachable: the clock keeps the offset it last read
                # (readiness reports the database; the time must not fail the request).
                log.warning("the sandbox clock could not read its offset", exc_info=True)
                seconds = int(self._offset.total_seconds())
            self._remember(timedelta(seconds=seconds or 0))
        return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> datetime:
        """Move every process's sandbox clock ``by`` forward (whole seconds); the new now."""
        seconds = int(by.total_seconds())
        moved_at = datetime.now(UTC)
        with self._engine.begin() as connection:
            changed = connection.execute(
                sandbox_clock.update()
                .where(sandbox_clock.c.id == _ROW)
                .values(
                    offset_seconds=sandbox_clock.c.offset_seconds + seconds, updated_at=moved_at
                )
            ).rowcount
            if changed == 0:
                connection.execute(
                    sandbox_clock.insert().values(
                        id=_ROW, offset_seconds=seconds, updated_at=moved_at
                    )
                )
            total = connection.execute(
                select(sandbox_clock.c.offset_seconds).where(sandbox_clock.c.id == _ROW)
            ).scalar_one()
        self._remember(timedelta(seconds=total))
        return datetime.now(UTC) + self._offset

    def _remember(self, offset: timedelta) -> None:
        with self._lock:
            self._offset = offset
            self._read_at = time.monotonic()
