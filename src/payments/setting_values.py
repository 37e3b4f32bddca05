"""How single settings are read from ``PAYMENTS_*`` variables: switches, whole numbers, base
URLs; every refusal names its variable in one line."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from payments.domain.errors import ConfigurationError

Get = Callable[[str, str], str | None]
"""Reads ``PAYMENTS_<name>`` (the name without its prefix), with a default."""

_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})


def whole_number(get: Get, name: str, default: str, unit: str) -> int:
    """A positive whole number of ``unit`` from ``PAYMENTS_<name>``; refusals name the variable."""
    value = get(name, default) or default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"PAYMENTS_{name} must be a whole number of {unit}.") from None
    if number <= 0:
        raise ConfigurationError(f"PAYMENTS_{name} must be a positive number of {unit}.")
    return number


def flag(get: Get, name: str) -> bool:
    """``PAYMENTS_<name>`` as a yes/no switch (1/true/yes/on or 0/false/no/off), off by default."""
    value = (get(name, "0") or "0").lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ConfigurationError(f"PAYMENTS_{name} must be 1 or 0 (true or false).")


def checked_base_url(value: str, variable: str, example: str) -> str:
    """A provider's API base URL, without its trailing slash; refusals name ``variable``."""
    base_url = value.rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{variable} is malformed: use {example}.")
    return base_url
