"""Request parameters of the Stripe simulator: form decoding and the checks Stripe makes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from payments.domain.currency import get_currency
from payments.domain.errors import UnknownCurrencyError
from payments.sandbox.stripe_simulator.errors import ApiError

__all__ = [
    "amount",
    "form_pairs",
    "known_currency",
    "metadata",
    "only",
    "payment_method_types",
    "required_amount",
    "unflatten",
]

_MAX_AMOUNT: Final = 99_999_999
# The first API version that refuses payment_method_types on PaymentIntent create.
_NO_PAYMENT_METHOD_TYPES: Final = "2026-09-30"
_INTEGER: Final = re.compile(r"-?[0-9]{1,18}")
_FORM_KEY: Final = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The ``application/x-www-form-urlencoded`` pairs of a request body, blanks kept."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "The request body is not valid UTF-8.") from None
    return parse_qsl(text, keep_blank_values=True)


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation (``metadata[k]=v``, ``types[0]=card``) as nested objects."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _FORM_KEY.fullmatch(key)
        if match is None:
            raise ApiError(400, f"Invalid parameter name: {key[:40]}.", code="parameter_unknown")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ApiError(400, f"Invalid parameter: {key[:40]}.", param=path[0])
            node = child
        last = path[-1] or str(len(node))
        if isinstance(node.get(last), dict):
            raise ApiError(400, f"Invalid parameter: {key[:40]}.", param=path[0])
        node[last] = value
    return _lists(root)


def _lists(node: dict[str, Any]) -> dict[str, Any]:
    for key, value in node.items():
        if isinstance(value, dict):
            inner = _lists(value)
            if inner and all(k.isdigit() for k in inner):
                node[key] = [inner[k] for k in sorted(inner, key=int)]
    return node


def only(params: Mapping[str, Any], allowed: set[str]) -> None:
    """Refuse any parameter but ``allowed`` (and ``expand``, which every endpoint takes)."""
    for name in params:
        if name not in allowed and name != "expand":
            raise ApiError(
                400,
                f"Received unknown parameter: {name[:40]}",
                code="parameter_unknown",
                param=name[:40],
            )


def payment_method_types(params: Mapping[str, Any], api_version: str) -> list[str]:
    """The intent's payment method types (cards only), named as ``api_version`` wants them."""
    if "payment_method_types" in params and api_version >= _NO_PAYMENT_METHOD_TYPES:
        raise ApiError(
            400,
            "payment_method_types is no longer supported on this API version; use "
            "allowed_payment_method_types.",
            code="payment_method_types_no_longer_supported",
            param="payment_method_types",
        )
    if "payment_method_types" in params and "allowed_payment_method_types" in params:
        raise ApiError(
            400,
            "allowed_payment_method_types and payment_method_types are mutually exclusive.",
            code="parameters_exclusive",
            param="allowed_payment_method_types",
        )
    name = (
        "payment_method_types"
        if "payment_method_types" in params
        else ("allowed_payment_method_types")
    )
    types = params.get(name, ["card"])
    if not isinstance(types, list) or not types or any(t != "card" for t in types):
        raise ApiError(
            400,
            f"The simulator takes cards only: {name}=['card'].",
            code="parameter_invalid",
            param=name,
        )
    return ["card"]


def amount(params: Mapping[str, Any]) -> int | None:
    """The ``amount`` in minor units, or None when absent; 400 unless 1 to 99,999,999."""
    value = params.get("amount")
    if value is None:
        return None
    if not isinstance(value, str) or _INTEGER.fullmatch(value) is None:
        raise ApiError(
            400, "Invalid integer: amount.", code="parameter_invalid_integer", param="amount"
        )
    minor = int(value)
    if minor < 1:
        raise ApiError(400, "Amount must be at least 1.", code="amount_too_small", param="amount")
    if minor > _MAX_AMOUNT:
        raise ApiError(
            400, "Amount must be no more than 99999999.", code="amount_too_large", param="amount"
        )
    return minor


def required_amount(params: Mapping[str, Any]) -> int:
    """The ``amount`` as ``amount`` reads it; a missing one is 400 ``parameter_missing``."""
    minor = amount(params)
    if minor is None:
        raise ApiError(
            400, "Missing required param: amount.", code="parameter_missing", param="amount"
        )
    return minor


def metadata(params: Mapping[str, Any]) -> dict[str, str]:
    """The ``metadata`` object within Stripe's limits, blank values dropped (Stripe unsets them)."""
    value = params.get("metadata")
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError(400, "Invalid object: metadata.", code="parameter_invalid", param="metadata")
    if len(value) > 50 or any(len(k) > 40 or len(v) > 500 for k, v in value.items()):
        raise ApiError(
            400,
            "Metadata has at most 50 keys of up to 40 characters, values up to 500.",
            code="parameter_invalid",
            param="metadata",
        )
    return {k: v for k, v in value.items() if v != ""}


def known_currency(code: str) -> bool:
    """Whether ``code`` is a lower-case ISO 4217 code our currency table knows."""
    if code != code.lower() or len(code) != 3:
        return False
    try:
        get_currency(code.upper())
    except UnknownCurrencyError:
        return False
    return True
