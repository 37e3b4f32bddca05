"""The patterns of the suite's secret scan (``tests/conftest.py``), and what the processes tests
start wrote: ``tests/integration/service.py`` hands the standard error of every ``payments``
command and the log of every server it ran to ``scan_process_output``, and the session fails if
any line shows a secret, as it does for the log records of the tests' own process.

The patterns are written apart from ``payments.entrypoints.logs`` on purpose: a change that
weakens the redaction step shows up as a leak here.
"""

from __future__ import annotations

import re

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


PROCESS_LEAKS: list[str] = []
"""What ``scan_process_output`` found this session: one entry per leaking line."""


_GENERATED_REQUEST_ID = re.compile(r"\breq_[0-9a-f]{32}\b")
"""A request id the service made (``req_`` and 32 random hex digits): formatted lines carry it
as it is, and its digits may happen to form a Luhn-valid run."""


def process_leaks(source: str, output: str) -> list[str]:
    """One entry per line of ``output`` (the text ``source`` wrote) that shows a secret."""
    return [
        f"{source}: {found} in {line[:300]!r}"
        for line in output.splitlines()
        if (found := leaks_in(_GENERATED_REQUEST_ID.sub("req_-", line)))
    ]


def scan_process_output(source: str, output: str) -> None:
    """Scan what a subprocess wrote (``source`` names it); leaks fail the session."""
    PROCESS_LEAKS.extend(process_leaks(source, output))
