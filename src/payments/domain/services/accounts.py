"""Accounts: a customer's credits and payments, read from the ledger; idempotent consumption."""

from __future__ import annotations

from decimal import Decimal

from payments.domain.access import Principal
from payments.domain.errors import (
    FieldError,
    IdempotencyConflictError,
    InsufficientCreditsError,
    NotFoundError,
    ValidationError,
)
from payments.domain.events import CreditsConsumed
from payments.domain.ledger import CREDIT_QUANTUM, Account, consumption_entry
from payments.domain.services.use_case import UseCase


class AccountService(UseCase):
    """Balances and credit consumption."""

    def get(self, customer_id: str, principal: Principal) -> Account:
        """The customer's account now; ``NotFoundError`` for an unknown or foreign customer."""
        if not principal.can_read_customer(customer_id):
            raise NotFoundError(f"Account {customer_id!r} does not exist.")
        with self._uow() as uow:
            if uow.customers.get(customer_id) is None:
                raise NotFoundError(f"Account {customer_id!r} does not exist.")
            entries = uow.ledger.for_customer(customer_id)
        return Account.from_entries(customer_id, entries, self._clock.now())

    def consume(self, customer_id: str, credits: Decimal, reference: str) -> Account:
        """Debit ``credits`` under the caller's ``reference``; repeating the call changes nothing.

        Raises ``InsufficientCreditsError`` when the unexpired balance is short, and
        ``IdempotencyConflictError`` when ``reference`` was used for another amount.
        """
        if (
            not isinstance(credits, Decimal)
            or not credits.is_finite()
            or credits <= 0
            or credits != credits.quantize(Decimal("0.01"))
        ):
            raise ValidationError(
                "Bad credits.",
                errors=[FieldError("credits", "a positive Decimal with at most two decimals")],
            )
        if not isinstance(reference, str) or not reference or len(reference) > 200:
            raise ValidationError(
                "Bad reference.", errors=[FieldError("reference", "1 to 200 characters")]
            )
        now = self._clock.now()
        with self._uow() as uow:
            if uow.customers.get(customer_id, for_update=True) is None:
                raise NotFoundError(f"Account {customer_id!r} does not exist.")
            entry = consumption_entry(
                id=self._ids.new("led"),
                customer_id=customer_id,
                credits=credits,
                reference=reference,
                now=now,
            )
            existing = uow.ledger.by_source(entry.source)
            if existing is not None:
                if existing.amount != entry.amount:
                    raise IdempotencyConflictError(
                        f"Reference {reference!r} was already used for {-existing.amount} credits."
                    )
                return Account.from_entries(customer_id, uow.ledger.for_customer(customer_id), now)
            account = Account.from_entries(customer_id, uow.ledger.for_customer(customer_id), now)
            if account.credits < credits:
                available = account.credits.quantize(CREDIT_QUANTUM)
                raise InsufficientCreditsError(
                    f"Only {available} credits are available.",
                    details={"available": str(available)},
                )
            uow.ledger.append(entry)
            uow.outbox.add([CreditsConsumed(now, customer_id, credits, reference)])
            uow.commit()
            entries = [*account.entries, entry]
        return Account.from_entries(customer_id, entries, now)
