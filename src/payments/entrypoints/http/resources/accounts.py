"""A customer's account: credits and payments from the ledger."""

from __future__ import annotations

import falcon

from payments.domain.errors import FieldError, ValidationError
from payments.domain.services.accounts import AccountService
from payments.entrypoints.http.context import principal_of
from payments.entrypoints.http.presenters import present_account

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def query_flag(req: falcon.Request, name: str) -> bool:
    """A boolean query parameter (``true``/``false``); anything else, a blank value included, is
    a 422 naming it."""
    value = req.get_param(name)
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValidationError(
        "The query is invalid.", errors=[FieldError(name, "must be true or false")]
    )


class AccountResource:
    """``/v1/accounts/{customer_id}``: the owner, merchants and admins; others get 404."""

    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts

    def on_get(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        with_entries = query_flag(req, "entries")
        account = self._accounts.get(customer_id, principal_of(req))
        resp.media = present_account(account, with_entries=with_entries)
