"""The SQL inbox of provider notifications: stored once, claimed by workers with a lease."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.mappers import inbox_from_row, inbox_to_row
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.statements import (
    INBOX_MUTABLE,
    INBOX_UPDATE,
    RECEIVED_CLAIM,
    FixedStatement,
    chunked,
    inbox_updates,
    insert,
    insert_returning,
)
from payments.adapters.sql.tables import INBOX_FAILED, INBOX_RECEIVED, webhook_inbox
from payments.domain.errors import ConflictError
from payments.domain.inbox import CLAIM_LEASE, InboxMessage
from payments.domain.inbox_ports import InboxRepository

_ONE_PER_EVENT = ("provider", "event_id")


class SqlInboxRepository(SqlRepository, InboxRepository):
    def add(self, message: InboxMessage) -> bool:
        """Store a notification; False (nothing written, transaction intact) for a known
        (provider, event id)."""
        row = inbox_to_row(message)
        try:
            written = direct.execute(
                self._connection, insert(webhook_inbox, tuple(row), 1, _ONE_PER_EVENT), row
            )
        except IntegrityError as error:
            raise ConflictError(f"Inbox message {message.id!r} already exists.") from error
        return written == 1

    def store_new(self, messages: Sequence[InboxMessage]) -> set[str]:
        """Store notifications of distinct events, ``MAX_ROWS_PER_INSERT`` to a statement that
        returns the ids it wrote (``ON CONFLICT DO NOTHING``: known (provider, event id) pairs are
        skipped, the transaction stays intact); the ids stored."""
        if not messages:
            return set()
        rows = [inbox_to_row(message) for message in messages]
        columns = tuple(rows[0])

        def build(count: int) -> FixedStatement:
            return insert_returning(webhook_inbox, columns, count, _ONE_PER_EVENT, ("id",))

        stored: set[str] = set()
        try:
            for statement, parameters, _ in chunked(build, rows):
                stored.update(
                    row["id"] for row in direct.fetch_all(self._connection, statement, parameters)
                )
        except IntegrityError as error:
            raise ConflictError("An inbox message of the batch already exists.") from error
        return stored

    def get(self, message_id: str) -> InboxMessage | None:
        """The message, or None."""
        return self._found(webhook_inbox, {"id": message_id}, inbox_from_row)

    def save(self, message: InboxMessage) -> None:
        """Persist the message's status, attempts and errors; ``ConflictError`` if absent."""
        full = inbox_to_row(message)
        row = {name: full[name] for name in INBOX_MUTABLE}
        row["b_id"] = message.id
        if direct.execute(self._connection, INBOX_UPDATE, row) != 1:
            raise ConflictError(f"Inbox message {message.id!r} was never added.")

    def save_all(self, messages: Sequence[InboxMessage]) -> None:
        """``save`` every message; on PostgreSQL held and written together with the others of
        the transaction (``inbox_updates``, PostgreSQL's SQL), checked before the commit."""
        if not self._row_locks:  # SQLite: one UPDATE each
            for message in messages:
                self.save(message)
            return
        rows = []
        for message in messages:
            full = inbox_to_row(message)
            row = {name: full[name] for name in INBOX_MUTABLE}
            row["b_id"] = message.id
            rows.append(row)
        direct.hold(
            self._connection,
            inbox_updates,
            rows,
            inbox_updates,
            check=_ALL_SAVED,
            distinct="b_id",
        )

    def claim_received(self, limit: int) -> builtins.list[InboxMessage]:
        """Messages stored to be applied, oldest first; on PostgreSQL taken ``FOR UPDATE SKIP
        LOCKED`` (workers applying at once take disjoint messages) and held to the commit."""
        if self._row_locks:
            rows = direct.fetch_all(self._connection, RECEIVED_CLAIM, {"limit": limit})
            return [inbox_from_row(row) for row in rows]
        query = (
            select(webhook_inbox)
            .where(text(INBOX_RECEIVED))  # as the partial index says, whatever the plan
            .order_by(webhook_inbox.c.received_at, webhook_inbox.c.id)
            .limit(limit)
        )
        return [inbox_from_row(row) for row in self._all(query)]

    def claim_due(self, now: datetime, limit: int) -> builtins.list[InboxMessage]:
        """Failed messages due by ``now``, oldest due first, leased for 5 minutes.

        On PostgreSQL the rows are taken ``FOR UPDATE SKIP LOCKED``, so concurrent workers
        claim disjoint messages; the lease (``next_attempt_at = now + 5 min``) keeps them from
        being claimed again once this transaction commits.
        """
        query = (
            select(webhook_inbox)
            .where(
                text(INBOX_FAILED),  # as the partial index says, whatever the plan
                webhook_inbox.c.next_attempt_at <= now,
            )
            .order_by(webhook_inbox.c.next_attempt_at, webhook_inbox.c.id)
            .limit(limit)
        )
        lease = {"next_attempt_at": now + CLAIM_LEASE}
        return [inbox_from_row(row) for row in self._claim(query, webhook_inbox, lease)]

    def list(self, *, status: str | None = None, limit: int = 50) -> builtins.list[InboxMessage]:
        """Recent messages, newest first, optionally of one status."""
        query = select(webhook_inbox)
        if status is not None:
            query = query.where(webhook_inbox.c.status == status)
        query = query.order_by(webhook_inbox.c.received_at.desc(), webhook_inbox.c.id.desc())
        return [inbox_from_row(row) for row in self._all(query.limit(limit))]

    def count_by_status(self) -> dict[str, int]:
        """How many messages are in each status."""
        query = select(webhook_inbox.c.status, func.count()).group_by(webhook_inbox.c.status)
        return {status: int(count) for status, count in self._connection.execute(query)}

    def for_purchase(self, purchase_id: str) -> builtins.list[InboxMessage]:
        """The messages applied to the purchase, in the order they arrived."""
        query = (
            select(webhook_inbox)
            .where(webhook_inbox.c.purchase_id == purchase_id)
            .order_by(webhook_inbox.c.received_at, webhook_inbox.c.id)
        )
        return [inbox_from_row(row) for row in self._all(query)]


_ALL_SAVED = direct.every_row(
    lambda ids: ConflictError(f"Inbox messages {ids}: one was never added.")
)
