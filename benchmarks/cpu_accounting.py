"""Who used the CPU during a phase: service workers, PostgreSQL backends, load generator, others.

The cores are shared by everything on the machine, so a webhooks/s figure means little without
knowing how much of the CPU the service actually got. Read from /proc (Linux only).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle, since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields) - idle - iowait) / _TICKS


def database_backends(engine: Engine) -> list[int]:
    """The PostgreSQL backends connected to this database, except the one asking."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        return [int(pid) for (pid,) in rows]


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float
    machine: float
    service: dict[int, float]
    database: dict[int, float]
    children: float  # reaped child processes of this one: wrk
    own: float  # this process: the Python load generator


def snapshot(service_pids: Iterable[int], database_pids: Iterable[int]) -> CpuSnapshot:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        at=time.monotonic(),
        machine=_machine_busy_seconds(),
        service={pid: process_cpu_seconds(pid) for pid in service_pids},
        database={pid: process_cpu_seconds(pid) for pid in database_pids},
        children=usage.ru_utime + usage.ru_stime,
        own=time.process_time(),
    )


@dataclass(frozen=True, slots=True)
class CpuShare:
    """CPU seconds used during a phase, by whom."""

    seconds: float  # wall time of the phase
    cores: int
    service: float
    database: float
    load_generator: float
    machine: float
    booking: float = 0.0  # of ``service``: the worker that books stored deliveries (ingest mode)

    @property
    def others(self) -> float:
        return max(0.0, self.machine - self.service - self.database - self.load_generator)

    def per_request_ms(self, requests: int) -> dict[str, float]:
        if requests <= 0:
            return {}
        split = {"of which booking": self.booking / requests * 1000} if self.booking else {}
        return {
            "service": self.service / requests * 1000,
            **split,
            "PostgreSQL": self.database / requests * 1000,
            "load generator": self.load_generator / requests * 1000,
            "other processes": self.others / requests * 1000,
        }


def share(before: CpuSnapshot, after: CpuSnapshot, booking_pid: int | None = None) -> CpuShare:
    """What was used between two snapshots (processes that appeared in between start at 0);
    ``booking_pid``, one of the service's, is also told apart."""

    def delta(first: dict[int, float], second: dict[int, float]) -> float:
        return sum(max(0.0, cpu - first.get(pid, 0.0)) for pid, cpu in second.items())

    return CpuShare(
        seconds=after.at - before.at,
        cores=os.cpu_count() or 1,
        service=delta(before.service, after.service),
        database=delta(before.database, after.database),
        load_generator=(after.children - before.children) + (after.own - before.own),
        machine=after.machine - before.machine,
        booking=(
            after.service.get(booking_pid, 0.0) - before.service.get(booking_pid, 0.0)
            if booking_pid is not None
            else 0.0
        ),
    )
