"""The SQL ledger: append-only entries, one per source."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql.mappers import ledger_entry_from_row, ledger_entry_to_row
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.tables import ledger_entries
from payments.domain.errors import ConflictError
from payments.domain.ledger import LedgerEntry
from payments.domain.ports import LedgerRepository

_BY_SOURCE = ("source",)


class SqlLedgerRepository(SqlRepository, LedgerRepository):
    def append(self, entry: LedgerEntry) -> bool:
        """Append an entry; False (nothing written, transaction intact) for a known source."""
        try:
            return self._insert_all(ledger_entries, [ledger_entry_to_row(entry)], _BY_SOURCE) == 1
        except IntegrityError as error:
            raise ConflictError(f"Ledger entry {entry.id!r} breaks a constraint.") from error

    def append_all(self, entries: Sequence[LedgerEntry]) -> int:
        """Append the entries in one statement; returns how many were new (known sources are
        skipped, the transaction stays intact)."""
        if not entries:
            return 0
        rows = [ledger_entry_to_row(entry) for entry in entries]
        try:
            return self._insert_all(ledger_entries, rows, _BY_SOURCE)
        except IntegrityError as error:
            ids = ", ".join(repr(entry.id) for entry in entries)
            raise ConflictError(f"Ledger entries {ids} break a constraint.") from error

    def book(self, entries: Sequence[LedgerEntry]) -> None:
        """``append_all`` sent with the next statement or the commit (on PostgreSQL); a broken
        constraint is a ``ConflictError`` there."""
        if entries:
            self._insert_all_later(
                ledger_entries,
                [ledger_entry_to_row(entry) for entry in entries],
                _BY_SOURCE,
                refused=lambda error: ConflictError(
                    f"Ledger entries {', '.join(repr(e.id) for e in entries)} break a constraint."
                ),
            )

    def for_customer(self, customer_id: str) -> list[LedgerEntry]:
        """The customer's entries, oldest first."""
        return self._entries(ledger_entries.c.customer_id == customer_id)

    def by_source(self, source: str) -> LedgerEntry | None:
        """The entry with this unique source, or None."""
        return self._found(ledger_entries, {"source": source}, ledger_entry_from_row)

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
