"""The PayU simulator's Falcon app: its two JSON APIs and the payer's bank and receipt pages."""

from __future__ import annotations

import html
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import falcon

from payments.adapters.gateways.payu.params import encode_command
from payments.domain.errors import NotFoundError
from payments.sandbox.payu_simulator.objects import CommandError

if TYPE_CHECKING:
    from payments.sandbox.payu_simulator.simulator import PayUSimulator

__all__ = ["payu_simulator_app"]

_MAX_COMMAND_BYTES: Final = 65_536


class _Api:
    """``POST /<api>/4.0/service.cgi``: a JSON command, answered with HTTP 200 and ``code``
    ``SUCCESS`` or ``ERROR`` (reference §2.4)."""

    def __init__(self, simulator: PayUSimulator, api: str) -> None:
        self._simulator = simulator
        self._api = api

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        try:
            raw = req.bounded_stream.read(_MAX_COMMAND_BYTES + 1)
            if len(raw) > _MAX_COMMAND_BYTES:
                raise CommandError("La solicitud es demasiado grande")
            try:
                body = json.loads(raw or b"null", parse_float=Decimal)
            except ValueError:
                raise CommandError("La solicitud no es JSON") from None
            if not isinstance(body, dict):
                raise CommandError("La solicitud debe ser un objeto JSON")
            answer = self._simulator.command(self._api, body, req.prefix)
        except CommandError as error:
            answer = {"code": "ERROR", "error": str(error), "transactionResponse": None}
        resp.data = encode_command(answer)


class _PayerPage:
    """Where ``BANK_URL`` or the cash receipt sends the payer: how the sandbox settles it."""

    def __init__(self, simulator: PayUSimulator, what: str) -> None:
        self._simulator = simulator
        self._what = what

    def on_get(self, req: falcon.Request, resp: falcon.Response, order_id: str) -> None:
        try:
            reference, value, currency, status = self._simulator.payer_page(order_id)
        except NotFoundError:
            raise falcon.HTTPNotFound() from None
        resp.content_type = falcon.MEDIA_HTML
        resp.text = (
            f"<!doctype html><title>PayU sandbox {self._what}</title>"
            f"<h1>PayU sandbox {self._what}, order {html.escape(order_id)}</h1>"
            f"<p>Reference {html.escape(reference)} &middot; {value} {html.escape(currency)}"
            f" &middot; status <strong>{html.escape(status)}</strong></p>"
            "<p>Nothing is charged here. Settle it with "
            "<code>POST /v1/sandbox/purchases/{purchase_id}/approve</code> (or decline, expire)"
            " on the payments API.</p>"
        )


def payu_simulator_app(simulator: PayUSimulator) -> falcon.App[falcon.Request, falcon.Response]:
    """PayU's Payments API (``SUBMIT_TRANSACTION``, ``GET_BANKS_LIST``, ``CREATE_TOKEN``,
    ``PING``) and Queries API (``ORDER_DETAIL``, ``ORDER_DETAIL_BY_REFERENCE_CODE``, ``PING``)
    at their documented paths under wherever it is mounted, and the payer's pages."""
    app: falcon.App[falcon.Request, falcon.Response] = falcon.App()
    app.add_route("/payments-api/4.0/service.cgi", _Api(simulator, "payments"))
    app.add_route("/reports-api/4.0/service.cgi", _Api(simulator, "reports"))
    app.add_route("/pse/{order_id}", _PayerPage(simulator, "PSE bank"))
    app.add_route("/receipt/{order_id}", _PayerPage(simulator, "cash receipt"))
    return app
