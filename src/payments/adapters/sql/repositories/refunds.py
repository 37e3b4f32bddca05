"""The SQL refund repository."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.mappers import refund_from_row, refund_to_row
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.statements import REFUND_MUTABLE, REFUND_UPDATE
from payments.adapters.sql.tables import refunds
from payments.domain.errors import ConflictError
from payments.domain.ports import RefundRepository
from payments.domain.refund import Refund, RefundStatus


class SqlRefundRepository(SqlRepository, RefundRepository):
    def add(self, refund: Refund) -> None:
        """Store a new refund; ``ConflictError`` if its id or gateway reference is taken."""
        self._insert_new(refunds, refund_to_row(refund), f"Refund {refund.id!r}")

    def get(self, refund_id: str) -> Refund | None:
        """The refund, or None."""
        return self._found(refunds, {"id": refund_id}, refund_from_row)

    def get_by_gateway_reference(self, gateway: str, reference: str) -> Refund | None:
        """The refund a provider knows by ``reference``."""
        keys = {"gateway": gateway, "gateway_reference": reference}
        return self._found(refunds, keys, refund_from_row)

    def for_purchase(self, purchase_id: str) -> list[Refund]:
        """The purchase's refunds, oldest first."""
        return self._refunds(refunds.c.purchase_id == purchase_id)

    def save(self, refund: Refund) -> None:
        """Persist the refund's changes; ``ConflictError`` if it was never added."""
        full = refund_to_row(refund)
        row = {name: full[name] for name in REFUND_MUTABLE}
        row["b_id"] = refund.id
        try:
            written = direct.execute(self._connection, REFUND_UPDATE, row)
        except IntegrityError as error:
            raise ConflictError(f"Refund {refund.id!r} breaks a database constraint.") from error
        if written != 1:
            raise ConflictError(f"Refund {refund.id!r} was never added.")

    def list_unanswered(
        self, *, created_after: datetime, created_before: datetime, limit: int = 100
    ) -> list[Refund]:
        """Pending refunds without the provider's id, created in the window, oldest first."""
        return self._refunds(*_unanswered(created_after, created_before), limit=limit)

    def claim_unanswered(
        self, *, created_after: datetime, created_before: datetime, now: datetime, limit: int = 100
    ) -> list[Refund]:
        """``list_unanswered``, less those touched since ``created_before``, claimed for one
        resend sweep (``_claim``): their ``updated_at`` becomes ``now``, so no sweep takes them
        again for as long as this one waited (``now - created_before``)."""
        query = (
            select(refunds)
            .where(*_unanswered(created_after, created_before))
            .where(refunds.c.updated_at < created_before)
            .order_by(refunds.c.created_at, refunds.c.id)
            .limit(limit)
        )
        return [refund_from_row(row) for row in self._claim(query, refunds, {"updated_at": now})]

    def _refunds(self, *conditions: ColumnElement[bool], limit: int | None = None) -> list[Refund]:
        query = select(refunds).where(*conditions).order_by(refunds.c.created_at, refunds.c.id)
        return [refund_from_row(row) for row in self._all(query.limit(limit))]


def _unanswered(created_after: datetime, created_before: datetime) -> list[ColumnElement[bool]]:
    return [
        refunds.c.status == RefundStatus.PENDING.value,
        refunds.c.gateway_reference.is_(None),
        refunds.c.created_at > created_after,
        refunds.c.created_at < created_before,
    ]
