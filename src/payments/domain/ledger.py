"""The customer ledger: append-only credit and money entries; balances are sums, never counters."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from payments.domain.money import Money


class EntryKind(StrEnum):
    PURCHASE_CREDITS = "purchase_credits"
    PURCHASE_PAYMENT = "purchase_payment"
    REFUND_CREDITS = "refund_credits"
    REFUND_PAYMENT = "refund_payment"
    REFUND_REVERSAL_CREDITS = "refund_reversal_credits"
    REFUND_REVERSAL_PAYMENT = "refund_reversal_payment"
    CONSUMPTION = "consumption"


CREDITS = "credits"
CREDIT_QUANTUM = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One signed movement of credits (``asset == "credits"``) or money (asset = currency code).

    ``source`` is unique across the whole ledger: the same purchase, refund or consumption can never
    be entered twice, whatever the application does.
    """

    id: str
    customer_id: str
    kind: EntryKind
    asset: str
    amount: Decimal
    created_at: datetime
    expires_at: datetime | None = None
    source: str
    purchase_id: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    """Money and credits moving for one customer's purchase: what its ledger entries record."""

    customer_id: str
    purchase_id: str
    amount: Money
    credits: Decimal


def purchase_entries(
    paid: Movement, *, validity_days: int | None, ids: list[str], now: datetime
) -> list[LedgerEntry]:
    """The entries a completed purchase appends: its credits (with expiry) and the money paid."""
    expiry = now + timedelta(days=validity_days) if validity_days else None
    kinds = (EntryKind.PURCHASE_PAYMENT, EntryKind.PURCHASE_CREDITS)
    source = f"purchase:{paid.purchase_id}"
    return _entries(paid, source, kinds, ids=ids, now=now, credits_expire_at=expiry)


def refund_credit_share(
    *,
    purchase_credits: Decimal,
    purchase_amount: Money,
    refund_amount: Money,
    already_debited: Decimal,
    fully_refunded: bool,
) -> Decimal:
    """Credits to take back for a refund: in proportion to the refunded share, half up to 0.01.

    The refund that completes a full refund takes back exactly what is left, so rounding never
    leaves a stray credit behind or takes one too many.
    """
    if fully_refunded:
        return purchase_credits - already_debited
    share = purchase_credits * refund_amount.amount / purchase_amount.amount
    rounded = share.quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_UP)
    return min(rounded, purchase_credits - already_debited)


def refund_entries(
    refunded: Movement, *, refund_id: str, ids: list[str], now: datetime
) -> list[LedgerEntry]:
    """The debit entries a refund appends: the money given back and the credits taken back."""
    kinds = (EntryKind.REFUND_PAYMENT, EntryKind.REFUND_CREDITS)
    return _entries(refunded, f"refund:{refund_id}", kinds, ids=ids, now=now, debit=True)


def _entries(
    movement: Movement,
    source: str,
    kinds: tuple[EntryKind, EntryKind],
    *,
    ids: list[str],
    now: datetime,
    debit: bool = False,
    credits_expire_at: datetime | None = None,
) -> list[LedgerEntry]:
    """The money entry of a purchase or refund (``{source}:payment``, id ``ids[0]``) and, when
    its credits are positive, its credits entry (``{source}:credits``, id ``ids[1]``); a debit
    enters both amounts negated."""
    payment_kind, credits_kind = kinds

    def entry(entry_id: str, kind: EntryKind, asset: str, value: Decimal, part: str) -> LedgerEntry:
        return LedgerEntry(
            id=entry_id,
            customer_id=movement.customer_id,
            kind=kind,
            asset=asset,
            amount=-value if debit else value,
            source=f"{source}:{part}",
            created_at=now,
            purchase_id=movement.purchase_id,
            expires_at=credits_expire_at if kind is credits_kind else None,
        )

    amount = movement.amount
    entries = [entry(ids[0], payment_kind, amount.currency.code, amount.amount, "payment")]
    if movement.credits > 0:
        entries.append(entry(ids[1], credits_kind, CREDITS, movement.credits, "credits"))
    return entries


def reversal_entries(
    *, ids: list[str], refund_entries_: list[LedgerEntry], refund_id: str, now: datetime
) -> list[LedgerEntry]:
    """Entries that undo a refund's debits after the provider rejected the refund."""
    kinds = {
        EntryKind.REFUND_PAYMENT: EntryKind.REFUND_REVERSAL_PAYMENT,
        EntryKind.REFUND_CREDITS: EntryKind.REFUND_REVERSAL_CREDITS,
    }
    return [
        LedgerEntry(
            id=entry_id,
            customer_id=entry.customer_id,
            kind=kinds[entry.kind],
            asset=entry.asset,
            amount=-entry.amount,
            source=f"refund:{refund_id}:reversal:{entry.asset}",
            created_at=now,
            purchase_id=entry.purchase_id,
        )
        for entry_id, entry in zip(ids, refund_entries_, strict=True)
    ]


def consumption_entry(
    *, id: str, customer_id: str, credits: Decimal, reference: str, now: datetime
) -> LedgerEntry:
    """The debit of ``credits`` consumed under the caller's ``reference`` (unique per customer)."""
    return LedgerEntry(
        id=id,
        customer_id=customer_id,
        kind=EntryKind.CONSUMPTION,
        asset=CREDITS,
        amount=-credits,
        source=f"consumption:{customer_id}:{reference}",
        created_at=now,
        reference=reference,
    )


@dataclass(slots=True)
class _Grant:
    remaining: Decimal
    expires_at: datetime | None
    purchase_id: str | None

    def live_at(self, moment: datetime) -> bool:
        return self.expires_at is None or self.expires_at > moment


@dataclass(frozen=True, slots=True)
class Account:
    """A customer's balances at one moment, computed from the ledger entries."""

    customer_id: str
    credits: Decimal
    expired_credits: Decimal
    total_paid: tuple[Money, ...]
    entries: tuple[LedgerEntry, ...]

    @classmethod
    def from_entries(cls, customer_id: str, entries: list[LedgerEntry], now: datetime) -> Account:
        """Sum the entries as of ``now``: credits that expired unused no longer count.

        Consumption draws from the grants that expire first; a refund's credit debit draws from
        its own purchase's grant first, and a rejected refund gives them back to that grant (so
        they expire with it). Whatever a debit could not draw leaves the balance lower, below
        zero if need be: refunding a package whose hours were used leaves the customer owing
        them, and the next purchase's credits cover the debt first.
        """
        ordered = sorted(entries, key=lambda e: (e.created_at, e.id))
        grants: list[_Grant] = []
        loose = Decimal(0)
        money: dict[str, Decimal] = defaultdict(Decimal)
        for entry in ordered:
            if entry.asset != CREDITS:
                money[entry.asset] += entry.amount
            elif entry.kind is EntryKind.PURCHASE_CREDITS and entry.amount > 0:
                grants.append(_Grant(entry.amount, entry.expires_at, entry.purchase_id))
            elif entry.kind is EntryKind.REFUND_REVERSAL_CREDITS and _give_back(grants, entry):
                pass  # a rejected refund's credits return to their grant, with its expiry
            elif entry.amount > 0:
                loose += entry.amount
            else:
                loose -= _draw(grants, -entry.amount, entry)
        available = loose
        expired = Decimal(0)
        for grant in grants:
            if grant.live_at(now):
                available += grant.remaining
            else:
                expired += grant.remaining
        paid = tuple(Money(amount, code) for code, amount in sorted(money.items()))
        return cls(customer_id, available, expired, paid, tuple(ordered))


def _give_back(grants: list[_Grant], entry: LedgerEntry) -> bool:
    """Return a reversal's credits to its purchase's grant; False when there is none."""
    for grant in grants:
        if entry.purchase_id is not None and grant.purchase_id == entry.purchase_id:
            grant.remaining += entry.amount
            return True
    return False


def _draw(grants: list[_Grant], wanted: Decimal, entry: LedgerEntry) -> Decimal:
    """Draw ``wanted`` credits from grants alive at the entry's time; returns what is left."""
    far_future = datetime.max.replace(tzinfo=entry.created_at.tzinfo)

    def order(grant: _Grant) -> tuple[int, datetime]:
        own = 0 if entry.purchase_id is not None and grant.purchase_id == entry.purchase_id else 1
        return own, grant.expires_at or far_future

    for grant in sorted(grants, key=order):
        if wanted <= 0:
            break
        own = entry.purchase_id is not None and grant.purchase_id == entry.purchase_id
        if not own and not grant.live_at(entry.created_at):
            continue
        taken = min(grant.remaining, wanted)
        grant.remaining -= taken
        wanted -= taken
    return wanted
