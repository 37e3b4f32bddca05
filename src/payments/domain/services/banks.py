"""The banks a payer can choose for a PSE transfer, from the gateways, cached with a fallback."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from payments.domain.errors import (
    FieldError,
    GatewayUnavailableError,
    PaymentsError,
    ValidationError,
)
from payments.domain.gateway import Bank, GatewayCapabilities
from payments.domain.ports import Clock
from payments.domain.routing import RoutingTable
from payments.domain.services.gateways import GatewayRegistry

log = logging.getLogger(__name__)

BANK_TRANSFER = "pse"
DEFAULT_FRESH_FOR = timedelta(hours=1)
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, slots=True)
class BankList:
    """The institutions one gateway offers, when they were fetched, and whether they are a
    fallback (the gateway could not be asked just now, so the last good list is served).

    ``gateway`` is None (and ``banks`` empty) when no configured gateway takes PSE there."""

    country: str
    gateway: str | None
    banks: tuple[Bank, ...]
    fetched_at: datetime
    stale: bool = False


class BankDirectory:
    """Asks the gateways that take PSE in a country for their institutions.

    A list is kept for ``fresh_for``; after that the gateway is asked again, and if it cannot
    answer the last good list is served (marked stale) rather than leaving payers without a
    bank to choose. With no good list at all, ``GatewayUnavailableError``. A country no gateway
    takes PSE in, or whose gateways list no bank, has an empty list, kept like any other (the
    gateways are not asked on every request); at most one list per two-letter code is kept.
    With a ``routing`` table, the gateways its rule for PSE in the country names are asked
    first, in its order: the banks a payer picks are those of the provider that will charge.
    """

    def __init__(
        self,
        gateways: GatewayRegistry,
        clock: Clock,
        fresh_for: timedelta = DEFAULT_FRESH_FOR,
        routing: RoutingTable | None = None,
    ) -> None:
        self._gateways = gateways
        self._clock = clock
        self._fresh_for = fresh_for
        self._routing = routing
        self._cache: dict[str, BankList] = {}
        self._lock = threading.Lock()

    def banks(self, country: str) -> BankList:
        """The PSE institutions for ``country`` (ISO 3166 alpha-2; anything else is a
        ``ValidationError``), possibly none."""
        if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
            raise ValidationError(
                "The country is invalid.",
                errors=[FieldError("country", "must be an ISO 3166 alpha-2 code such as 'CO'")],
            )
        now = self._clock.now()
        with self._lock:
            cached = self._cache.get(country)
        if cached is not None and now - cached.fetched_at < self._fresh_for:
            return cached
        fetched = self._fetch(country, now)
        if fetched is not None:
            with self._lock:
                self._cache[country] = fetched
            return fetched
        if cached is not None:
            return BankList(cached.country, cached.gateway, cached.banks, cached.fetched_at, True)
        raise GatewayUnavailableError(
            f"No gateway could list the PSE banks of {country} just now.", charged_possible=False
        )

    def _candidates(self, country: str) -> list[tuple[str, GatewayCapabilities]]:
        """Every gateway with its capabilities, those routing sends PSE in ``country`` to
        first, in routing order."""
        every = self._gateways.capabilities()
        routed = self._routing.chain_for(country, BANK_TRANSFER) if self._routing else ()
        first = [name for name in routed if name in every]
        rest = [name for name in every if name not in first]
        return [(name, every[name]) for name in first + rest]

    def _fetch(self, country: str, now: datetime) -> BankList | None:
        """The first non-empty list a gateway taking PSE in ``country`` gives; an empty list when
        none takes PSE there or those that answered list no bank; None when none could answer."""
        offered = answered = None
        for name, caps in self._candidates(country):
            if BANK_TRANSFER not in caps.payment_methods or (
                caps.countries is not None and country not in caps.countries
            ):
                continue
            offered = offered or name
            try:
                banks = self._gateways[name].banks(country)
            except PaymentsError as error:
                log.warning("gateway %s could not list PSE banks: %s", name, error)
                continue
            if banks:
                return BankList(country, name, tuple(banks), now)
            answered = answered or name
        if offered is None or answered is not None:
            return BankList(country, answered, (), now)
        return None
