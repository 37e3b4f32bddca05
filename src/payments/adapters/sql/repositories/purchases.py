"""The SQL purchase repository: purchases with optimistic versions, and their audit trail."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select, text
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.mappers import (
    audit_from_row,
    audit_to_row,
    purchase_from_row,
    purchase_to_row,
)
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.statements import (
    AUDIT_COLUMNS,
    PURCHASE_MUTABLE,
    PURCHASE_UPDATE,
    PURCHASE_UPDATE_WITH_AUDIT,
    locked_by_gateway_references,
    purchase_updates_with_audit,
)
from payments.adapters.sql.tables import PURCHASE_OPEN, purchase_audit, purchases
from payments.domain.errors import ConflictError
from payments.domain.ports import PurchasePage, PurchaseQuery, PurchaseRepository
from payments.domain.purchase import AuditRecord, Purchase
from payments.domain.seen import SeenAggregates


class SqlPurchaseRepository(SqlRepository, PurchaseRepository):
    """Purchases on one connection; every purchase it hands out or is given is ``seen``, so that
    the unit of work writes the events it records to the outbox on commit."""

    def __init__(self, connection: Connection, seen: SeenAggregates | None = None) -> None:
        super().__init__(connection)
        self._seen = seen if seen is not None else SeenAggregates()
        self._locked: set[str] = set()  # ids read FOR UPDATE in this transaction
        # Locked ahead by ``lock_by_gateway_references``: found again without a query.
        self._locked_ahead: dict[tuple[str, str], Purchase] = {}

    def add(self, purchase: Purchase) -> None:
        """Store a new purchase and its pending audit records (then cleared).

        ``ConflictError`` when the id, reference or (gateway, gateway reference) is taken; the
        transaction stays usable.
        """
        self._insert_new(purchases, purchase_to_row(purchase), f"Purchase {purchase.id!r}")
        self._seen.seen(purchase)
        self._append_audit(purchase)

    def get(self, purchase_id: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase; ``for_update`` locks its row (PostgreSQL) until the transaction ends."""
        return self._find({"id": purchase_id}, for_update)

    def get_by_reference(self, reference: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase with our reference."""
        return self._find({"reference": reference}, for_update)

    def get_by_gateway_reference(
        self, gateway: str, gateway_reference: str, *, for_update: bool = False
    ) -> Purchase | None:
        """The purchase a provider knows by ``gateway_reference``."""
        if self._locked_ahead:
            found = self._locked_ahead.get((gateway, gateway_reference))
            if found is not None:
                return found
        return self._find({"gateway": gateway, "gateway_reference": gateway_reference}, for_update)

    def lock_by_gateway_references(self, gateway: str, gateway_references: Sequence[str]) -> None:
        """On PostgreSQL: one ``SELECT ... ORDER BY id FOR UPDATE`` of the purchases (rows are
        locked in id order, so two batches never wait on each other in a cycle); the lookups
        that follow in this transaction find them without a query. Elsewhere nothing: SQLite's
        one writer at a time needs no row locks, and its lookups do not cross a network."""
        if not self._row_locks or not gateway_references:
            return
        references = sorted(set(gateway_references))
        count = 1 << (len(references) - 1).bit_length()  # a handful of statement shapes
        references += [references[-1]] * (count - len(references))
        parameters = {"gateway": gateway, **{f"r_{i}": r for i, r in enumerate(references)}}
        statement = locked_by_gateway_references(count)
        for row in direct.fetch_all(self._connection, statement, parameters):
            purchase = self._seen.seen(purchase_from_row(row))
            self._locked.add(purchase.id)
            self._locked_ahead[(gateway, row["gateway_reference"])] = purchase

    def release(self) -> None:
        """Forget the locks taken: the transaction ended (committed or rolled back)."""
        self._locked.clear()
        self._locked_ahead.clear()

    def _find(self, keys: dict[str, Any], for_update: bool) -> Purchase | None:
        found = self._found(purchases, keys, purchase_from_row, for_update)
        if found is None:
            return None
        if for_update and self._row_locks:
            self._locked.add(found.id)
        return self._seen.seen(found)

    def save(self, purchase: Purchase) -> None:
        """Update the purchase if its stored version is still ``purchase.version``, then bump it.

        ``ConflictError`` when the version moved (a lost update), the purchase was never added,
        or its new gateway reference belongs to another purchase. For a purchase this
        transaction read ``for_update`` on PostgreSQL, the UPDATE is sent with the next statement
        or the commit, and the error is raised there.
        """
        full = purchase_to_row(purchase)
        # Only the SET columns: any other column name among the parameters would be SET too.
        row = {name: full[name] for name in PURCHASE_MUTABLE}
        row["b_id"] = purchase.id
        row["b_version"] = purchase.version
        statement = PURCHASE_UPDATE
        with_audit = self._row_locks and len(purchase.pending_audit) == 1
        if with_audit:  # the usual transition: one round trip for both
            statement = PURCHASE_UPDATE_WITH_AUDIT
            audit = audit_to_row(purchase.pending_audit[0])
            row.update({f"a_{name}": audit[name] for name in AUDIT_COLUMNS})

        def refused(error: IntegrityError) -> ConflictError:
            return ConflictError(
                f"Purchase {purchase.id!r} breaks a database constraint "
                "(is its gateway reference another purchase's?)."
            )

        def counted(written: int) -> None:
            if written != 1:
                raise ConflictError(f"Purchase {purchase.id!r} changed since it was read.")

        if purchase.id in self._locked and with_audit:
            # Its row is locked by this transaction: the version cannot move, so the UPDATE is
            # held and written with those of the other purchases of the transaction (a batch of
            # notifications), before the next statement that needs an answer or the commit.
            direct.hold(
                self._connection,
                purchase_updates_with_audit,
                [row],
                purchase_updates_with_audit,
                refused=refused,
                check=_ALL_UPDATED,
                distinct="b_id",
            )
        elif purchase.id in self._locked:
            expect = direct.Expectation(counted, refused)
            direct.execute_later(self._connection, statement, row, expect)
        else:
            try:
                written = direct.execute(self._connection, statement, row)
            except IntegrityError as error:
                raise refused(error) from error
            counted(written)
        purchase.version += 1
        self._seen.seen(purchase)
        if with_audit:
            purchase.pending_audit.clear()
        self._append_audit(purchase)

    def _append_audit(self, purchase: Purchase) -> None:
        # Held (PostgreSQL): written with the next statement that needs an answer, or the
        # commit; the purchase they name is stored by then (it was inserted or updated first).
        if purchase.pending_audit:
            self._insert_all_later(
                purchase_audit, [audit_to_row(r) for r in purchase.pending_audit]
            )
            purchase.pending_audit.clear()

    def page(self, wanted: PurchaseQuery) -> PurchasePage:
        query = select(purchases)
        if wanted.customer_id is not None:
            query = query.where(purchases.c.customer_id == wanted.customer_id)
        if wanted.status is not None:
            query = query.where(purchases.c.status == wanted.status.value)
        rows, next_cursor = self._newest_first(
            query, purchases.c.created_at, wanted.cursor, wanted.limit
        )
        return PurchasePage([self._seen.seen(purchase_from_row(row)) for row in rows], next_cursor)

    def list_open(self, *, updated_before: datetime, limit: int = 100) -> builtins.list[Purchase]:
        """Pending or processing purchases not touched since ``updated_before``, oldest first."""
        query = _open(updated_before, limit)
        return [self._seen.seen(purchase_from_row(row)) for row in self._all(query)]

    def claim_open(
        self, *, updated_before: datetime, now: datetime, limit: int = 100
    ) -> builtins.list[Purchase]:
        """``list_open``, claimed for one reconciliation sweep (``_claim``): the purchases'
        ``updated_at`` becomes ``now``, so no sweep takes them again for as long as this one
        waited (``now - updated_before``) unless they change."""
        rows = self._claim(_open(updated_before, limit), purchases, {"updated_at": now})
        return [self._seen.seen(purchase_from_row(row)) for row in rows]

    def audit_trail(self, purchase_id: str) -> builtins.list[AuditRecord]:
        """Every status change of the purchase, in the order they were recorded."""
        query = (
            select(purchase_audit)
            .where(purchase_audit.c.purchase_id == purchase_id)
            .order_by(purchase_audit.c.id)
        )
        return [audit_from_row(row) for row in self._all(query)]


_ALL_UPDATED = direct.every_row(
    lambda ids: ConflictError(f"Purchases {ids}: one changed since it was read.")
)
"""The check of held purchase UPDATEs: each one matched its version."""


def _open(updated_before: datetime, limit: int) -> Select[Any]:
    return (
        select(purchases)
        .where(
            text(PURCHASE_OPEN),  # as the partial index says, whatever the plan
            purchases.c.updated_at < updated_before,
        )
        .order_by(purchases.c.updated_at, purchases.c.id)
        .limit(limit)
    )
