"""Invoices on SQLite and PostgreSQL: issued once, unnumbered, in the transaction that completes
the purchase, numbered in batches after it (by the worker or before any read) without gaps or
repeats even under concurrent completions, voided by a full refund, and rendered as a PDF that
reads back."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import Engine, func, select

from payments.adapters.memory import FakeGateway, FixedClock, SequentialIds
from payments.adapters.sql.tables import invoice_counters, invoices
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.config import Settings
from payments.domain.access import Principal, Role
from payments.domain.errors import ConflictError
from payments.domain.invoice import Invoice, InvoiceStatus
from payments.domain.money import Money
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.invoicing import number_pending
from payments.entrypoints.cli.worker import run_round, worker_jobs
from payments.testing import Wired, bootstrap
from tests.integration.service import payments_env, run_payments, together

MERCHANT = Principal(Role.MERCHANT, "key_merchant")
Delivery = tuple[dict[str, str], bytes]


@dataclass
class Shop:
    """The use cases on one real database with a fake gateway, invoicing in series ``INV``
    with Colombia's 19 % included in prices."""

    engine: Engine
    gateway: FakeGateway
    wired: Wired
    product_id: str

    def paid_purchase_delivery(self, customer_id: str = "cus_ana") -> tuple[str, Delivery]:
        """A purchase the provider approved, and its notification, not delivered yet."""
        purchase = self.wired.purchases.create(
            CreatePurchase(product_id=self.product_id, country="CO", customer_id=customer_id),
            MERCHANT,
        )
        assert purchase.gateway_reference is not None
        self.gateway.approve(purchase.gateway_reference)
        [delivery] = self.gateway.drain()
        return purchase.id, delivery

    def receive(self, delivery: Delivery) -> str:
        headers, body = delivery
        return self.wired.notifications.receive(self.gateway.name, headers, body).status.value

    def invoice_of(self, purchase_id: str) -> Invoice:
        invoice_id = self.wired.purchases.get(purchase_id, MERCHANT).invoice_id
        assert invoice_id is not None
        return self.wired.invoices.get(invoice_id, MERCHANT)

    def sequences(self) -> list[int | None]:
        """The invoices' sequences in the order they were issued (ids count up)."""
        with self.engine.connect() as connection:
            statement = select(invoices.c.sequence).order_by(invoices.c.issued_at, invoices.c.id)
            return list(connection.scalars(statement))

    def counted(self) -> int | None:
        with self.engine.connect() as connection:
            return connection.scalar(select(invoice_counters.c.last_number))


def _shop(engine: Engine) -> Shop:
    gateway = FakeGateway("fake")
    wired = bootstrap(
        gateways=[gateway],
        unit_of_work=functools.partial(SqlUnitOfWork, engine),
        clock=FixedClock(),
        ids=SequentialIds(),
        settings=Settings.from_env({"PAYMENTS_TAX_RATES": "CO:19"}),
    )
    product = wired.catalog.create(
        name="8 Hour Premium Package",
        kind="package",
        price=Money("79999.99", "COP"),
        credits="8",
        validity_days=60,
    )
    return Shop(engine, gateway, wired, product.id)


@pytest.fixture
def shop(database: Engine) -> Shop:
    return _shop(database)


def test_a_paid_purchase_is_invoiced_with_its_line_and_included_tax(shop: Shop) -> None:
    purchase_id, delivery = shop.paid_purchase_delivery()
    assert shop.wired.purchases.get(purchase_id, MERCHANT).invoice_id is None

    assert shop.receive(delivery) == "processed"

    invoice = shop.invoice_of(purchase_id)
    assert invoice.number == "INV-2026-000001"
    assert invoice.status is InvoiceStatus.PAID
    assert (invoice.purchase_id, invoice.customer_id) == (purchase_id, "cus_ana")
    [line] = invoice.lines
    assert (line.description, line.quantity) == ("8 Hour Premium Package", 1)
    assert line.unit_price == line.total == Money("79999.99", "COP")
    # 79999.99 * 19 / 119 = 12773.1076... -> 12773.11; the subtotal is what remains.
    assert invoice.tax_rate == Decimal(19)
    assert invoice.figures.tax == Money("12773.11", "COP")
    assert invoice.figures.subtotal == Money("67226.88", "COP")
    assert invoice.figures.total == Money("79999.99", "COP")


def test_a_duplicate_webhook_issues_no_second_invoice(shop: Shop) -> None:
    purchase_id, delivery = shop.paid_purchase_delivery()

    answers = [shop.receive(delivery) for _ in range(3)]
    shop.wired.purchases.sync(purchase_id)  # reconciliation sees it completed too

    assert answers == ["processed", "duplicate", "duplicate"]
    assert shop.wired.invoices.number_pending() == 1
    assert shop.sequences() == [1]
    assert shop.counted() == 1


def test_invoices_are_issued_unnumbered_and_numbered_in_issue_order_by_batch(shop: Shop) -> None:
    deliveries = [shop.paid_purchase_delivery(f"cus_{n}")[1] for n in range(3)]
    for delivery in deliveries:
        shop.receive(delivery)

    assert shop.sequences() == [None, None, None]  # the completions never took the counter
    assert shop.counted() is None
    assert shop.wired.invoices.number_pending(limit=2) == 2
    assert shop.sequences() == [1, 2, None]
    assert shop.wired.invoices.number_pending() == 1
    assert shop.wired.invoices.number_pending() == 0
    assert shop.sequences() == [1, 2, 3]
    assert shop.counted() == 3


def test_the_worker_numbers_the_invoices(shop: Shop) -> None:
    shop.receive(shop.paid_purchase_delivery()[1])
    settings = shop.wired.container.settings()

    done = run_round(worker_jobs(shop.wired.container, settings))

    assert done["numbered"] == 1
    assert shop.sequences() == [1]


def test_the_database_refuses_a_second_invoice_for_one_purchase(shop: Shop) -> None:
    purchase_id, delivery = shop.paid_purchase_delivery()
    shop.receive(delivery)
    first = shop.invoice_of(purchase_id)

    with SqlUnitOfWork(shop.engine) as uow:
        again = Invoice.issue(
            id="inv_again",
            sequence=uow.invoices.next_sequence("INV", 2026),
            policy=shop.wired.container.invoicing(),
            purchase_id=purchase_id,
            customer_id="cus_ana",
            country="CO",
            description="again",
            paid=first.figures.total,
            now=first.issued_at,
        )
        with pytest.raises(ConflictError):
            _add_and_commit(uow, again)


def _add_and_commit(uow: SqlUnitOfWork, invoice: Invoice) -> None:
    """Refused at the add, or at the latest by the commit (PostgreSQL queues the insert)."""
    uow.invoices.add(invoice)
    uow.commit()


def test_a_rolled_back_numbering_burns_no_number(shop: Shop) -> None:
    purchase_id, delivery = shop.paid_purchase_delivery()
    shop.receive(delivery)
    with SqlUnitOfWork(shop.engine) as uow:
        assert number_pending(uow) == 1
        uow.rollback()
    with SqlUnitOfWork(shop.engine) as uow:
        assert uow.invoices.next_sequence("INV", 2026, 5) == 1
    # left without commit: rolled back too

    assert shop.sequences() == [None]
    assert shop.invoice_of(purchase_id).number == "INV-2026-000001"  # a read numbers first


def test_a_full_refund_voids_the_invoice_and_a_partial_one_does_not(shop: Shop) -> None:
    purchase_id, delivery = shop.paid_purchase_delivery()
    shop.receive(delivery)
    refunds = shop.wired.refunds

    refunds.refund(purchase_id, Money("10000.00", "COP"), "partial", "admin")
    assert shop.invoice_of(purchase_id).status is InvoiceStatus.PAID

    refunds.refund(purchase_id, None, "the rest", "admin")
    assert shop.invoice_of(purchase_id).status is InvoiceStatus.VOID


def test_a_failed_refund_that_had_voided_the_invoice_makes_it_paid_again(shop: Shop) -> None:
    purchase_id, delivery = shop.paid_purchase_delivery()
    shop.receive(delivery)
    refund = shop.wired.refunds.refund(purchase_id, None, "everything", "admin")
    assert shop.invoice_of(purchase_id).status is InvoiceStatus.VOID
    assert refund.gateway_reference is not None

    shop.gateway.fail_refund(refund.gateway_reference)
    assert [shop.receive(d) for d in shop.gateway.drain()] == ["processed"]

    assert shop.invoice_of(purchase_id).status is InvoiceStatus.PAID


def test_the_pdf_reads_back_with_the_number_the_line_and_the_total(shop: Shop) -> None:
    purchase_id, delivery = shop.paid_purchase_delivery()
    shop.receive(delivery)
    invoice = shop.invoice_of(purchase_id)

    _, document = shop.wired.invoices.pdf(invoice.id, MERCHANT)

    reader = pypdf.PdfReader(io.BytesIO(document))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert reader.metadata is not None and reader.metadata.title == "INV-2026-000001"
    for expected in (
        "INV-2026-000001",
        "8 Hour Premium Package",
        "79999.99 COP",  # the line and the total
        "12773.11 COP",  # the tax
        "67226.88 COP",  # the subtotal
    ):
        assert expected in text, text


@pytest.mark.postgres
def test_200_purchases_completed_at_once_on_postgresql_get_invoices_1_to_200(
    postgres_engine: Engine,
) -> None:
    shop = _shop(postgres_engine)
    deliveries = [shop.paid_purchase_delivery(f"cus_{n:03d}")[1] for n in range(200)]

    def numbering() -> str:  # the worker and readers meanwhile
        return str(shop.wired.invoices.number_pending())

    numberers = [numbering] * 20
    calls = [functools.partial(shop.receive, d) for d in deliveries]

    answers = together([*calls[:100], *numberers, *calls[100:]])

    assert answers[:100] + answers[120:] == ["processed"] * 200
    assert all(answer.isdigit() for answer in answers[100:120]), answers[100:120]
    shop.wired.invoices.number_pending()
    assert sorted(n for n in shop.sequences() if n is not None) == list(range(1, 201))
    with postgres_engine.connect() as connection:
        numbers = set(connection.scalars(select(invoices.c.number)))
        with_invoice = connection.scalar(select(func.count(func.distinct(invoices.c.purchase_id))))
    assert numbers == {f"INV-2026-{n:06d}" for n in range(1, 201)}
    assert with_invoice == 200


def test_the_cli_shows_an_invoice_and_writes_its_pdf(sqlite_engine: Engine, tmp_path: Path) -> None:
    shop = _shop(sqlite_engine)
    purchase_id, delivery = shop.paid_purchase_delivery()
    shop.receive(delivery)
    invoice = shop.invoice_of(purchase_id)
    pdf = tmp_path / "invoice.pdf"
    env = payments_env(sqlite_engine.url.render_as_string(hide_password=False))

    shown = run_payments("invoices", "show", invoice.id, "--pdf", str(pdf), env=env)
    missing = run_payments("invoices", "show", "inv_missing", env=env)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "number\tINV-2026-000001" in lines
    assert "8 Hour Premium Package\t1\t79999.99 COP\t79999.99 COP" in lines
    assert "tax (19%)\t12773.11 COP" in lines
    assert "total\t79999.99 COP" in lines
    assert "INV-2026-000001" in pypdf.PdfReader(pdf).pages[0].extract_text()
    assert missing.returncode == 2
    assert "inv_missing" in missing.stderr
