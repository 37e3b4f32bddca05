"""The gateway contract's subject: the gateway, its provider's driver, the requests it sends."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from payments.domain.gateway import Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.ports import PaymentGateway

__all__ = [
    "PRICE",
    "Delivery",
    "GatewayUnderTest",
    "ProviderDriver",
    "payment_request",
    "refund_request",
]

Delivery = tuple[dict[str, str], bytes]
"""A notification as our webhook endpoint receives it: lower-case header names, raw body."""

PRICE = Money("79.99", "EUR")


class ProviderDriver(abc.ABC):
    """The provider's side of one gateway under test: what the payer or the network would do."""

    @abc.abstractmethod
    def approve(self, gateway_reference: str) -> Delivery:
        """The payer paid: capture, and return the notification the provider sent about it."""

    @abc.abstractmethod
    def decline(self, gateway_reference: str) -> Delivery:
        """The payment failed: return the notification the provider sent about it."""

    @abc.abstractmethod
    def signed(self, body: bytes) -> dict[str, str]:
        """The headers (lower-case names) with which the provider would send ``body`` now."""

    @abc.abstractmethod
    def requests_seen(self) -> int:
        """How many requests have reached the provider so far."""

    @abc.abstractmethod
    def payments_under(self, reference: str) -> int:
        """How many payments the provider holds under our purchase reference."""

    @abc.abstractmethod
    def refunded(self, gateway_reference: str) -> Money:
        """What the provider has given back of one payment so far."""

    def tampered(self, body: bytes) -> bytes:
        """``body`` changed in a part its signature covers (by default: one byte added)."""
        return body + b" "

    def unsigned(self, body: bytes) -> bytes:
        """``body`` without a signature of its own (by default it has none: the signature is
        in the headers); a provider that signs inside the body removes it here."""
        return body

    def garbled(self, headers: dict[str, str], body: bytes) -> Delivery:
        """The delivery with its signature replaced by non-ASCII garbage (by default: every
        header); a provider that signs inside the body garbles it there."""
        return dict.fromkeys(headers, "t=1,v1=\u00e9\u00e9"), body

    def signed_by_another(self, body: bytes) -> Delivery:
        """``body`` carrying the signature of another body (by default: the headers that would
        sign ``{}``); a provider that signs inside the body puts another one there."""
        return self.signed(b"{}"), body


@dataclass
class GatewayUnderTest:
    """A gateway, its provider's driver, and the next action each declared method starts with.

    ``price`` is what the contract charges (a provider with one currency gives its own), and
    ``request_fields`` completes every payment request with what the provider needs of it
    (country, payer details, bank, card token), by ``PaymentRequest`` field name.
    """

    gateway: PaymentGateway
    provider: ProviderDriver
    next_actions: Mapping[str, type]
    price: Money = PRICE
    request_fields: Mapping[str, object] = field(default_factory=dict)

    def request(
        self,
        reference: str,
        *,
        amount: Money | None = None,
        method: str | None = "card",
        key: str | None = None,
    ) -> PaymentRequest:
        """``payment_request`` at ``price`` (or ``amount``), completed with ``request_fields``."""
        request = payment_request(reference, amount=amount or self.price, method=method, key=key)
        return dataclasses.replace(request, **self.request_fields)  # type: ignore[arg-type]

    @property
    def country(self) -> str:
        country = self.request_fields.get("country", "ES")
        return country if isinstance(country, str) else "ES"

    def part(self, numerator: int, denominator: int) -> Money:
        """A part of the price, exact in its currency (rounded down)."""
        unit = Decimal(1).scaleb(-self.price.currency.exponent)
        value = (self.price.amount * numerator / denominator).quantize(unit, rounding=ROUND_DOWN)
        return Money(value, self.price.currency)


def payment_request(
    reference: str,
    *,
    amount: Money = PRICE,
    method: str | None = "card",
    key: str | None = None,
    country: str = "ES",
) -> PaymentRequest:
    return PaymentRequest(
        purchase_id=f"pur_{reference}",
        reference=reference,
        amount=amount,
        description="8 Hour Premium Package",
        payer=Payer("cus_contract", "ana@example.com", "Ana"),
        country=country,
        payment_method=method,
        idempotency_key=key or f"pur_{reference}:start:0",
        return_url="https://shop.example/done",
        metadata={"purchase_id": f"pur_{reference}"},
    )


def refund_request(
    gateway_reference: str, amount: Money, *, key: str, full: bool = False
) -> RefundRequest:
    return RefundRequest(
        refund_id=f"rfd_{key}",
        purchase_reference="ref_contract",
        gateway_reference=gateway_reference,
        amount=amount,
        full=full,
        reason="requested_by_customer",
        idempotency_key=f"rfd_{key}:refund",
    )
