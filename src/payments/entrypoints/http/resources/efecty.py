"""Efecty's cash vouchers: an admin confirms one payment, or uploads the settlement file."""

from __future__ import annotations

import falcon

from payments.domain.cash_settlement import parse_settlement
from payments.domain.errors import FieldError, MalformedRequestError, ValidationError
from payments.domain.services.cash_vouchers import CashVoucherDesk
from payments.entrypoints.http.bodies import VoucherConfirmation
from payments.entrypoints.http.context import principal_of
from payments.entrypoints.http.json_body import read_body, read_raw_body, to_money
from payments.entrypoints.http.presenters import present_purchase, present_settlement

CSV_MEDIA_TYPE = "text/csv"


class _OnVouchers:
    def __init__(self, desk: CashVoucherDesk) -> None:
        self._desk = desk


class VoucherConfirmationsResource(_OnVouchers):
    """``POST /v1/efecty/confirmations`` (admin): one voucher paid, exactly, once."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, VoucherConfirmation)
        amount = to_money(body.amount, "amount")
        purchase = self._desk.confirm(body.code, amount, body.receipt_number, principal_of(req))
        resp.media = present_purchase(purchase)


class SettlementsResource(_OnVouchers):
    """``POST /v1/efecty/settlements`` (admin): a settlement file (``text/csv``), each row
    applied once; answered with the report of its rows."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        media_type = (req.content_type or "").split(";", 1)[0].strip().lower()
        if media_type != CSV_MEDIA_TYPE:
            raise MalformedRequestError(
                "Send the settlement file as text/csv.",
                errors=[FieldError("Content-Type", "must be text/csv")],
            )
        raw = read_raw_body(req)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(
                "The settlement file is not UTF-8 text.",
                errors=[FieldError("body", "must be UTF-8 CSV")],
            ) from None
        principal = principal_of(req)
        report = self._desk.settle(parse_settlement(text), principal.key_id or principal.role.value)
        resp.media = present_settlement(report)
