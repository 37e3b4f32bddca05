"""What every use case is built from: units of work, the clock and the id generator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from payments.domain.invoice import InvoicePolicy
from payments.domain.ports import Clock, IdGenerator, UnitOfWork
from payments.domain.services.gateways import GatewayRegistry

T = TypeVar("T")

Progress = Callable[[int, int], None]
"""Told ``(done, total)`` after each item of a long use case (a command's progress bar)."""


def reporting(items: Sequence[T], progress: Progress | None) -> Iterator[T]:
    """``items`` one by one, telling ``progress`` after each one is done (also when the loop
    went on to the next with ``continue``)."""
    for done, item in enumerate(items, 1):
        yield item
        if progress is not None:
            progress(done, len(items))


class UseCase:
    """A use case that runs in fresh units of work, reads the time from ``clock``, names new
    records with ``ids``, and invoices the payments it sees complete under ``invoicing`` (by
    default series ``INV``, no tax)."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        ids: IdGenerator,
        *,
        invoicing: InvoicePolicy | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._invoicing = invoicing or InvoicePolicy()


@dataclass(frozen=True, slots=True)
class GatewayWiring:
    """What every use case that talks to the payment gateways is built from: units of work,
    the gateways, the clock, the id generator and the invoicing policy (``None``: the default
    series ``INV``, no tax)."""

    uow: Callable[[], UnitOfWork]
    gateways: GatewayRegistry
    clock: Clock
    ids: IdGenerator
    invoicing: InvoicePolicy | None = None


class GatewayUseCase(UseCase):
    """A use case that also talks to the configured payment gateways; ``wiring`` is what it was
    built from (a use case that always goes with this one is built from the same)."""

    def __init__(self, wiring: GatewayWiring) -> None:
        super().__init__(wiring.uow, wiring.clock, wiring.ids, invoicing=wiring.invoicing)
        self._gateways = wiring.gateways
        self.wiring = wiring
