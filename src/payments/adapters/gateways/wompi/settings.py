"""Wompi's names, endpoints, key prefixes and the documented sandbox test values (reference §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from payments.domain.errors import ConfigurationError

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
    "SANDBOX_EVENTS_SECRET",
    "SANDBOX_INTEGRITY_SECRET",
    "SANDBOX_NEQUI_OUTCOMES",
    "SANDBOX_PRIVATE_KEY",
    "SANDBOX_PSE_BANKS",
    "SANDBOX_PSE_OUTCOMES",
    "SANDBOX_PUBLIC_KEY",
    "SETTING_NAMES",
    "TRANSACTION_UPDATED",
    "KeyEnvironment",
    "check_wompi_keys",
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


SETTING_NAMES: Final[Mapping[str, str]] = {
    "public": "PAYMENTS_WOMPI_PUBLIC_KEY",
    "private": "PAYMENTS_WOMPI_PRIVATE_KEY",
    "integrity": "PAYMENTS_WOMPI_INTEGRITY_SECRET",
    "events": "PAYMENTS_WOMPI_EVENTS_SECRET",
}
"""Per kind of key, the setting that holds it."""


def check_wompi_keys(mode: str, keys: Mapping[str, str | None]) -> bool:
    """Whether ``keys`` (by kind, as ``SETTING_NAMES``) configure Wompi; ``ConfigurationError``,
    naming the setting and never its value, for keys that must not start the service.

    No key at all leaves Wompi unconfigured (in sandbox mode its simulator stands in). Once one
    is set all four are needed, each of its kind's shape: ``live`` refuses test keys
    (``pub_test_``, ``prv_test_``, ``test_integrity_``, ``test_events_``), ``sandbox`` refuses
    production ones.
    """
    if not any(keys.get(kind) for kind in SETTING_NAMES):
        return False
    wanted: KeyEnvironment = "prod" if mode == "live" else "test"
    for kind, variable in SETTING_NAMES.items():
        key = keys.get(kind)
        if not key:
            raise ConfigurationError(
                f"Wompi needs all four keys: set {variable} too (or none of PAYMENTS_WOMPI_*)."
            )
        environment = environment_of_key(kind, key)
        if environment is None:
            prefixes = " or ".join(f"{p}..." for p in KEY_PREFIXES[kind].values())
            raise ConfigurationError(f"{variable} must be a Wompi {kind} key ({prefixes}).")
        if environment != wanted:
            raise ConfigurationError(
                f"{mode.capitalize()} mode refuses a Wompi {environment} key in {variable}: "
                f"use the {wanted} one ({KEY_PREFIXES[kind][wanted]}...)."
            )
    return True


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
SANDBOX_PUBLIC_KEY: Final = "pub_test_sandbox_not_a_real_key"
SANDBOX_PRIVATE_KEY: Final = "prv_test_sandbox_not_a_real_key"
SANDBOX_INTEGRITY_SECRET: Final = "test_integrity_sandbox_not_a_real_secret"  # noqa: S105
SANDBOX_EVENTS_SECRET: Final = "test_events_sandbox_not_a_real_secret"  # noqa: S105
"""The built-in simulator's keys in sandbox mode without Wompi credentials (documented in
docs/sandbox.md; none of them works at Wompi)."""
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
