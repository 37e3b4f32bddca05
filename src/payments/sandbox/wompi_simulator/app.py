"""The Wompi simulator's Falcon app: Wompi's routes, which key each takes, its error shape."""

from __future__ import annotations

import hmac
import html
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

import falcon

from payments.sandbox.wompi_simulator.objects import ApiError, encode, validation_error
from payments.sandbox.wompi_simulator.operations import not_found, unauthorized

if TYPE_CHECKING:
    from payments.sandbox.wompi_simulator.simulator import WompiSimulator

__all__ = ["wompi_simulator_app"]

PUBLIC: Final = "public"
PRIVATE: Final = "private"
EITHER: Final = "either"


def _write(resp: falcon.Response, status: int, payload: Mapping[str, object]) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = encode(payload)


def _read(req: falcon.Request) -> Mapping[str, object]:
    try:
        body = json.loads(req.bounded_stream.read() or b"{}")
    except ValueError:
        raise validation_error("body", "El cuerpo no es JSON") from None
    if not isinstance(body, dict):
        raise validation_error("body", "El cuerpo debe ser un objeto JSON")
    return body


class _Route:
    """One route: the key it takes (reference §3.1) and the simulator call that answers it."""

    def __init__(self, simulator: WompiSimulator, key: str) -> None:
        self._simulator = simulator
        self._key = key

    def _authorize(self, req: falcon.Request, key: str) -> None:
        given = (req.get_header("Authorization") or "").strip().encode("utf-8", "replace")
        keys = {
            PUBLIC: (self._simulator.public_key,),
            PRIVATE: (self._simulator.private_key,),
            EITHER: (self._simulator.public_key, self._simulator.private_key),
        }[key]
        matches = [hmac.compare_digest(given, f"Bearer {key}".encode()) for key in keys]
        if not any(matches):
            raise unauthorized()

    def _answer(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        status: int,
        call: Callable[[], dict[str, object]],
        *,
        key: str | None = None,
    ) -> None:
        try:
            self._authorize(req, key or self._key)
            payload = call()
        except ApiError as error:
            _write(resp, error.status, error.body)
            return
        _write(resp, status, payload)


class _Merchant(_Route):
    def on_get(self, req: falcon.Request, resp: falcon.Response, public_key: str) -> None:
        # Wompi serves the acceptance tokens to anyone who knows the public key in the path.
        try:
            _write(resp, 200, self._simulator.merchant(public_key))
        except ApiError as error:
            _write(resp, error.status, error.body)


class _CardTokens(_Route):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._answer(req, resp, 201, lambda: self._simulator.tokenize_card(_read(req)))


class _Banks(_Route):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._answer(req, resp, 200, self._simulator.banks)


class _Transactions(_Route):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        prefix = req.prefix
        self._answer(req, resp, 201, lambda: self._simulator.create_transaction(_read(req), prefix))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        reference = req.get_param("reference") or ""

        def listing() -> dict[str, object]:
            if not reference:
                raise validation_error("reference", "Indique la referencia")
            return self._simulator.transactions_under(reference)

        self._answer(req, resp, 200, listing, key=PRIVATE)


class _Transaction(_Route):
    def on_get(self, req: falcon.Request, resp: falcon.Response, transaction_id: str) -> None:
        self._answer(req, resp, 200, lambda: self._simulator.transaction(transaction_id))


class _Void(_Route):
    def on_post(self, req: falcon.Request, resp: falcon.Response, transaction_id: str) -> None:
        self._answer(req, resp, 200, lambda: self._simulator.void(transaction_id))


class _PayerPage:
    """Where ``async_payment_url`` sends the payer: it says how the sandbox settles it."""

    def __init__(self, simulator: WompiSimulator) -> None:
        self._simulator = simulator

    def on_get(self, req: falcon.Request, resp: falcon.Response, transaction_id: str) -> None:
        try:
            reference, cents, status = self._simulator.payer_page(transaction_id)
        except ApiError:
            raise falcon.HTTPNotFound() from None
        resp.content_type = falcon.MEDIA_HTML
        resp.text = (
            "<!doctype html><title>Wompi sandbox</title>"
            f"<h1>Wompi sandbox transaction {html.escape(transaction_id)}</h1>"
            f"<p>Reference {html.escape(reference)} &middot; {cents} centavos (COP)"
            f" &middot; status <strong>{html.escape(status)}</strong></p>"
            "<p>Nothing is charged here. Settle it with "
            "<code>POST /v1/sandbox/purchases/{purchase_id}/approve</code> (or decline, expire)"
            " on the payments API.</p>"
        )


def _serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Falcon's own errors (unknown URL, wrong method) in Wompi's error shape."""
    resp.content_type = falcon.MEDIA_JSON
    invalid = {"error": {"type": "INPUT_VALIDATION_ERROR", "messages": {}}}
    resp.data = encode(not_found().body if error.status_code == 404 else invalid)


def wompi_simulator_app(simulator: WompiSimulator) -> falcon.App[falcon.Request, falcon.Response]:
    """Wompi's API for the calls ``WompiGateway`` makes, under ``/v1`` of wherever it is
    mounted: the merchant's acceptance tokens (no key), card tokens (public key), PSE banks and
    one transaction (either key), the transaction list by reference, new transactions and voids
    (private key; a new transaction takes the public key too). A wrong key is 401
    ``INVALID_ACCESS_TOKEN``, an unknown object 404 ``NOT_FOUND_ERROR``, a bad field 422
    ``INPUT_VALIDATION_ERROR`` (reference §3.8). ``/pay/{id}`` is the payer's page."""
    app: falcon.App[falcon.Request, falcon.Response] = falcon.App()
    app.add_route("/v1/merchants/{public_key}", _Merchant(simulator, PUBLIC))
    app.add_route("/v1/tokens/cards", _CardTokens(simulator, PUBLIC))
    app.add_route("/v1/pse/financial_institutions", _Banks(simulator, EITHER))
    app.add_route("/v1/transactions", _Transactions(simulator, EITHER))
    app.add_route("/v1/transactions/{transaction_id}", _Transaction(simulator, EITHER))
    app.add_route("/v1/transactions/{transaction_id}/void", _Void(simulator, PRIVATE))
    app.add_route("/pay/{transaction_id}", _PayerPage(simulator))
    app.set_error_serializer(_serialize_error)
    return app
