"""Sandbox mode: make the simulated provider approve, decline or expire a purchase's payment."""

from __future__ import annotations

import falcon

from payments.domain.errors import NotFoundError
from payments.domain.services.purchases import PurchaseService
from payments.entrypoints.http import representations as rep
from payments.entrypoints.http.context import principal_of
from payments.entrypoints.http.presenters import present_purchase
from payments.sandbox.controller import SANDBOX_ACTIONS, SandboxController


class SandboxActionResource:
    """``POST /v1/sandbox/purchases/{purchase_id}/{action}``: owner, merchant or admin."""

    def __init__(self, purchases: PurchaseService, controller: SandboxController) -> None:
        self._purchases = purchases
        self._controller = controller

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, purchase_id: str, action: str
    ) -> None:
        if action not in SANDBOX_ACTIONS:
            raise NotFoundError(f"There is no sandbox action {action!r}.")
        principal = principal_of(req)
        purchase = self._purchases.get(purchase_id, principal)
        summary = self._controller.act(purchase, action)
        resp.media = rep.SandboxResult(
            present_purchase(self._purchases.get(purchase_id, principal)), summary
        )
