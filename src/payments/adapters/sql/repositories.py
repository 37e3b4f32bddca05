"""SQL repositories on one Connection: explicit row <-> domain translations, Core only."""

from __future__ import annotations

import base64
import builtins
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from sqlalchemy import (
    Connection,
    Executable,
    Insert,
    RowMapping,
    Select,
    Table,
    TextClause,
    bindparam,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.tables import (
    api_keys,
    customers,
    idempotency_keys,
    ledger_entries,
    outbox,
    products,
    purchase_audit,
    purchases,
    refunds,
    webhook_inbox,
)
from payments.domain.access import ApiKey, Role
from payments.domain.catalog import BillingCycle, Product, ProductKind
from payments.domain.currency import get_currency
from payments.domain.customer import Customer
from payments.domain.errors import ConflictError, FieldError, ValidationError
from payments.domain.events import DomainEvent
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.inbox import CLAIM_LEASE, InboxMessage, InboxStatus
from payments.domain.ledger import CREDITS, EntryKind, LedgerEntry
from payments.domain.money import Money
from payments.domain.ports import (
    ApiKeyRepository,
    CustomerRepository,
    IdempotencyRepository,
    InboxRepository,
    LedgerRepository,
    Outbox,
    ProductRepository,
    PurchasePage,
    PurchaseRepository,
    RefundRepository,
)
from payments.domain.purchase import (
    OPEN_STATUSES,
    AuditRecord,
    CashVoucherAction,
    ClientSecretAction,
    NextAction,
    Purchase,
    PurchaseStatus,
    RedirectAction,
    RoutingDecision,
)
from payments.domain.refund import Refund, RefundStatus

# -- translations: pure functions between rows and domain objects ----------------------------------

Row = RowMapping | Mapping[str, Any]
"""A row by column name: SQLAlchemy's ``RowMapping``, or a dict from ``direct.py``."""


def _exact(amount: Decimal, exponent: int) -> Decimal:
    """``amount`` with ``exponent`` decimals when that loses nothing (79.990000 -> 79.99)."""
    quantized = amount.quantize(Decimal(1).scaleb(-exponent))
    return quantized if quantized == amount else amount.normalize()


def _plain(amount: Decimal) -> Decimal:
    """``amount`` without trailing fractional zeros (8.000000 -> 8, 2.500000 -> 2.5)."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.normalize()


def money_from_columns(amount: Decimal, currency: str) -> Money:
    """Money read back from an amount column and a currency column, in the currency's decimals."""
    resolved = get_currency(currency)
    return Money(_exact(amount, resolved.exponent), resolved)


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def next_action_to_json(action: NextAction | None) -> str | None:
    """The next action as JSON text, keeping full precision (unlike its wire form)."""
    if action is None:
        return None
    if isinstance(action, ClientSecretAction):
        data: dict[str, object] = {
            "type": action.type,
            "client_secret": action.client_secret,
            "publishable_key": action.publishable_key,
        }
    elif isinstance(action, RedirectAction):
        data = {"type": action.type, "url": action.url}
    else:
        data = {
            "type": action.type,
            "code": action.code,
            "barcode": action.barcode,
            "amount": action.amount.to_dict(),
            "expires_at": action.expires_at.isoformat(),
            "instructions": action.instructions,
        }
    return _json(data)


def next_action_from_json(text: str | None) -> NextAction | None:
    """The next action stored by ``next_action_to_json``."""
    if text is None:
        return None
    data = json.loads(text)
    kind = data["type"]
    if kind == "client_secret":
        return ClientSecretAction(data["client_secret"], data.get("publishable_key"))
    if kind == "redirect":
        return RedirectAction(data["url"])
    if kind == "cash_voucher":
        return CashVoucherAction(
            code=data["code"],
            barcode=data["barcode"],
            amount=Money.from_dict(data["amount"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            instructions=data["instructions"],
        )
    raise ValueError(f"Unknown next action type {kind!r}.")


def product_to_row(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "kind": product.kind.value,
        "price": product.price.amount,
        "currency": product.price.currency.code,
        "credits": product.credits,
        "validity_days": product.validity_days,
        "billing_cycle": product.billing_cycle.value if product.billing_cycle else None,
        "trial_days": product.trial_days,
        "active": product.active,
        "created_at": product.created_at,
    }


def product_from_row(row: Row) -> Product:
    return Product(
        id=row["id"],
        name=row["name"],
        kind=ProductKind(row["kind"]),
        price=money_from_columns(row["price"], row["currency"]),
        credits=_plain(row["credits"]),
        validity_days=row["validity_days"],
        billing_cycle=BillingCycle(row["billing_cycle"]) if row["billing_cycle"] else None,
        trial_days=row["trial_days"],
        active=row["active"],
        created_at=row["created_at"],
    )


def customer_to_row(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "email": customer.email,
        "name": customer.name,
        "created_at": customer.created_at,
    }


def customer_from_row(row: Row) -> Customer:
    return Customer(row["id"], row["email"], row["name"], row["created_at"])


def purchase_to_row(purchase: Purchase) -> dict[str, Any]:
    """Every column of the purchase; ``version`` is the one it was read at."""
    refunded = purchase.refunded_amount
    return {
        "id": purchase.id,
        "reference": purchase.reference,
        "customer_id": purchase.customer_id,
        "product_id": purchase.product_id,
        "amount": purchase.amount.amount,
        "currency": purchase.amount.currency.code,
        "credits": purchase.credits,
        "validity_days": purchase.validity_days,
        "country": purchase.country,
        "payment_method": purchase.payment_method,
        "routing_chain": _json(list(purchase.routing.chain)),
        "routing_reason": purchase.routing.reason,
        "status": purchase.status.value,
        "gateway": purchase.gateway,
        "gateway_reference": purchase.gateway_reference,
        "next_action": next_action_to_json(purchase.next_action),
        "return_url": purchase.return_url,
        "refunded_amount": refunded.amount if refunded is not None else None,
        "needs_review": purchase.needs_review,
        "review_reason": purchase.review_reason,
        "failure_code": purchase.failure_code,
        "failure_message": purchase.failure_message,
        "created_at": purchase.created_at,
        "updated_at": purchase.updated_at,
        "completed_at": purchase.completed_at,
        "version": purchase.version,
    }


def purchase_from_row(row: Row) -> Purchase:
    currency = row["currency"]
    refunded = row["refunded_amount"]
    return Purchase(
        id=row["id"],
        reference=row["reference"],
        customer_id=row["customer_id"],
        product_id=row["product_id"],
        amount=money_from_columns(row["amount"], currency),
        credits=_plain(row["credits"]),
        validity_days=row["validity_days"],
        country=row["country"],
        payment_method=row["payment_method"],
        routing=RoutingDecision(tuple(json.loads(row["routing_chain"])), row["routing_reason"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=PurchaseStatus(row["status"]),
        gateway=row["gateway"],
        gateway_reference=row["gateway_reference"],
        next_action=next_action_from_json(row["next_action"]),
        return_url=row["return_url"],
        refunded_amount=money_from_columns(refunded, currency) if refunded is not None else None,
        needs_review=row["needs_review"],
        review_reason=row["review_reason"],
        failure_code=row["failure_code"],
        failure_message=row["failure_message"],
        completed_at=row["completed_at"],
        version=row["version"],
    )


def audit_to_row(record: AuditRecord) -> dict[str, Any]:
    return {
        "purchase_id": record.purchase_id,
        "from_status": record.from_status.value if record.from_status is not None else None,
        "to_status": record.to_status.value,
        "cause": record.cause,
        "actor": record.actor,
        "event_id": record.event_id,
        "at": record.at,
    }


def audit_from_row(row: Row) -> AuditRecord:
    before = row["from_status"]
    return AuditRecord(
        purchase_id=row["purchase_id"],
        from_status=PurchaseStatus(before) if before is not None else None,
        to_status=PurchaseStatus(row["to_status"]),
        cause=row["cause"],
        actor=row["actor"],
        event_id=row["event_id"],
        at=row["at"],
    )


def refund_to_row(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "purchase_id": refund.purchase_id,
        "customer_id": refund.customer_id,
        "amount": refund.amount.amount,
        "currency": refund.amount.currency.code,
        "reason": refund.reason,
        "status": refund.status.value,
        "gateway": refund.gateway,
        "gateway_reference": refund.gateway_reference,
        "failure_message": refund.failure_message,
        "created_at": refund.created_at,
        "updated_at": refund.updated_at,
    }


def refund_from_row(row: Row) -> Refund:
    return Refund(
        id=row["id"],
        purchase_id=row["purchase_id"],
        customer_id=row["customer_id"],
        amount=money_from_columns(row["amount"], row["currency"]),
        reason=row["reason"],
        status=RefundStatus(row["status"]),
        gateway=row["gateway"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        gateway_reference=row["gateway_reference"],
        failure_message=row["failure_message"],
    )


def ledger_entry_to_row(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "customer_id": entry.customer_id,
        "kind": entry.kind.value,
        "asset": entry.asset,
        "amount": entry.amount,
        "source": entry.source,
        "created_at": entry.created_at,
        "purchase_id": entry.purchase_id,
        "expires_at": entry.expires_at,
        "reference": entry.reference,
    }


def ledger_entry_from_row(row: Row) -> LedgerEntry:
    asset = row["asset"]
    amount = row["amount"]
    exact = _plain(amount) if asset == CREDITS else _exact(amount, get_currency(asset).exponent)
    return LedgerEntry(
        id=row["id"],
        customer_id=row["customer_id"],
        kind=EntryKind(row["kind"]),
        asset=asset,
        amount=exact,
        source=row["source"],
        created_at=row["created_at"],
        purchase_id=row["purchase_id"],
        expires_at=row["expires_at"],
        reference=row["reference"],
    )


def inbox_to_row(message: InboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "provider": message.provider,
        "event_id": message.event_id,
        "event_type": message.event_type,
        "headers": _json(message.headers),
        "body": message.body,
        "received_at": message.received_at,
        "status": message.status.value,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "last_error": message.last_error,
        "processed_at": message.processed_at,
        "purchase_id": message.purchase_id,
    }


def inbox_from_row(row: Row) -> InboxMessage:
    return InboxMessage(
        id=row["id"],
        provider=row["provider"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        headers=json.loads(row["headers"]),
        body=bytes(row["body"]),
        received_at=row["received_at"],
        status=InboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        processed_at=row["processed_at"],
        purchase_id=row["purchase_id"],
    )


def idempotency_to_row(record: IdempotencyRecord) -> dict[str, Any]:
    headers = record.response_headers
    return {
        "scope": record.scope,
        "key": record.key,
        "fingerprint": record.fingerprint,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "response_status": record.response_status,
        "response_body": record.response_body,
        "response_headers": _json(headers) if headers is not None else None,
    }


def idempotency_from_row(row: Row) -> IdempotencyRecord:
    body = row["response_body"]
    headers = row["response_headers"]
    return IdempotencyRecord(
        scope=row["scope"],
        key=row["key"],
        fingerprint=row["fingerprint"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        response_status=row["response_status"],
        response_body=bytes(body) if body is not None else None,
        response_headers=json.loads(headers) if headers is not None else None,
    )


def api_key_to_row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "secret_hash": key.secret_hash,
        "role": key.role.value,
        "customer_id": key.customer_id,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def api_key_from_row(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        prefix=row["prefix"],
        secret_hash=row["secret_hash"],
        role=Role(row["role"]),
        customer_id=row["customer_id"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def event_to_row(event: DomainEvent) -> dict[str, Any]:
    return {"name": event.name, "payload": _json(event.payload()), "occurred_at": event.occurred_at}


def encode_cursor(created_at: datetime, purchase_id: str) -> str:
    """The opaque position after the purchase created at ``created_at`` with ``purchase_id``."""
    raw = f"{created_at.isoformat()}|{purchase_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position in a cursor from ``encode_cursor``; ``ValidationError`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, purchase_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(moment)
        if created_at.tzinfo is None or not purchase_id:
            raise ValueError(cursor)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(
            "The cursor is invalid.", errors=[FieldError("cursor", "not a cursor we gave out")]
        ) from None
    return created_at, purchase_id


# -- statements built once -------------------------------------------------------------------------

_Dialect = str
_INSERTS: dict[_Dialect, Callable[[Table], Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


@functools.cache
def _insert_ignoring_duplicates(table: Table, dialect: _Dialect, *columns: str) -> Insert:
    """INSERT ... ON CONFLICT [(columns)] DO NOTHING: a duplicate writes nothing, raises nothing."""
    statement: Any = _INSERTS[dialect](table)
    statement = statement.on_conflict_do_nothing(index_elements=list(columns) or None)
    # SQLAlchemy only reads the row count of an INSERT when asked to.
    return cast(Insert, statement.execution_options(preserve_rowcount=True))


_MAX_ROWS_PER_INSERT = 16
"""Rows written by one multi-row INSERT; more are split, so a handful of shapes is ever cached."""


@functools.cache
def _insert_rows(table: Table, columns: tuple[str, ...], rows: int, *conflict: str) -> TextClause:
    """INSERT INTO table (columns) VALUES (...), ... with ``rows`` rows, whose parameters are
    named ``<column>_<row>``; with ``conflict`` columns, ON CONFLICT (...) DO NOTHING.

    Text, built once per shape: SQLAlchemy cannot cache a multi-row ``insert().values([...])``
    and compiles it on every call, which costs more than the round trips it saves. The typed
    parameters keep the columns' conversions (exact decimals, UTC times).
    """
    values = ", ".join(
        "(" + ", ".join(f":{name}_{row}" for name in columns) + ")" for row in range(rows)
    )
    # Names of our own tables and columns only (table.c[name] below refuses any other).
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values}"  # noqa: S608
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    parameters = [
        bindparam(f"{name}_{row}", type_=table.c[name].type)
        for row in range(rows)
        for name in columns
    ]
    return text(sql).bindparams(*parameters).execution_options(preserve_rowcount=True)


class _Outcome(Protocol):
    @property
    def rowcount(self) -> int: ...


def _execute(connection: Connection, statement: Executable, parameters: dict[str, Any]) -> _Outcome:
    """Run a statement built once: straight on psycopg (``direct.py``), else through Core.

    Either way the outcome has the ``rowcount``; ``_SqlRepository._one`` reads rows.
    """
    if direct.supports(connection):
        return direct.execute(connection, statement, parameters)
    return connection.execute(statement, parameters)


def _insert_all(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *conflict: str
) -> int:
    """Insert ``rows`` (same keys each) in as few statements as ``_MAX_ROWS_PER_INSERT`` allows;
    returns how many were written (rows meeting a ``conflict`` are skipped)."""
    written = 0
    for start in range(0, len(rows), _MAX_ROWS_PER_INSERT):
        chunk = rows[start : start + _MAX_ROWS_PER_INSERT]
        statement = _insert_rows(table, tuple(chunk[0]), len(chunk), *conflict)
        parameters = {
            f"{name}_{i}": value for i, row in enumerate(chunk) for name, value in row.items()
        }
        written += _execute(connection, statement, parameters).rowcount
    return written


_PURCHASE_FIXED = frozenset({"id", "reference", "customer_id", "created_at", "version"})
_PURCHASE_MUTABLE = tuple(c.name for c in purchases.c if c.name not in _PURCHASE_FIXED)
_PURCHASE_UPDATE = (
    purchases.update()
    .where(purchases.c.id == bindparam("b_id"), purchases.c.version == bindparam("b_version"))
    .values(
        {
            **{name: bindparam(name) for name in _PURCHASE_MUTABLE},
            "version": purchases.c.version + 1,
        }
    )
)
_AUDIT_COLUMNS = ("from_status", "to_status", "cause", "actor", "event_id", "at")
_PURCHASE_UPDATE_WITH_AUDIT = (
    purchase_audit.insert()
    .from_select(
        ["purchase_id", *_AUDIT_COLUMNS],
        select(
            _PURCHASE_UPDATE.returning(purchases.c.id).cte("updated").c.id,
            *(bindparam(f"a_{name}", type_=purchase_audit.c[name].type) for name in _AUDIT_COLUMNS),
        ),
    )
    .execution_options(preserve_rowcount=True)
)
"""PostgreSQL: the purchase UPDATE and its one audit record in one statement (a data-modifying
CTE); it inserts the audit row, and counts 1, only when the UPDATE matched the version."""
_REFUND_MUTABLE = ("status", "gateway_reference", "failure_message", "updated_at", "reason")
_REFUND_UPDATE = (
    refunds.update()
    .where(refunds.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in _REFUND_MUTABLE})
)
_INBOX_MUTABLE = (
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "processed_at",
    "purchase_id",
    "event_type",
)
_INBOX_UPDATE = (
    webhook_inbox.update()
    .where(webhook_inbox.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in _INBOX_MUTABLE})
)


@dataclass(frozen=True, slots=True)
class _Lookup:
    """A prepared ``SELECT * ... WHERE col = :col AND ...``, with its ``FOR UPDATE`` twin."""

    plain: Select[Any]
    locked: Select[Any]

    @classmethod
    def by(cls, table: Table, *columns: str) -> _Lookup:
        query = select(table).where(*(table.c[name] == bindparam(name) for name in columns))
        return cls(query, query.with_for_update())


_PRODUCT_BY_ID = _Lookup.by(products, "id")
_CUSTOMER_BY_ID = _Lookup.by(customers, "id")
_CUSTOMER_BY_EMAIL = _Lookup.by(customers, "email")
_PURCHASE_BY_ID = _Lookup.by(purchases, "id")
_PURCHASE_BY_REFERENCE = _Lookup.by(purchases, "reference")
_PURCHASE_BY_GATEWAY_REFERENCE = _Lookup.by(purchases, "gateway", "gateway_reference")
_REFUND_BY_ID = _Lookup.by(refunds, "id")
_REFUND_BY_GATEWAY_REFERENCE = _Lookup.by(refunds, "gateway", "gateway_reference")
_LEDGER_BY_SOURCE = _Lookup.by(ledger_entries, "source")
_INBOX_BY_ID = _Lookup.by(webhook_inbox, "id")
_IDEMPOTENCY_BY_KEY = _Lookup.by(idempotency_keys, "scope", "key")
_API_KEY_BY_HASH = _Lookup.by(api_keys, "secret_hash")
_API_KEY_BY_ID = _Lookup.by(api_keys, "id")


class _SqlRepository:
    """A repository bound to one connection (one unit of work's transaction)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dialect: _Dialect = connection.dialect.name
        if self._dialect not in _INSERTS:
            raise ValueError(f"Unsupported database dialect {self._dialect!r}.")
        # FOR UPDATE only means something on PostgreSQL; on SQLite BEGIN IMMEDIATE already
        # serializes writers.
        self._row_locks = self._dialect == "postgresql"
        self._direct = direct.supports(connection)

    def _one(self, lookup: _Lookup, params: dict[str, Any], for_update: bool = False) -> Row | None:
        statement = lookup.locked if for_update and self._row_locks else lookup.plain
        if self._direct:
            return direct.execute(self._connection, statement, params).first()
        return self._connection.execute(statement, params).mappings().first()

    def _all(self, statement: Select[Any]) -> Sequence[RowMapping]:
        return self._connection.execute(statement).mappings().all()

    def _insert_new(self, table: Table, row: dict[str, Any], what: str) -> None:
        """Insert a row that must be new: ``ConflictError`` (transaction intact) if it is not."""
        try:
            result = _execute(
                self._connection, _insert_ignoring_duplicates(table, self._dialect), row
            )
        except IntegrityError as error:
            raise ConflictError(f"{what} breaks a database constraint.") from error
        if result.rowcount != 1:
            raise ConflictError(f"{what} already exists.")


class SqlProductRepository(_SqlRepository, ProductRepository):
    def add(self, product: Product) -> None:
        """Store a new product; ``ConflictError`` if its id is taken."""
        self._insert_new(products, product_to_row(product), f"Product {product.id!r}")

    def get(self, product_id: str) -> Product | None:
        """The product, or None."""
        row = self._one(_PRODUCT_BY_ID, {"id": product_id})
        return product_from_row(row) if row is not None else None

    def list(self, *, active_only: bool = True) -> builtins.list[Product]:
        """Products ordered by creation time."""
        query = select(products).order_by(products.c.created_at, products.c.id)
        if active_only:
            query = query.where(products.c.active.is_(True))
        return [product_from_row(row) for row in self._all(query)]


class SqlCustomerRepository(_SqlRepository, CustomerRepository):
    def add(self, customer: Customer) -> None:
        """Store a new customer; ``ConflictError`` if its id or e-mail is taken."""
        self._insert_new(
            customers, customer_to_row(customer), f"Customer {customer.id!r} or its e-mail"
        )

    def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        """The customer, or None; ``for_update`` locks its row until the transaction ends."""
        row = self._one(_CUSTOMER_BY_ID, {"id": customer_id}, for_update)
        return customer_from_row(row) if row is not None else None

    def get_by_email(self, email: str) -> Customer | None:
        """The customer with this normalised e-mail, or None."""
        row = self._one(_CUSTOMER_BY_EMAIL, {"email": email})
        return customer_from_row(row) if row is not None else None


class SqlPurchaseRepository(_SqlRepository, PurchaseRepository):
    def add(self, purchase: Purchase) -> None:
        """Store a new purchase and its pending audit records (then cleared).

        ``ConflictError`` when the id, reference or (gateway, gateway reference) is taken; the
        transaction stays usable.
        """
        self._insert_new(purchases, purchase_to_row(purchase), f"Purchase {purchase.id!r}")
        self._append_audit(purchase)

    def get(self, purchase_id: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase; ``for_update`` locks its row (PostgreSQL) until the transaction ends."""
        return self._find(_PURCHASE_BY_ID, {"id": purchase_id}, for_update)

    def get_by_reference(self, reference: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase with our reference."""
        return self._find(_PURCHASE_BY_REFERENCE, {"reference": reference}, for_update)

    def get_by_gateway_reference(
        self, gateway: str, gateway_reference: str, *, for_update: bool = False
    ) -> Purchase | None:
        """The purchase a provider knows by ``gateway_reference``."""
        params = {"gateway": gateway, "gateway_reference": gateway_reference}
        return self._find(_PURCHASE_BY_GATEWAY_REFERENCE, params, for_update)

    def _find(self, lookup: _Lookup, params: dict[str, Any], for_update: bool) -> Purchase | None:
        row = self._one(lookup, params, for_update)
        return purchase_from_row(row) if row is not None else None

    def save(self, purchase: Purchase) -> None:
        """Update the purchase if its stored version is still ``purchase.version``, then bump it.

        ``ConflictError`` when the version moved (a lost update), the purchase was never added,
        or its new gateway reference belongs to another purchase.
        """
        full = purchase_to_row(purchase)
        # Only the SET columns: any other column name among the parameters would be SET too.
        row = {name: full[name] for name in _PURCHASE_MUTABLE}
        row["b_id"] = purchase.id
        row["b_version"] = purchase.version
        statement: Any = _PURCHASE_UPDATE
        with_audit = self._row_locks and len(purchase.pending_audit) == 1
        if with_audit:  # the usual transition: one round trip for both
            statement = _PURCHASE_UPDATE_WITH_AUDIT
            audit = audit_to_row(purchase.pending_audit[0])
            row.update({f"a_{name}": audit[name] for name in _AUDIT_COLUMNS})
        try:
            result = _execute(self._connection, statement, row)
        except IntegrityError as error:
            raise ConflictError(
                f"Purchase {purchase.id!r} breaks a database constraint "
                "(is its gateway reference another purchase's?)."
            ) from error
        if result.rowcount != 1:
            raise ConflictError(f"Purchase {purchase.id!r} changed since it was read.")
        purchase.version += 1
        if with_audit:
            purchase.pending_audit.clear()
        self._append_audit(purchase)

    def _append_audit(self, purchase: Purchase) -> None:
        if purchase.pending_audit:
            _insert_all(
                self._connection,
                purchase_audit,
                [audit_to_row(r) for r in purchase.pending_audit],
            )
            purchase.pending_audit.clear()

    def list(
        self,
        *,
        customer_id: str | None = None,
        status: PurchaseStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> PurchasePage:
        """Newest first by (created_at, id); ``cursor`` is the previous page's ``next_cursor``."""
        query = select(purchases)
        if customer_id is not None:
            query = query.where(purchases.c.customer_id == customer_id)
        if status is not None:
            query = query.where(purchases.c.status == status.value)
        if cursor:
            created_at, purchase_id = decode_cursor(cursor)
            query = query.where(
                (purchases.c.created_at < created_at)
                | ((purchases.c.created_at == created_at) & (purchases.c.id < purchase_id))
            )
        limit = max(limit, 0)
        query = query.order_by(purchases.c.created_at.desc(), purchases.c.id.desc())
        rows = self._all(query.limit(limit + 1))
        items = [purchase_from_row(row) for row in rows[:limit]]
        more = len(rows) > limit and bool(items)
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return PurchasePage(items, next_cursor)

    def list_open(self, *, updated_before: datetime, limit: int = 100) -> builtins.list[Purchase]:
        """Pending or processing purchases not touched since ``updated_before``, oldest first."""
        query = (
            select(purchases)
            .where(
                purchases.c.status.in_(sorted(s.value for s in OPEN_STATUSES)),
                purchases.c.updated_at < updated_before,
            )
            .order_by(purchases.c.updated_at, purchases.c.id)
            .limit(limit)
        )
        return [purchase_from_row(row) for row in self._all(query)]

    def audit_trail(self, purchase_id: str) -> builtins.list[AuditRecord]:
        """Every status change of the purchase, in the order they were recorded."""
        query = (
            select(purchase_audit)
            .where(purchase_audit.c.purchase_id == purchase_id)
            .order_by(purchase_audit.c.id)
        )
        return [audit_from_row(row) for row in self._all(query)]


class SqlRefundRepository(_SqlRepository, RefundRepository):
    def add(self, refund: Refund) -> None:
        """Store a new refund; ``ConflictError`` if its id or gateway reference is taken."""
        self._insert_new(refunds, refund_to_row(refund), f"Refund {refund.id!r}")

    def get(self, refund_id: str) -> Refund | None:
        """The refund, or None."""
        row = self._one(_REFUND_BY_ID, {"id": refund_id})
        return refund_from_row(row) if row is not None else None

    def get_by_gateway_reference(self, gateway: str, reference: str) -> Refund | None:
        """The refund a provider knows by ``reference``."""
        params = {"gateway": gateway, "gateway_reference": reference}
        row = self._one(_REFUND_BY_GATEWAY_REFERENCE, params)
        return refund_from_row(row) if row is not None else None

    def for_purchase(self, purchase_id: str) -> list[Refund]:
        """The purchase's refunds, oldest first."""
        query = (
            select(refunds)
            .where(refunds.c.purchase_id == purchase_id)
            .order_by(refunds.c.created_at, refunds.c.id)
        )
        return [refund_from_row(row) for row in self._all(query)]

    def save(self, refund: Refund) -> None:
        """Persist the refund's changes; ``ConflictError`` if it was never added."""
        full = refund_to_row(refund)
        row = {name: full[name] for name in _REFUND_MUTABLE}
        row["b_id"] = refund.id
        try:
            result = self._connection.execute(_REFUND_UPDATE, row)
        except IntegrityError as error:
            raise ConflictError(f"Refund {refund.id!r} breaks a database constraint.") from error
        if result.rowcount != 1:
            raise ConflictError(f"Refund {refund.id!r} was never added.")

    def list_unanswered(
        self, *, created_after: datetime, created_before: datetime, limit: int = 100
    ) -> list[Refund]:
        """Pending refunds without the provider's id, created in the window, oldest first."""
        query = (
            select(refunds)
            .where(
                refunds.c.status == RefundStatus.PENDING.value,
                refunds.c.gateway_reference.is_(None),
                refunds.c.created_at > created_after,
                refunds.c.created_at < created_before,
            )
            .order_by(refunds.c.created_at, refunds.c.id)
            .limit(limit)
        )
        return [refund_from_row(row) for row in self._all(query)]


class SqlLedgerRepository(_SqlRepository, LedgerRepository):
    def append(self, entry: LedgerEntry) -> bool:
        """Append an entry; False (nothing written, transaction intact) for a known source."""
        statement = _insert_ignoring_duplicates(ledger_entries, self._dialect, "source")
        try:
            result = _execute(self._connection, statement, ledger_entry_to_row(entry))
        except IntegrityError as error:
            raise ConflictError(f"Ledger entry {entry.id!r} breaks a constraint.") from error
        return result.rowcount == 1

    def append_all(self, entries: Sequence[LedgerEntry]) -> int:
        """Append the entries in one statement; returns how many were new (known sources are
        skipped, the transaction stays intact)."""
        if not entries:
            return 0
        rows = [ledger_entry_to_row(entry) for entry in entries]
        try:
            return _insert_all(self._connection, ledger_entries, rows, "source")
        except IntegrityError as error:
            ids = ", ".join(repr(entry.id) for entry in entries)
            raise ConflictError(f"Ledger entries {ids} break a constraint.") from error

    def for_customer(self, customer_id: str) -> list[LedgerEntry]:
        """The customer's entries, oldest first."""
        return self._entries(ledger_entries.c.customer_id == customer_id)

    def by_source(self, source: str) -> LedgerEntry | None:
        """The entry with this unique source, or None."""
        row = self._one(_LEDGER_BY_SOURCE, {"source": source})
        return ledger_entry_from_row(row) if row is not None else None

    def for_purchase(self, purchase_id: str) -> list[LedgerEntry]:
        """Entries about one purchase (its credits, payment and refunds), oldest first."""
        return self._entries(ledger_entries.c.purchase_id == purchase_id)

    def _entries(self, condition: Any) -> list[LedgerEntry]:
        query = (
            select(ledger_entries)
            .where(condition)
            .order_by(ledger_entries.c.created_at, ledger_entries.c.id)
        )
        return [ledger_entry_from_row(row) for row in self._all(query)]


class SqlInboxRepository(_SqlRepository, InboxRepository):
    def add(self, message: InboxMessage) -> bool:
        """Store a notification; False (nothing written, transaction intact) for a known
        (provider, event id)."""
        statement = _insert_ignoring_duplicates(
            webhook_inbox, self._dialect, "provider", "event_id"
        )
        try:
            result = _execute(self._connection, statement, inbox_to_row(message))
        except IntegrityError as error:
            raise ConflictError(f"Inbox message {message.id!r} already exists.") from error
        return result.rowcount == 1

    def get(self, message_id: str) -> InboxMessage | None:
        """The message, or None."""
        row = self._one(_INBOX_BY_ID, {"id": message_id})
        return inbox_from_row(row) if row is not None else None

    def save(self, message: InboxMessage) -> None:
        """Persist the message's status, attempts and errors; ``ConflictError`` if absent."""
        full = inbox_to_row(message)
        row = {name: full[name] for name in _INBOX_MUTABLE}
        row["b_id"] = message.id
        result = self._connection.execute(_INBOX_UPDATE, row)
        if result.rowcount != 1:
            raise ConflictError(f"Inbox message {message.id!r} was never added.")

    def claim_due(self, now: datetime, limit: int) -> builtins.list[InboxMessage]:
        """Failed messages due by ``now``, oldest due first, leased for 5 minutes.

        On PostgreSQL the rows are taken ``FOR UPDATE SKIP LOCKED``, so concurrent workers
        claim disjoint messages; the lease (``next_attempt_at = now + 5 min``) keeps them from
        being claimed again once this transaction commits.
        """
        query = (
            select(webhook_inbox)
            .where(
                webhook_inbox.c.status == InboxStatus.FAILED.value,
                webhook_inbox.c.next_attempt_at <= now,
            )
            .order_by(webhook_inbox.c.next_attempt_at, webhook_inbox.c.id)
            .limit(limit)
        )
        if self._row_locks:
            query = query.with_for_update(skip_locked=True)
        claimed = [inbox_from_row(row) for row in self._all(query)]
        if not claimed:
            return []
        lease = now + CLAIM_LEASE
        self._connection.execute(
            webhook_inbox.update()
            .where(webhook_inbox.c.id.in_([m.id for m in claimed]))
            .values(next_attempt_at=lease)
        )
        for message in claimed:
            message.next_attempt_at = lease
        return claimed

    def list(self, *, status: str | None = None, limit: int = 50) -> builtins.list[InboxMessage]:
        """Recent messages, newest first, optionally of one status."""
        query = select(webhook_inbox)
        if status is not None:
            query = query.where(webhook_inbox.c.status == status)
        query = query.order_by(webhook_inbox.c.received_at.desc(), webhook_inbox.c.id.desc())
        return [inbox_from_row(row) for row in self._all(query.limit(limit))]


class SqlIdempotencyRepository(_SqlRepository, IdempotencyRepository):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Claim ``(scope, key)``: None when claimed now (new, or replacing an expired record);
        the existing live record otherwise."""
        row = idempotency_to_row(record)
        key = (idempotency_keys.c.scope == record.scope) & (idempotency_keys.c.key == record.key)
        inserted = self._connection.execute(
            _insert_ignoring_duplicates(idempotency_keys, self._dialect, "scope", "key"), row
        )
        if inserted.rowcount == 1:
            return None
        replaced = self._connection.execute(
            idempotency_keys.update()
            .where(key, idempotency_keys.c.expires_at <= record.created_at)
            .values({k: v for k, v in row.items() if k not in ("scope", "key")})
        )
        if replaced.rowcount == 1:
            return None
        existing = self._one(_IDEMPOTENCY_BY_KEY, {"scope": record.scope, "key": record.key})
        if existing is None:  # released or purged in between: the key is free again
            return self.claim(record)
        return idempotency_from_row(existing)

    def finish(self, record: IdempotencyRecord) -> None:
        """Store the response of a claimed key (insert or replace the record)."""
        row = idempotency_to_row(record)
        statement: Any = _INSERTS[self._dialect](idempotency_keys)
        statement = statement.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={k: statement.excluded[k] for k in row if k not in ("scope", "key")},
        )
        self._connection.execute(statement, row)

    def release(self, scope: str, key: str) -> None:
        """Drop an unfinished claim; a finished record stays."""
        self._connection.execute(
            idempotency_keys.delete().where(
                idempotency_keys.c.scope == scope,
                idempotency_keys.c.key == key,
                idempotency_keys.c.response_status.is_(None),
            )
        )

    def purge_expired(self, now: datetime) -> int:
        """Forget keys whose lifetime ended by ``now``; returns how many."""
        result = self._connection.execute(
            idempotency_keys.delete().where(idempotency_keys.c.expires_at <= now)
        )
        return result.rowcount


class SqlApiKeyRepository(_SqlRepository, ApiKeyRepository):
    def add(self, key: ApiKey) -> None:
        """Store a new key; ``ConflictError`` if its id or secret hash is taken."""
        self._insert_new(api_keys, api_key_to_row(key), f"API key {key.id!r}")

    def get_by_hash(self, secret_hash: str) -> ApiKey | None:
        """The key whose secret hashes to ``secret_hash``, or None."""
        row = self._one(_API_KEY_BY_HASH, {"secret_hash": secret_hash})
        return api_key_from_row(row) if row is not None else None

    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""
        row = self._one(_API_KEY_BY_ID, {"id": key_id})
        return api_key_from_row(row) if row is not None else None

    def list(self) -> builtins.list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        return [api_key_from_row(row) for row in self._all(query)]

    def revoke(self, key_id: str, at: datetime) -> None:
        """Mark the key revoked at ``at``; one already revoked keeps its first time."""
        self._connection.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class SqlOutbox(_SqlRepository, Outbox):
    def add(self, events: Sequence[DomainEvent]) -> None:
        """Store the events in this transaction, in order, unpublished."""
        if events:
            _insert_all(self._connection, outbox, [event_to_row(e) for e in events])
