"""``PaymentsClient`` against the real service over loopback: typed answers, an Idempotency-Key on
every POST kept across retries, and problems raised as the package's own errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy import func, select

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import idempotency_keys, purchases
from payments.client import (
    GuestCustomer,
    HttpRetries,
    PaymentsClient,
    ProductInput,
    PurchaseInput,
    RefundInput,
    SubscriptionInput,
    UsageInput,
    VoucherConfirmation,
    api_money,
)
from payments.containers import Container
from payments.domain.catalog import BillingCycle, ProductKind
from payments.domain.errors import (
    AuthenticationRequiredError,
    ConflictError,
    ForbiddenError,
    GatewayUnavailableError,
    InvalidTransitionError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from payments.domain.money import Money
from tests.integration.service import RunningService, free_port, running_service


@dataclass
class Flaky:
    """In front of the service: answers ``status`` (with Retry-After) to the first ``failures``
    POSTs to the API, and records the Idempotency-Key of every POST to the API (not those the
    sandbox gateway sends to its simulator, which this server also serves)."""

    app: Callable[..., Iterable[bytes]]
    failures: int = 0
    status: str = "503 Service Unavailable"
    code: str = "gateway_unavailable"
    keys: list[str | None] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].startswith("/v1/"):
            self.keys.append(environ.get("HTTP_IDEMPOTENCY_KEY"))
            if len(self.keys) <= self.failures:
                problem = f'{{"type":"https://payments.dev/problems/{self.code}","status":{self.status[:3]}}}'
                body = problem.encode()
                start(
                    self.status,
                    [("Content-Type", "application/problem+json"), ("Retry-After", "2")],
                )
                return [body]
        return self.app(environ, start)


@dataclass
class Shop:
    service: RunningService
    flaky: Flaky
    waits: list[float]
    admin: PaymentsClient
    merchant: PaymentsClient
    database_url: str

    def client(self, key: str) -> PaymentsClient:
        retries = HttpRetries(
            attempts=4, backoff=0.01, sleep=self.waits.append, longest_retry_after=30
        )
        return PaymentsClient(self.service.base_url, key, retries=retries)

    def count(self, table: Any) -> int:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
        finally:
            engine.dispose()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    url = f"sqlite:///{tmp_path / 'client.db'}"
    upgrade(url)
    holder: list[Flaky] = []

    def configure(container: Container) -> None:
        flaky = Flaky(container.wsgi_app())
        holder.append(flaky)
        container.wsgi_app.override(providers.Object(flaky))

    with running_service({"PAYMENTS_DATABASE_URL": url}, configure) as service:
        waits: list[float] = []
        shop = Shop(service, holder[0], waits, None, None, url)  # type: ignore[arg-type]
        shop.admin = shop.client(service.admin_key())
        shop.merchant = shop.client(service.container.access().create_key("merchant")[1])
        yield shop


def _package(shop: Shop) -> str:
    package = ProductInput(
        "8 Hour Premium Package", ProductKind.PACKAGE, api_money(Money("79.99", "EUR")), "8", 60
    )
    product = shop.admin.create_product(package)
    return product.id


def _for_ana(product_id: str) -> PurchaseInput:
    return PurchaseInput(product_id, "PT", customer_id="cus_ana")


def test_a_purchase_is_bought_read_listed_refunded_and_credited_through_the_client(
    shop: Shop,
) -> None:
    product_id = _package(shop)
    assert [p.id for p in shop.merchant.list_products().data] == [product_id]

    purchase = shop.merchant.create_purchase(_for_ana(product_id))
    assert (purchase.status, purchase.amount.amount, purchase.amount.currency) == (
        "processing",
        "79.99",
        "EUR",
    )
    approved = shop.service.call(
        "POST", f"/v1/sandbox/purchases/{purchase.id}/approve", shop.service.admin_key()
    )
    assert approved.status_code == 200, approved.text
    assert shop.merchant.get_purchase(purchase.id).status == "completed"
    assert [p.id for p in shop.merchant.list_purchases(customer_id="cus_ana").data] == [purchase.id]

    hour = RefundInput(api_money(Money("9.99", "EUR")), "one hour unused")
    refund = shop.admin.refund_purchase(purchase.id, hour)
    assert (refund.amount.amount, refund.purchase_id) == ("9.99", purchase.id)
    assert [r.id for r in shop.merchant.list_refunds(purchase.id).data] == [refund.id]
    assert shop.merchant.get_refund(refund.id).id == refund.id
    account = shop.merchant.get_account("cus_ana", entries=True)
    assert Decimal(account.credits) < Decimal(8)
    assert account.entries


def test_every_post_carries_its_own_idempotency_key_and_a_given_key_replays(shop: Shop) -> None:
    product_id = _package(shop)
    first = shop.merchant.create_purchase(_for_ana(product_id))
    second = shop.merchant.create_purchase(_for_ana(product_id))
    replayed = shop.merchant.create_purchase(_for_ana(product_id), idempotency_key="order-42")
    again = shop.merchant.create_purchase(_for_ana(product_id), idempotency_key="order-42")

    assert len({first.id, second.id, replayed.id}) == 3
    assert again == replayed
    keys = shop.flaky.keys
    assert all(keys) and len(set(keys[:3])) == 3 and keys[3:] == ["order-42", "order-42"]
    assert shop.count(idempotency_keys) == 4  # the product, and three purchases
    assert shop.count(purchases) == 3


def test_a_503_with_retry_after_is_retried_with_the_same_key_and_buys_once(shop: Shop) -> None:
    product_id = _package(shop)
    shop.flaky.keys.clear()
    shop.flaky.failures = 2

    purchase = shop.merchant.create_purchase(_for_ana(product_id))

    assert len(shop.flaky.keys) == 3 and len(set(shop.flaky.keys)) == 1
    assert shop.waits == [2.0, 2.0]  # as Retry-After asked
    assert shop.count(purchases) == 1
    assert shop.merchant.get_purchase(purchase.id).id == purchase.id


def test_a_429_that_outlasts_the_retries_raises_rate_limited(shop: Shop) -> None:
    shop.flaky.failures, shop.flaky.status = 10, "429 Too Many Requests"
    shop.flaky.code = "rate_limited"
    with pytest.raises(RateLimitedError) as limited:
        _package(shop)
    assert limited.value.retry_after == 2
    assert len(shop.flaky.keys) == 4 and len(set(shop.flaky.keys)) == 1


def test_a_refused_connection_is_retried_then_raises_gateway_unavailable() -> None:
    waits: list[float] = []
    client = PaymentsClient(
        f"http://127.0.0.1:{free_port()}",
        "pay_test_key",
        retries=HttpRetries(3, 0.01, waits.append),
    )
    with pytest.raises(GatewayUnavailableError) as raised:
        client.list_products()
    assert len(waits) == 2
    assert raised.value.charged_possible is False


def test_problems_raise_the_package_errors_with_their_members(shop: Shop) -> None:
    product_id = _package(shop)
    with pytest.raises(NotFoundError) as missing:
        shop.merchant.get_purchase("pur_nope")
    assert missing.value.details["status"] == 404
    assert missing.value.details["request_id"]

    with pytest.raises(ValidationError) as invalid:
        shop.merchant.create_purchase(PurchaseInput(product_id, "PT"))  # no customer named
    assert invalid.value.details["status"] == 422
    with pytest.raises(ValidationError) as bad_events:
        shop.admin.create_webhook_endpoint("http://127.0.0.1:9/hooks", ["purchase.nope"])
    assert [e.field for e in bad_events.value.errors] == ["events"]

    with pytest.raises(ForbiddenError):
        shop.merchant.refund_purchase("pur_nope")
    with pytest.raises(AuthenticationRequiredError):
        shop.client("pay_admin_not-a-real-key").list_purchases()

    purchase = shop.merchant.create_purchase(_for_ana(product_id))
    shop.service.call(
        "POST", f"/v1/sandbox/purchases/{purchase.id}/approve", shop.service.admin_key()
    )
    with pytest.raises(InvalidTransitionError):  # a completed purchase is not cancelled
        shop.merchant.cancel_purchase(purchase.id)


def test_webhook_endpoints_are_managed_through_the_client(shop: Shop) -> None:
    created = shop.admin.create_webhook_endpoint("http://127.0.0.1:9/hooks", ["*"])
    assert created.secret.startswith("whsec_")

    assert [e.id for e in shop.admin.list_webhook_endpoints().data] == [created.id]
    assert shop.admin.get_webhook_endpoint(created.id).status == "enabled"
    assert shop.admin.list_webhook_deliveries(created.id).data == []
    assert shop.admin.disable_webhook_endpoint(created.id).status == "disabled"
    with pytest.raises(NotFoundError):
        shop.admin.retry_webhook_delivery(created.id, "whd_nope")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_subscription_is_created_read_listed_and_cancelled_through_the_client(
    shop: Shop,
) -> None:
    monthly = ProductInput(
        "Pro monthly",
        ProductKind.PLAN,
        api_money(Money("29.99", "EUR")),
        "10",
        billing_cycle=BillingCycle.MONTHLY,
        trial_days=14,
    )
    plan = shop.admin.create_product(monthly)
    shop.flaky.keys.clear()
    subscribe = SubscriptionInput("cus_ana", plan.id, "PT", "pm_card_visa")

    created = shop.merchant.create_subscription(subscribe, idempotency_key="sub-ana-1")
    again = shop.merchant.create_subscription(subscribe, idempotency_key="sub-ana-1")

    assert again == created
    assert (created.status, created.plan_id, created.customer_id) == (
        "trialing",
        plan.id,
        "cus_ana",
    )
    assert shop.merchant.get_subscription(created.id) == created
    listed = shop.merchant.list_subscriptions(customer_id="cus_ana").data
    assert [s.id for s in listed] == [created.id]
    cheaper = ProductInput(
        "Basic monthly",
        ProductKind.PLAN,
        api_money(Money("9.99", "EUR")),
        "3",
        billing_cycle=BillingCycle.MONTHLY,
    )
    basic = shop.admin.create_product(cheaper)
    with pytest.raises(InvalidTransitionError):  # not while trialing
        shop.merchant.change_subscription(created.id, basic.id)
    card = shop.merchant.update_subscription_payment_method(created.id, "pm_card_visa")
    assert card.id == created.id
    usage = UsageInput("api_calls", "100", "req_1")
    recorded = shop.merchant.record_usage(created.id, usage)
    assert shop.merchant.record_usage(created.id, usage).id == recorded.id  # once per reference
    totals = shop.merchant.get_usage(created.id).totals
    assert [(t.metric, Decimal(t.quantity)) for t in totals] == [("api_calls", 100)]
    at_end = shop.merchant.cancel_subscription(created.id, at_period_end=True)
    assert at_end.cancel_at_period_end is True
    cancelled = shop.merchant.cancel_subscription(created.id)
    assert (cancelled.status, cancelled.id) == ("cancelled", created.id)
    assert shop.merchant.subscription_stats().counts.get("cancelled") == 1
    assert shop.flaky.keys[:2] == ["sub-ana-1", "sub-ana-1"] and all(shop.flaky.keys)
    with pytest.raises(NotFoundError):
        shop.merchant.get_subscription("sub_nope")


def test_an_invoice_is_read_as_json_and_as_pdf_and_revenue_counts_its_purchase(
    shop: Shop,
) -> None:
    purchase = shop.merchant.create_purchase(_for_ana(_package(shop)))
    approved = shop.merchant.sandbox_action(purchase.id, "approve")
    assert approved.purchase.status == "completed"
    invoice_id = shop.merchant.get_purchase(purchase.id).invoice_id
    assert invoice_id is not None

    invoice = shop.merchant.get_invoice(invoice_id)
    assert (invoice.purchase_id, invoice.total.amount, invoice.total.currency) == (
        purchase.id,
        "79.99",
        "EUR",
    )
    assert [i.id for i in shop.merchant.list_invoices(customer_id="cus_ana").data] == [invoice_id]
    document = shop.merchant.get_invoice_pdf(invoice_id)
    assert document.startswith(b"%PDF")
    with pytest.raises(NotFoundError):
        shop.merchant.get_invoice_pdf("inv_nope")

    revenue = shop.merchant.get_revenue("EUR")
    assert (revenue.currency, revenue.totals.count, revenue.totals.gross.amount) == (
        "EUR",
        1,
        "79.99",
    )
    with pytest.raises(ValidationError) as no_currency:
        shop.merchant.get_revenue("EURO")
    assert [e.field for e in no_currency.value.errors] == ["currency"]


def _cash_voucher(shop: Shop, product_id: str) -> tuple[str, str]:
    guest = GuestCustomer("ana@example.com", "Ana")
    purchase = shop.admin.create_purchase(
        PurchaseInput(product_id, "CO", customer=guest, payment_method="cash")
    )
    assert (purchase.gateway, purchase.status) == ("efecty", "pending")
    code = purchase.gateway_reference
    assert code is not None and code.startswith("EFY-")
    return purchase.id, code


def test_efecty_vouchers_are_confirmed_and_settled_through_the_client_once(shop: Shop) -> None:
    cash = ProductInput(
        "8 Hour Premium Package", ProductKind.PACKAGE, api_money(Money("50000", "COP")), "8", 60
    )
    product_id = shop.admin.create_product(cash).id
    purchase_id, code = _cash_voucher(shop, product_id)
    paid = VoucherConfirmation(code, api_money(Money("50000", "COP")), "R-1")

    confirmed = shop.admin.confirm_efecty_voucher(paid)

    assert (confirmed.id, confirmed.status) == (purchase_id, "completed")
    assert Decimal(shop.admin.get_account(confirmed.customer_id).credits) == 8
    with pytest.raises(ConflictError):  # the same payment of the voucher confirmed again
        shop.admin.confirm_efecty_voucher(paid)

    settled_id, settled_code = _cash_voucher(shop, product_id)
    paid_at = datetime.now(UTC).isoformat()
    settlement = (
        "code,amount,currency,receipt_number,paid_at\r\n"
        f"{settled_code},50000.00,COP,S-1,{paid_at}\r\n"
        f"EFY-11111111111111,50000,COP,S-2,{paid_at}\r\n"
    ).encode()
    report = shop.admin.import_efecty_settlement(settlement)
    again = shop.admin.import_efecty_settlement(settlement)

    assert (report.applied, [u.line for u in report.unknown]) == ([2], [3])
    assert (again.applied, [d.line for d in again.duplicate]) == ([], [2])
    assert shop.admin.get_purchase(settled_id).status == "completed"


def test_the_sandbox_clock_is_advanced_through_the_client(shop: Shop) -> None:
    before = _time(shop.admin.advance_sandbox_clock("PT0S").now)
    after = _time(shop.admin.advance_sandbox_clock("P15D").now)
    assert after - before >= timedelta(days=15)
    assert after - before < timedelta(days=15, minutes=5)
    with pytest.raises(ValidationError):
        shop.admin.advance_sandbox_clock("15 days")


def test_pse_banks_are_listed_and_a_purchase_synced_through_the_client(shop: Shop) -> None:
    listing = shop.merchant.list_pse_banks(country="CO")
    assert (listing.country, listing.gateway) == ("CO", "wompi")
    assert [b.code for b in listing.banks] == ["1", "2", "3"]

    purchase = shop.merchant.create_purchase(_for_ana(_package(shop)))
    shop.merchant.sandbox_action(purchase.id, "approve")
    synced = shop.admin.sync_purchase(purchase.id)
    assert (synced.purchase.id, synced.purchase.status) == (purchase.id, "completed")
    with pytest.raises(ForbiddenError):  # an admin's call
        shop.merchant.sync_purchase(purchase.id)
