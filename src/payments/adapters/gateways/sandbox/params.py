"""What we send the sandbox provider: the JSON bodies of a payment and a refund, byte-stable."""

from __future__ import annotations

import json
from collections.abc import Mapping

from payments.adapters.gateways.sandbox.amounts import money_to_wire
from payments.domain.gateway import Payer, PaymentRequest, RefundRequest

__all__ = ["encode_body", "payer_to_wire", "payment_request_body", "refund_request_body"]


def payment_request_body(request: PaymentRequest) -> dict[str, object]:
    """The JSON body of ``POST /v1/payments`` for a payment request."""
    body: dict[str, object] = {
        "reference": request.reference,
        "amount": money_to_wire(request.amount),
        "description": request.description,
        "payment_method": request.payment_method,
        "country": request.country,
        "return_url": request.return_url,
        "payer": payer_to_wire(request.payer),
        "metadata": dict(request.metadata),
    }
    if request.bank_code is not None:
        body["bank"] = request.bank_code
    return body


def payer_to_wire(payer: Payer) -> dict[str, object]:
    """The payer object: e-mail and name, and the details a PSE or Nequi payment needs."""
    wire: dict[str, object] = {"email": payer.email, "name": payer.name}
    for name in ("phone", "document_type", "document_number", "person_type", "ip_address"):
        value = getattr(payer, name)
        if value is not None:
            wire[name] = value
    return wire


def refund_request_body(request: RefundRequest) -> dict[str, object]:
    """The JSON body of ``POST /v1/refunds``; our refund id travels in the metadata."""
    return {
        "payment": request.gateway_reference,
        "amount": money_to_wire(request.amount),
        "reason": request.reason,
        "metadata": {"refund_id": request.refund_id, "reference": request.purchase_reference},
    }


def encode_body(body: Mapping[str, object]) -> bytes:
    """Compact, key-sorted JSON: a retried request sends exactly the same bytes."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
