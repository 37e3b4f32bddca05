"""PSE banks: the institutions a payer can choose for a bank transfer (anyone may read)."""

from __future__ import annotations

import falcon

from payments.domain.services.banks import BankDirectory
from payments.entrypoints.http.presenters import present_bank_list

DEFAULT_COUNTRY = "CO"
CACHE_SECONDS = 300


class PseBanksResource:
    """``/v1/pse/banks?country=CO``."""

    def __init__(self, banks: BankDirectory) -> None:
        self._banks = banks

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = req.get_param("country")  # present but blank is refused, not defaulted
        country = DEFAULT_COUNTRY if given is None else given.upper()
        listing = self._banks.banks(country)
        resp.media = present_bank_list(listing)
        resp.cache_control = [f"max-age={0 if listing.stale else CACHE_SECONDS}"]
