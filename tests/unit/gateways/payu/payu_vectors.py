"""PayU's documented test values (reference §2.2, §6) and a confirmation-body builder."""

from __future__ import annotations

from urllib.parse import urlencode

from payments.adapters.gateways.payu import SignatureAlgorithm, confirmation_signature
from payments.adapters.gateways.payu.settings import SANDBOX_API_KEY, SANDBOX_MERCHANT_ID

API_KEY = SANDBOX_API_KEY
MERCHANT_ID = SANDBOX_MERCHANT_ID
TRANSACTION_ID = "7ab8e3a3-d2e4-4e56-9c9b-0f6a1d3e7b11"


def confirmation(
    *,
    state_pol: str = "4",
    value: str = "150.00",
    currency: str = "USD",
    reference_sale: str = "TestPayU04",
    algorithm: SignatureAlgorithm = SignatureAlgorithm.MD5,
    **extra: str,
) -> dict[str, str]:
    """The fields of a confirmation PayU would post, signed with the sandbox apiKey."""
    fields = {
        "merchant_id": MERCHANT_ID,
        "state_pol": state_pol,
        "response_code_pol": {"4": "1", "6": "5", "5": "20", "7": "25"}.get(state_pol, "1"),
        "response_message_pol": {
            "4": "APPROVED",
            "6": "ENTITY_DECLINED",
            "5": "EXPIRED_TRANSACTION",
        }.get(state_pol, "PENDING"),
        "reference_sale": reference_sale,
        "reference_pol": "1400449660",
        "value": value,
        "currency": currency,
        "transaction_id": TRANSACTION_ID,
        "payment_method_type": "2",
        "test": "1",
    }
    fields["sign"] = confirmation_signature(
        api_key=API_KEY,
        merchant_id=MERCHANT_ID,
        reference_sale=reference_sale,
        value=value,
        currency=currency,
        state_pol=state_pol,
        algorithm=algorithm,
    )
    fields.update(extra)
    return fields


def form_body(fields: dict[str, str]) -> bytes:
    """The ``application/x-www-form-urlencoded`` body PayU posts."""
    return urlencode(fields).encode("ascii")
