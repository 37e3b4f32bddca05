"""Purchases: checkout, reading, cancelling, refunding and syncing with the provider."""

from __future__ import annotations

from dataclasses import dataclass

import falcon

from payments.domain.access import Principal, Role
from payments.domain.errors import FieldError, RateLimitedError, ValidationError
from payments.domain.ports import RateLimiter
from payments.domain.routing import PAYMENT_METHODS
from payments.domain.services.purchases import CreatePurchase, PayerDetails, PurchaseService
from payments.domain.services.refunds import RefundService
from payments.entrypoints.http.context import client_ip_of, principal_of
from payments.entrypoints.http.json_body import Fields, read_json_object
from payments.entrypoints.http.presenters import present_purchase, present_refund

MAX_ID_LENGTH = 200
MAX_URL_LENGTH = 2000
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class GuestCheckoutLimits:
    """How many purchases a publishable key may start per client address and per e-mail."""

    per_ip: int
    per_ip_window: int
    per_email: int
    per_email_window: int


class PurchasesResource:
    """``/v1/purchases``: create (public, customer, merchant, admin) and list."""

    def __init__(
        self, purchases: PurchaseService, limiter: RateLimiter, limits: GuestCheckoutLimits
    ) -> None:
        self._purchases = purchases
        self._limiter = limiter
        self._limits = limits

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = principal_of(req)
        guest = principal.role is Role.PUBLIC
        if guest:
            self._limit(f"ip:{client_ip_of(req)}", self._limits.per_ip, self._limits.per_ip_window)
        command = _create_command(Fields(read_json_object(req)), client_ip_of(req))
        if guest and isinstance(command.customer_email, str):
            self._limit(
                f"email:{command.customer_email.strip().lower()}",
                self._limits.per_email,
                self._limits.per_email_window,
            )
        purchase = self._purchases.create(command, principal)
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/purchases/{purchase.id}"
        resp.media = present_purchase(purchase)

    def _limit(self, key: str, limit: int, window: int) -> None:
        decision = self._limiter.hit(f"purchases:{key}", limit, window)
        if not decision.allowed:
            raise RateLimitedError(
                "Too many purchases were started; try again later.",
                retry_after=decision.retry_after,
            )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        errors: list[FieldError] = []
        limit = 50
        raw_limit = req.get_param("limit")
        if raw_limit is not None:  # present but blank ("limit=") is refused, not ignored
            if raw_limit.isdigit() and len(raw_limit) <= 4 and 1 <= int(raw_limit) <= MAX_PAGE:
                limit = int(raw_limit)
            else:
                errors.append(FieldError("limit", f"must be an integer from 1 to {MAX_PAGE}"))
        if errors:
            raise ValidationError("The query is invalid.", errors=errors)
        page = self._purchases.list(
            principal_of(req),
            customer_id=req.get_param("customer_id") or None,
            status=req.get_param("status"),  # a blank status is no status: 422
            limit=limit,
            cursor=req.get_param("cursor") or None,
        )
        resp.media = {
            "data": [present_purchase(p) for p in page.items],
            "next_cursor": page.next_cursor,
        }


def _payer(fields: Fields | None, ip_address: str | None) -> PayerDetails:
    """What PSE and Nequi ask of the payer; the address is the request's, never the body's."""
    if fields is None:
        return PayerDetails(ip_address=ip_address)
    return PayerDetails(
        phone=fields.text("phone", min_length=1, max_length=64),
        document_type=fields.text("document_type", min_length=1, max_length=64),
        document_number=fields.text("document_number", min_length=1, max_length=64),
        person_type=fields.text("person_type", min_length=1, max_length=64),
        ip_address=ip_address,
    )


def _create_command(body: Fields, ip_address: str | None = None) -> CreatePurchase:
    """The checkout body; an ``amount`` or ``price`` sent along is ignored: the catalog prices."""
    product_id = body.text("product_id", required=True, min_length=1, max_length=MAX_ID_LENGTH)
    customer_id = body.text("customer_id", min_length=1, max_length=MAX_ID_LENGTH)
    email = name = None
    customer = body.nested("customer")
    if customer is not None:
        email = customer.text("email", required=True, min_length=1, max_length=254)
        name = customer.text("name", max_length=150)
    country = body.text("country", required=True, min_length=2, max_length=2)
    payment_method = body.text("payment_method", max_length=32)
    if payment_method is not None and payment_method not in PAYMENT_METHODS:
        body.error("payment_method", "must be one of " + ", ".join(sorted(PAYMENT_METHODS)))
    gateway = body.text("gateway", min_length=1, max_length=32)
    return_url = body.text("return_url", min_length=1, max_length=MAX_URL_LENGTH)
    if return_url is not None and not return_url.startswith(("https://", "http://")):
        body.error("return_url", "must be an http(s) URL")
    bank_code = body.text("bank_code", min_length=1, max_length=32)
    payer = _payer(body.nested("payer"), ip_address)
    body.raise_for_errors()
    assert product_id is not None
    assert country is not None
    return CreatePurchase(
        product_id=product_id,
        country=country,
        customer_id=customer_id,
        customer_email=email,
        customer_name=name,
        payment_method=payment_method,
        gateway=gateway,
        return_url=return_url,
        payer=payer,
        bank_code=bank_code,
    )


def _actor(principal: Principal) -> str:
    return principal.key_id or principal.role.value


class PurchaseResource:
    """``/v1/purchases/{purchase_id}``: the owner, merchants and admins; others get 404."""

    def __init__(self, purchases: PurchaseService) -> None:
        self._purchases = purchases

    def on_get(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        resp.media = present_purchase(self._purchases.get(purchase_id, principal_of(req)))


class PurchaseCancelResource:
    """``POST /v1/purchases/{purchase_id}/cancel``."""

    def __init__(self, purchases: PurchaseService) -> None:
        self._purchases = purchases

    def on_post(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        resp.media = present_purchase(self._purchases.cancel(purchase_id, principal_of(req)))


class PurchaseRefundsResource:
    """``/v1/purchases/{purchase_id}/refunds``: refund (admin, ``{amount?, reason?}``) and list
    (the owner, merchants and admins; others get 404)."""

    def __init__(self, refunds: RefundService) -> None:
        self._refunds = refunds

    def on_post(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        body = Fields(read_json_object(req, optional=True))
        amount = body.money("amount")
        reason = body.text("reason", max_length=500)
        body.raise_for_errors()
        principal = principal_of(req)
        key = req.get_header("Idempotency-Key")
        refund = self._refunds.refund(
            purchase_id,
            amount,
            reason,
            _actor(principal),
            # The caller's key names the refund itself: even a retry that finds no stored
            # answer (the first request's process died) finds the refund it booked.
            request_key=f"{principal.key_id}:{key}" if key else None,
        )
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/refunds/{refund.id}"
        resp.media = present_refund(refund)

    def on_get(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        refunds = self._refunds.list_for_purchase(purchase_id, principal_of(req))
        resp.media = {"data": [present_refund(r) for r in refunds]}


class RefundResource:
    """``GET /v1/refunds/{refund_id}``: the owner of its purchase, merchants and admins."""

    def __init__(self, refunds: RefundService) -> None:
        self._refunds = refunds

    def on_get(self, req: falcon.Request, resp: falcon.Response, refund_id: str) -> None:
        resp.media = present_refund(self._refunds.get(refund_id, principal_of(req)))


class PurchaseSyncResource:
    """``POST /v1/purchases/{purchase_id}/sync`` (admin): reconcile with the provider now."""

    def __init__(self, purchases: PurchaseService) -> None:
        self._purchases = purchases

    def on_post(self, req: falcon.Request, resp: falcon.Response, purchase_id: str) -> None:
        purchase, result = self._purchases.sync(purchase_id)
        resp.media = {
            "purchase": present_purchase(purchase),
            "result": result.value if result is not None else None,
        }
