"""What the payer must do next to pay a purchase: confirm with a client secret, follow a
redirect, or pay a cash voucher at a counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from payments.domain.money import Money


@dataclass(frozen=True, slots=True)
class ClientSecretAction:
    client_secret: str
    publishable_key: str | None = None
    type: str = "client_secret"


@dataclass(frozen=True, slots=True)
class RedirectAction:
    url: str
    type: str = "redirect"


@dataclass(frozen=True, slots=True)
class CashVoucherAction:
    code: str
    barcode: str
    amount: Money
    expires_at: datetime
    instructions: str
    type: str = "cash_voucher"


NextAction = ClientSecretAction | RedirectAction | CashVoucherAction
