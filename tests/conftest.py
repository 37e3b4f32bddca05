"""The whole suite's log scan: every record any test makes goes through the service's own log
filters (request id, redaction), and the session fails if a line would still show a secret. What
the subprocesses tests start write is scanned too (``tests/log_scan.py``).

The patterns (``tests/log_scan.py``) are written apart from ``payments.entrypoints.logs`` on
purpose: a change that weakens the redaction step shows up as a leak here. Records are copied
before the filters run, so what tests see with ``caplog`` is untouched. Lines are scanned at INFO
and above, the level the service logs at.
"""

from __future__ import annotations

import copy
import logging

import pytest

from payments.entrypoints.logs import install_filters
from tests.log_scan import PROCESS_LEAKS, leaks_in

__all__ = ["leaks_in"]


class _LogScanner(logging.Handler):
    """Runs each record, copied, through the service's filters and keeps what still leaks."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        install_filters(self)
        self.leaks: list[str] = []
        self.records = 0

    def handle(self, record: logging.LogRecord) -> bool:
        return super().handle(copy.copy(record))

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        line = record.getMessage()
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        found = leaks_in(line)
        if found:
            self.leaks.append(f"{record.name}: {found} in {line[:300]!r}")


_SCANNER = _LogScanner()


def pytest_sessionstart(session: pytest.Session) -> None:
    root = logging.getLogger()
    root.addHandler(_SCANNER)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_SCANNER)
    leaks = _SCANNER.leaks + PROCESS_LEAKS
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.section("secrets in log lines", sep="=", red=True)
            for leak in leaks[:50]:
                reporter.line(leak)
