"""Wompi's names, endpoints, key prefixes and the documented sandbox test values (reference §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

__all__ = [
    "BASE_URL",
    "CHECKSUM_HEADER",
    "CURRENCIES",
    "EVENT_TYPES",
    "GATEWAY_NAME",
    "KEY_PREFIXES",
    "SANDBOX_APPROVED_CARD",
    "SANDBOX_BASE_URL",
    "SANDBOX_CARD_OUTCOMES",
    "SANDBOX_DECLINED_CARD",
    "SANDBOX_NEQUI_OUTCOMES",
    "SANDBOX_PSE_BANKS",
    "SANDBOX_PSE_OUTCOMES",
    "TRANSACTION_UPDATED",
    "KeyEnvironment",
    "environment_of_key",
]

GATEWAY_NAME: Final = "wompi"

# -- environments and keys (reference §3.1) -------------------------------------------------------
BASE_URL: Final = "https://production.wompi.co/v1"
SANDBOX_BASE_URL: Final = "https://sandbox.wompi.co/v1"

KeyEnvironment = Literal["test", "prod"]
"""The two environments, named as the ``environment`` field of an event names them."""

KEY_PREFIXES: Final[Mapping[str, Mapping[KeyEnvironment, str]]] = {
    "public": {"test": "pub_test_", "prod": "pub_prod_"},
    "private": {"test": "prv_test_", "prod": "prv_prod_"},
    "events": {"test": "test_events_", "prod": "prod_events_"},
    "integrity": {"test": "test_integrity_", "prod": "prod_integrity_"},
}
"""Per kind of key, its prefix in each environment."""


def environment_of_key(kind: str, key: str) -> KeyEnvironment | None:
    """The environment a ``kind`` of key (``public``, ``private``, ``events``, ``integrity``)
    belongs to by its prefix, or None when it has neither prefix. ``KeyError`` for an unknown
    kind."""
    for environment, prefix in KEY_PREFIXES[kind].items():
        if key.startswith(prefix):
            return environment
    return None


CURRENCIES: Final = frozenset({"COP"})
""""La única moneda disponible actualmente es COP" (reference §3.3)."""

# -- events (reference §3.5) ----------------------------------------------------------------------
CHECKSUM_HEADER: Final = "X-Event-Checksum"
"""The header that carries the same value as ``signature.checksum``."""
TRANSACTION_UPDATED: Final = "transaction.updated"
EVENT_TYPES: Final = frozenset(
    {TRANSACTION_UPDATED, "nequi_token.updated", "bancolombia_transfer_token.updated"}
)
"""The documented event types ("Esta lista puede crecer": unknown ones are ignored too)."""

# -- sandbox test data (reference §3.6, §3.7, §6) -------------------------------------------------
SANDBOX_APPROVED_CARD: Final = "4242424242424242"
SANDBOX_DECLINED_CARD: Final = "4111111111111111"
SANDBOX_CARD_OUTCOMES: Final[Mapping[str, str]] = {
    SANDBOX_APPROVED_CARD: "APPROVED",
    SANDBOX_DECLINED_CARD: "DECLINED",
}
"""Card number -> final status in the sandbox (any future expiry, 3-digit CVC); any other card
ends in ``ERROR``."""

SANDBOX_NEQUI_OUTCOMES: Final[Mapping[str, str]] = {
    "3991111111": "APPROVED",
    "3992222222": "DECLINED",
}
"""Nequi ``phone_number`` -> final status in the sandbox; any other number ends in ``ERROR``."""

SANDBOX_PSE_BANKS: Final[Mapping[str, str]] = {
    "1": "Banco que aprueba",
    "2": "Banco que declina",
    # Code 3 was seen by third-party integrations against the real sandbox; Wompi's docs only
    # name 1 and 2 (reference §3.6).
    "3": "Banco que simula un error",
}
"""The sandbox's PSE ``financial_institution_code`` -> ``financial_institution_name``."""

SANDBOX_PSE_OUTCOMES: Final[Mapping[str, str]] = {"1": "APPROVED", "2": "DECLINED", "3": "ERROR"}
"""PSE bank code -> final status in the sandbox (3 as observed, see ``SANDBOX_PSE_BANKS``)."""
