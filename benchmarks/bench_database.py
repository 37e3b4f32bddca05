"""The benchmark's throwaway PostgreSQL database: create, seed, check the books, drop."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from signed_events import SeededPurchase
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import DBAPIError

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import purchases
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.adapters.system import SystemClock, UlidGenerator
from payments.domain.catalog import Product
from payments.domain.customer import Customer
from payments.domain.money import Money
from payments.domain.next_action import ClientSecretAction
from payments.domain.purchase import (
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
    Purchase,
    RoutingDecision,
)
from payments.domain.services.catalog import CatalogService

SEED_BATCH = 500
PRELOAD_CUSTOMER = "cus_preload"
"""Owner of every preloaded row: the checks below count only the benchmark's own rows."""
OURS = f"customer_id <> '{PRELOAD_CUSTOMER}'"
OUR_INBOX = "event_id NOT LIKE 'evt_preload_%'"
PRICE = Money("79.99", "EUR")
CREDITS = Decimal(8)


@contextmanager
def throwaway_database(server_url: str, *, keep: bool = False) -> Iterator[str]:
    """A new, migrated database on the server of ``server_url``; dropped afterwards unless
    ``keep``. Yields its URL."""
    name = f"payments_bench_{secrets.token_hex(4)}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_processing_purchases(engine: Engine, count: int, start: int = 0) -> list[SeededPurchase]:
    """One product, and ``count`` purchases (one customer each) ``processing`` at Stripe as
    ``pi_bench_<n>`` from ``n = start``, stored through the unit of work as the purchase
    service would."""
    clock, ids = SystemClock(), UlidGenerator()
    catalog = CatalogService(lambda: SqlUnitOfWork(engine), clock, ids)
    product = catalog.create(
        name="8 Hour Premium Package",
        kind="package",
        price=PRICE,
        credits=CREDITS,
        validity_days=60,
    )
    seeded: list[SeededPurchase] = []
    for first in range(start, start + count, SEED_BATCH):
        with SqlUnitOfWork(engine) as uow:
            for n in range(first, min(first + SEED_BATCH, start + count)):
                purchase = _processing_purchase(product, n, clock.now(), ids)
                uow.customers.add(Customer(purchase.customer_id, None, None, purchase.created_at))
                uow.purchases.add(purchase)
                uow.outbox.add(purchase.events)
                purchase.events.clear()
                seeded.append(
                    SeededPurchase(
                        purchase_id=purchase.id,
                        reference=purchase.reference,
                        intent_id=f"pi_bench_{n}",
                        amount_minor=purchase.amount.to_minor_units(),  # EUR: as Stripe counts it
                        currency=purchase.amount.currency.code.lower(),
                    )
                )
            uow.commit()
    return seeded


def _processing_purchase(product: Product, n: int, now: datetime, ids: UlidGenerator) -> Purchase:
    purchase = Purchase.create(
        id=ids.new("pur"),
        reference=ids.new("ref"),
        customer_id=f"cus_bench_{n}",
        product_id=product.id,
        amount=product.price,
        credits=product.credits,
        validity_days=product.validity_days,
        country="PT",
        payment_method="card",
        routing=RoutingDecision(("stripe",), "benchmark"),
        now=now,
    )
    intent = f"pi_bench_{n}"
    purchase.start_at_gateway("stripe", intent, ClientSecretAction(f"{intent}_secret_x"), now)
    purchase.apply(
        GatewayObservation(
            gateway="stripe",
            outcome=PaymentOutcome.PROCESSING,
            source=ObservationSource.RESPONSE,
            gateway_reference=intent,
            reference=purchase.reference,
            amount=purchase.amount,
        ),
        now,
        "stripe",
    )
    return purchase


@dataclass(frozen=True, slots=True)
class Check:
    """One correctness check of the books after a phase."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Books:
    """Row counts the duplicate phase must leave unchanged."""

    inbox: int
    ledger: int
    audit: int
    outbox: int


def books(engine: Engine) -> Books:
    with engine.connect() as connection:

        def scalar(sql: str) -> int:
            return int(connection.execute(text(sql)).scalar_one())

        return Books(
            inbox=scalar("SELECT count(*) FROM webhook_inbox"),
            ledger=scalar("SELECT count(*) FROM ledger_entries"),
            audit=scalar("SELECT count(*) FROM purchase_audit"),
            outbox=scalar("SELECT count(*) FROM outbox"),
        )


def check_settled_once(engine: Engine, count: int) -> list[Check]:
    """Every purchase completed once, two ledger entries each, one processed inbox message each."""
    with engine.connect() as connection:

        def scalar(sql: str) -> object:
            return connection.execute(text(sql)).scalar_one()

        completed = scalar(f"SELECT count(*) FROM purchases WHERE status = 'completed' AND {OURS}")
        total = scalar(f"SELECT count(*) FROM purchases WHERE {OURS}")
        audit_completions = scalar(
            "SELECT count(*) FROM purchase_audit WHERE to_status = 'completed'"
        )
        twice_completed = scalar(
            "SELECT count(*) FROM (SELECT purchase_id FROM purchase_audit "
            "WHERE to_status = 'completed' GROUP BY purchase_id HAVING count(*) > 1) AS t"
        )
        ledger = scalar(f"SELECT count(*) FROM ledger_entries WHERE {OURS}")
        misbooked = scalar(
            f"SELECT count(*) FROM purchases p WHERE p.{OURS} AND 2 <> (SELECT count(*) "
            "FROM ledger_entries l "
            "WHERE l.purchase_id = p.id AND l.customer_id = p.customer_id AND ("
            "(l.kind = 'purchase_credits' AND l.asset = 'credits' AND l.amount = p.credits) OR "
            "(l.kind = 'purchase_payment' AND l.asset = p.currency AND l.amount = p.amount)))"
        )
        credits = scalar(
            "SELECT coalesce(sum(amount), 0) FROM ledger_entries "
            f"WHERE asset = 'credits' AND {OURS}"
        )
        money = scalar(
            f"SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE asset = 'EUR' AND {OURS}"
        )
        inbox = scalar(f"SELECT count(*) FROM webhook_inbox WHERE {OUR_INBOX}")
        inbox_processed = scalar(
            "SELECT count(DISTINCT purchase_id) FROM webhook_inbox "
            f"WHERE status = 'processed' AND {OUR_INBOX}"
        )
    want_credits = CREDITS * count
    want_money = PRICE.amount * count
    return [
        Check("purchases completed", completed == count == total, f"{completed} of {total}"),
        Check(
            "each completed exactly once (audit)",
            audit_completions == count and twice_completed == 0,
            f"{audit_completions} completions, {twice_completed} purchases twice",
        ),
        Check(
            "2 ledger entries per purchase (credits + money)",
            ledger == 2 * count and misbooked == 0,
            f"{ledger} entries, {misbooked} purchases booked wrongly",
        ),
        Check(
            "ledger totals",
            credits == want_credits and money == want_money,
            f"{credits} credits (want {want_credits}), {money} EUR (want {want_money})",
        ),
        Check(
            "inbox messages processed",
            inbox == count and inbox_processed == count,
            f"{inbox} stored, {inbox_processed} processed for distinct purchases",
        ),
    ]


def check_unchanged(before: Books, after: Books) -> Check:
    """Duplicates must store nothing new and book nothing."""
    return Check(
        "duplicates changed nothing",
        before == after,
        f"inbox {before.inbox}->{after.inbox}, ledger {before.ledger}->{after.ledger}, "
        f"audit {before.audit}->{after.audit}, outbox {before.outbox}->{after.outbox}",
    )


def check_reference_settled(engine: Engine, count: int) -> list[Check]:
    """What the hand-written reference handler promises: completed, one inbox row and one
    money entry per purchase (it keeps no audit, outbox or credits)."""
    with engine.connect() as connection:

        def scalar(sql: str) -> object:
            return connection.execute(text(sql)).scalar_one()

        completed = scalar(f"SELECT count(*) FROM purchases WHERE status = 'completed' AND {OURS}")
        ledger = scalar(f"SELECT count(DISTINCT purchase_id) FROM ledger_entries WHERE {OURS}")
        inbox = scalar(f"SELECT count(*) FROM webhook_inbox WHERE {OUR_INBOX}")
    return [
        Check("purchases completed", completed == count, f"{completed} of {count}"),
        Check("1 ledger entry per purchase", ledger == count, f"{ledger} purchases booked"),
        Check("inbox messages", inbox == count, f"{inbox} stored"),
    ]


def preload(engine: Engine, count: int) -> None:
    """``count`` completed purchases, their processed inbox rows and two ledger entries each,
    written in bulk by PostgreSQL (``generate_series``), then ``VACUUM ANALYZE``: the benchmark at
    scale. Copies of the first seeded purchase, owned by ``PRELOAD_CUSTOMER``."""
    if count <= 0:
        return
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO customers (id, created_at) VALUES (:customer, now())"),
            {"customer": PRELOAD_CUSTOMER},
        )
        columns = [c.name for c in purchases.c]
        chosen = {
            "id": "'pur_preload_' || g",
            "reference": "'ref_preload_' || g",
            "customer_id": f"'{PRELOAD_CUSTOMER}'",
            "status": "'completed'",
            "gateway_reference": "'pi_preload_' || g",
            "completed_at": "t.updated_at",
        }
        selected = ", ".join(chosen.get(name, f"t.{name}") for name in columns)
        connection.execute(
            text(
                f"INSERT INTO purchases ({', '.join(columns)}) SELECT {selected} "
                "FROM generate_series(1, :count) AS g, "
                "(SELECT * FROM purchases ORDER BY id LIMIT 1) AS t"
            ),
            {"count": count},
        )
        for kind, asset, amount in (
            ("purchase_credits", "'credits'", "p.credits"),
            ("purchase_payment", "p.currency", "p.amount"),
        ):
            connection.execute(
                text(
                    "INSERT INTO ledger_entries (id, customer_id, kind, asset, amount, source, "
                    f"created_at, purchase_id) SELECT 'led_{kind}_' || p.id, p.customer_id, "
                    f"'{kind}', {asset}, {amount}, 'purchase\\:' || p.id || '\\:{kind}', "
                    "p.updated_at, p.id FROM purchases AS p WHERE p.customer_id = :customer"
                ),
                {"customer": PRELOAD_CUSTOMER},
            )
        connection.execute(
            text(
                "INSERT INTO webhook_inbox (id, provider, event_id, event_type, headers, body, "
                "received_at, status, attempts, processed_at, purchase_id) "
                "SELECT 'whk_' || p.id, 'stripe', 'evt_preload_' || p.id, "
                "'payment_intent.succeeded', '{}', convert_to('{}', 'UTF8'), p.updated_at, "
                "'processed', 0, p.updated_at, p.id FROM purchases AS p "
                "WHERE p.customer_id = :customer"
            ),
            {"customer": PRELOAD_CUSTOMER},
        )
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        for table in ("customers", "purchases", "ledger_entries", "webhook_inbox"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def checkpoint(engine: Engine) -> None:
    """Write every dirty page now (``CHECKPOINT``), so that no run inherits the one the runs
    before it (or its own seeding) made due; a superuser's right, skipped without it."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection, contextlib.suppress(DBAPIError):
        connection.execute(text("CHECKPOINT"))
