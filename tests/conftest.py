"""The whole suite's log scan: every record any test makes goes through the service's own log
filters (request id, redaction), and the session fails if a line would still show a secret.

The patterns here are written apart from ``payments.entrypoints.logs`` on purpose: a change that
weakens the redaction step shows up as a leak here. Records are copied before the filters run,
so what tests see with ``caplog`` is untouched. Lines are scanned at INFO and above, the level
the service logs at.
"""

from __future__ import annotations

import copy
import logging
import re

import pytest

from payments.entrypoints.logs import install_filters

_LEAKS = re.compile(
    r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{6,}"
    r"|\bwhsec_[A-Za-z0-9]{6,}"
    r"|_secret_[A-Za-z0-9]{6,}"
    r"|\bprv_(?:test|prod)_[A-Za-z0-9]{6,}"
    r"|\b(?:test|prod)_(?:integrity|events)_[A-Za-z0-9]{6,}"
    r"|\bpay_(?:admi|merc|cust|publ)_[A-Za-z0-9_\-]{16,}"
    r"|\bBearer\s+(?!\[REDACTED\])\S+"
)
_DIGIT_RUN = re.compile(r"(?<![0-9])(?:[0-9][ \-]?){12,18}[0-9](?![0-9])")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(digits)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def leaks_in(line: str) -> list[str]:
    """The secrets and card numbers (13-19 digits passing the Luhn check) ``line`` shows."""
    found = [match.group() for match in _LEAKS.finditer(line)]
    for match in _DIGIT_RUN.finditer(line):
        digits = re.sub(r"[ \-]", "", match.group())
        if _luhn_valid(digits):
            found.append(match.group())
    return found


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
    if _SCANNER.leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.section("secrets in log lines", sep="=", red=True)
            for leak in _SCANNER.leaks[:50]:
                reporter.line(leak)
