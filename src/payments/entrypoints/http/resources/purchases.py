"""Purchases: checkout, reading, cancelling, refunding and syncing with the provider."""

from __future__ import annotations

import falcon

from payments.domain.access import Principal
from payments.domain.errors import FieldError, ValidationError
from payments.domain.gateway import PayerDetails
from payments.domain.idempotency import ClaimedKey
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.entrypoints.http import representations as rep
from payments.entrypoints.http.answers import answer_created
from payments.entrypoints.http.bodies import PayerDetails as PayerInput
from payments.entrypoints.http.bodies import PurchaseInput, RefundInput
from payments.entrypoints.http.context import (
    claimed_key_of,
    client_ip_of,
    idempotency_key_of,
    principal_of,
)
from payments.entrypoints.http.json_body import read_body, to_money
from payments.entrypoints.http.presenters import (
    present_purchase,
    present_purchase_page,
    present_refund,
    present_sync,
)

MAX_PAGE = 200


class _OnPurchases:
    """A resource answered by the purchase use cases."""

    def __init__(self, purchases: PurchaseService) -> None:
        self._purchases = purchases


class _OnRefunds:
    """A resource answered by the refund use cases."""

    def __init__(self, refunds: RefundService) -> None:
        self._refunds = refunds


class PurchasesResource(_OnPurchases):
    """``/v1/purchases``: create (public, customer, merchant, admin) and list."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        command = _create_command(
            read_body(req, PurchaseInput), client_ip_of(req), claimed_key_of(req)
        )
        purchase = self._purchases.create(command, principal_of(req))
        answer_created(resp, f"/v1/purchases/{purchase.id}", present_purchase(purchase))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self._purchases.list_purchases(
            principal_of(req),
            customer_id=req.get_param("customer_id") or None,
            status=req.get_param("status"),  # a blank status is no status: 422
            limit=page_limit(req),
            cursor=req.get_param("cursor") or None,
        )
        resp.media = present_purchase_page(page)


def page_limit(req: falcon.Request) -> int:
    """The ``limit`` of a listing, 50 when absent; present but blank or out of 1 to
    ``MAX_PAGE`` is a 422 naming it, never ignored."""
    raw_limit = req.get_param("limit")
    if raw_limit is None:
        return 50
    if raw_limit.isdigit() and len(raw_limit) <= 4 and 1 <= int(raw_limit) <= MAX_PAGE:
        return int(raw_limit)
    raise ValidationError(
        "The query is invalid.",
        errors=[FieldError("limit", f"must be an integer from 1 to {MAX_PAGE}")],
    )


def _create_command(
    body: PurchaseInput, client_address: str, claim: ClaimedKey | None
) -> CreatePurchase:
    """The checkout body; an ``amount`` or ``price`` sent along is ignored: the catalog prices.

    The payer's address is the request's, never the body's; ``claim`` is the request's
    Idempotency-Key, which the checkout makes name its purchase.
    """
    payer = body.payer or PayerInput()
    return CreatePurchase(
        product_id=body.product_id,
        country=body.country,
        customer_id=body.customer_id,
        customer_email=body.customer.email if body.customer else None,
        customer_name=body.customer.name if body.customer else None,
        payment_method=body.payment_method,
        gateway=body.gateway,
        return_url=body.return_url,
        payer=PayerDetails(
            phone=payer.phone,
            document_type=payer.document_type,
            document_number=payer.document_number,
            person_type=payer.person_type,
            ip_address=client_address,
        ),
        bank_code=body.bank_code,
        payment_token=body.payment_token,
        client_address=client_address,
        idempotency=claim,
    )


def _actor(principal: Principal) -> str:
    return principal.key_id or principal.role.value


class PurchaseResource(_OnPurchases):
    """``/v1/purchases/{purchase_id}``: the owner, merchants and admins; others get 404."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        resp.media = present_purchase(self._purchases.get(purchase_id, principal_of(req)))


class PurchaseCancelResource(_OnPurchases):
    """``POST /v1/purchases/{purchase_id}/cancel``."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        resp.media = present_purchase(self._purchases.cancel(purchase_id, principal_of(req)))


class PurchaseRefundsResource(_OnRefunds):
    """``/v1/purchases/{purchase_id}/refunds``: refund (admin, ``{amount?, reason?}``) and list
    (the owner, merchants and admins; others get 404)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        body = read_body(req, RefundInput, optional=True)
        principal = principal_of(req)
        key = idempotency_key_of(req)
        refund = self._refunds.refund(
            purchase_id,
            to_money(body.amount, "amount") if body.amount is not None else None,
            body.reason,
            _actor(principal),
            # The caller's key names the refund itself: even a retry that finds no stored
            # answer (the first request's process died) finds the refund it booked.
            request_key=f"{principal.key_id}:{key}" if key else None,
        )
        answer_created(resp, f"/v1/refunds/{refund.id}", present_refund(refund))

    def on_get(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        refunds = self._refunds.list_for_purchase(purchase_id, principal_of(req))
        resp.media = rep.RefundList([present_refund(r) for r in refunds])


class RefundResource(_OnRefunds):
    """``GET /v1/refunds/{refund_id}``: the owner of its purchase, merchants and admins."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, refund_id: str) -> None:
        resp.media = present_refund(self._refunds.get(refund_id, principal_of(req)))


class PurchaseSyncResource(_OnPurchases):
    """``POST /v1/purchases/{purchase_id}/sync`` (admin): reconcile with the provider now."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        purchase, result = self._purchases.sync(purchase_id)
        resp.media = present_sync(purchase, result)
