"""What every use case is built from: units of work, the clock and the id generator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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


class GatewayUseCase(UseCase):
    """A use case that also talks to the configured payment gateways."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        gateways: GatewayRegistry,
        clock: Clock,
        ids: IdGenerator,
        *,
        invoicing: InvoicePolicy | None = None,
    ) -> None:
        super().__init__(uow, clock, ids, invoicing=invoicing)
        self._gateways = gateways

    def _share_wiring(self, other: GatewayUseCase) -> None:
        """Work on ``other``'s units of work, gateways, clock, ids and invoicing policy: for a
        use case that always goes with ``other`` (purchases with their checkout)."""
        self._uow, self._gateways, self._clock = other._uow, other._gateways, other._clock
        self._ids, self._invoicing = other._ids, other._invoicing
