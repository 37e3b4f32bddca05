"""PayU's signatures: the request's, the confirmation page's (the webhook) and the response page's.

Three strings, three rules (reference §2.5); mixing them up is the classic PayU bug (§0 traps 2-4):

- request: ``apiKey~merchantId~referenceCode~amount~currency``, the amount exactly as sent;
- confirmation page (server-to-server POST): ``apiKey~merchant_id~reference_sale~new_value~
  currency~state_pol`` with ``confirmation_new_value`` (one decimal when the second is 0);
- response page (the payer's browser): ``apiKey~merchantId~referenceCode~new_value~currency~
  transactionState`` with ``response_page_new_value`` (rounded half to even to one decimal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from payments.adapters.gateways.payu.settings import SignatureAlgorithm
from payments.adapters.wire.digests import hex_digest, same_hex_digest
from payments.domain.errors import InvalidSignatureError, MalformedNotificationError

__all__ = [
    "CONFIRMATION_SIGNED_FIELDS",
    "confirmation_new_value",
    "confirmation_signature",
    "fields_signature",
    "request_signature",
    "response_page_new_value",
    "response_page_signature",
    "verify_confirmation_signature",
]

CONFIRMATION_SIGNED_FIELDS: Final = ("reference_sale", "value", "currency", "state_pol")
"""The confirmation-page fields the ``sign`` covers, besides our apiKey and merchant id."""

_VALUE_TEXT: Final = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?")
_TX_VALUE_TEXT: Final = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,12})?")
_ONE_DECIMAL: Final = Decimal("0.1")


def _signed(algorithm: SignatureAlgorithm, *parts: str) -> str:
    """Lower-case hex digest of the parts joined with ``~``."""
    return hex_digest(SignatureAlgorithm(algorithm).hashlib_name, "~".join(parts))


def request_signature(
    *,
    api_key: str,
    merchant_id: str,
    reference_code: str,
    amount: str,
    currency: str,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.MD5,
) -> str:
    """The ``signature`` of a payment request (API ``transaction.order.signature`` or WebCheckout
    form): hex digest of ``apiKey~merchantId~referenceCode~amount~currency`` (reference §2.5a).

    ``amount`` is the text exactly as sent (``to_payu_amount``): ``65000`` and ``65000.00``
    give different signatures (§6).
    """
    return _signed(algorithm, api_key, merchant_id, reference_code, amount, currency)


# -- confirmation page (the webhook) --------------------------------------------------------------


def confirmation_new_value(value: str) -> str:
    """The ``new_value`` the confirmation page's ``sign`` covers, from the posted ``value``.

    PayU's reference rule, on the text (reference §2.5c, §0 trap 3 and 4): no decimal point ->
    ``value + ".0"``; a second decimal that is not ``0`` -> two decimals; otherwise one decimal.
    ``10000`` -> ``10000.0``, ``100.00`` -> ``100.0``, ``150.20`` -> ``150.2`` (not Odoo's
    ``150.20``), ``150.25`` -> ``150.25``. Anything but digits with at most two decimals raises
    ``MalformedNotificationError``. Not the response page's rule: see ``response_page_new_value``.
    """
    match = _VALUE_TEXT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise MalformedNotificationError(f"The PayU value {value!r} is not a decimal amount.")
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals) == 2 and decimals[1] != "0":
        return f"{whole}.{decimals}"
    return f"{whole}.{decimals[:1] or '0'}"


def confirmation_signature(
    *,
    api_key: str,
    merchant_id: str,
    reference_sale: str,
    value: str,
    currency: str,
    state_pol: str,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.MD5,
) -> str:
    """The ``sign`` PayU puts on a confirmation: hex digest of
    ``apiKey~merchant_id~reference_sale~new_value~currency~state_pol`` where ``new_value`` is
    ``confirmation_new_value(value)`` (reference §2.5c). What a simulator signs with."""
    new_value = confirmation_new_value(value)
    return _signed(algorithm, api_key, merchant_id, reference_sale, new_value, currency, state_pol)


def fields_signature(
    fields: Mapping[str, str], api_key: str, merchant_id: str, algorithm: SignatureAlgorithm
) -> str:
    """``confirmation_signature`` of the signed fields of a confirmation form
    (``CONFIRMATION_SIGNED_FIELDS``), with our apiKey and merchant id; ``KeyError`` for a
    missing field."""
    reference_sale, value, currency, state_pol = (
        fields[name] for name in CONFIRMATION_SIGNED_FIELDS
    )
    new_value = confirmation_new_value(value)
    return _signed(algorithm, api_key, merchant_id, reference_sale, new_value, currency, state_pol)


def verify_confirmation_signature(
    fields: Mapping[str, str],
    *,
    api_key: str,
    merchant_id: str,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.MD5,
) -> None:
    """Check the ``sign`` of a decoded confirmation body against our apiKey and merchant id.

    The digest is computed with *our* merchant id (a confirmation naming another merchant is
    refused) and compared in constant time, in any letter case (reference §2.5c). The docs give
    MD5 vectors only; that PayU signs confirmations with the algorithm the account's requests
    use is UNCONFIRMED (reference §2.5, §2.6), so the caller passes the configured one. Raises
    ``InvalidSignatureError`` without a key, with a missing signed field or ``sign``, or on a
    mismatch; ``MalformedNotificationError`` when ``value`` is not an amount.
    """
    if not api_key or not merchant_id:
        raise InvalidSignatureError("No PayU apiKey is configured: nothing can be verified.")
    missing = [name for name in ("sign", *CONFIRMATION_SIGNED_FIELDS) if not fields.get(name)]
    if missing:
        raise InvalidSignatureError(f"The PayU confirmation lacks {', '.join(missing)}.")
    if fields.get("merchant_id", merchant_id) != merchant_id:
        raise InvalidSignatureError("The PayU confirmation is for another merchant.")
    expected = fields_signature(fields, api_key, merchant_id, algorithm)
    if not same_hex_digest(expected, fields["sign"]):
        raise InvalidSignatureError("The PayU confirmation's sign does not match.")


# -- response page (the payer's browser redirect) -------------------------------------------------


def response_page_new_value(tx_value: str) -> str:
    """The ``new_value`` of the *response page* signature: ``TX_VALUE`` rounded to one decimal,
    half to even (reference §2.5b): ``150.25`` -> ``150.2``, ``150.35`` -> ``150.4``,
    ``150.34`` -> ``150.3``. Not the confirmation page's rule (``confirmation_new_value``).
    Raises ``MalformedNotificationError`` for text that is not a plain decimal amount."""
    if not isinstance(tx_value, str) or _TX_VALUE_TEXT.fullmatch(tx_value) is None:
        raise MalformedNotificationError(f"The PayU TX_VALUE {tx_value!r} is not an amount.")
    rounded = Decimal(tx_value).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_EVEN)
    return format(rounded, "f")


def response_page_signature(
    *,
    api_key: str,
    merchant_id: str,
    reference_code: str,
    tx_value: str,
    currency: str,
    transaction_state: str,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.MD5,
) -> str:
    """The response page's ``signature``: hex digest of
    ``apiKey~merchantId~referenceCode~new_value~currency~transactionState`` with
    ``response_page_new_value(tx_value)`` (reference §2.5b). The response page only informs the
    payer; the confirmation page is what settles a purchase."""
    new_value = response_page_new_value(tx_value)
    return _signed(
        algorithm, api_key, merchant_id, reference_code, new_value, currency, transaction_state
    )
