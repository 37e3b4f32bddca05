"""A typed Python client of the payments HTTP API (``PaymentsClient``), over ``requests``."""

from __future__ import annotations

from payments.adapters.wire.transport import HttpRetries
from payments.client.client import DEFAULT_RETRIES, DEFAULT_TIMEOUT, PaymentsClient
from payments.client.problems import error_for_answer

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "HttpRetries",
    "PaymentsClient",
    "error_for_answer",
]
