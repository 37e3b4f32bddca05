"""The sandbox provider simulator's Falcon app: its routes, authentication and checkout page."""

from __future__ import annotations

import hmac
import html
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import falcon

from payments.domain.errors import NotFoundError
from payments.sandbox.gateway_simulator.objects import SANDBOX_BANKS
from payments.sandbox.gateway_simulator.wire import ApiError, encode
from payments.sandbox.idempotency import Answer

if TYPE_CHECKING:
    from payments.sandbox.gateway_simulator.simulator import SandboxSimulator

__all__ = ["gateway_simulator_app"]


def gateway_simulator_app(
    simulator: SandboxSimulator, secret: str
) -> falcon.App[falcon.Request, falcon.Response]:
    """A Falcon WSGI app serving ``simulator``'s API, to mount under any path prefix; every
    route but the payer's checkout page demands ``Authorization: Bearer <secret>``."""
    app: falcon.App[falcon.Request, falcon.Response] = falcon.App(
        middleware=[_RequireSecret(secret.encode())]
    )
    app.add_route("/v1/banks", _BanksResource())
    app.add_route("/v1/payments", _PaymentsResource(simulator))
    app.add_route("/v1/payments/{payment_id}/cancel", _CancelResource(simulator))
    app.add_route("/v1/refunds", _RefundsResource(simulator))
    app.add_route("/checkout/{payment_id}", _CheckoutResource(simulator))
    return app


def _write(resp: falcon.Response, status: int, body: bytes) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = body


def _post(
    req: falcon.Request,
    resp: falcon.Response,
    simulator: SandboxSimulator,
    operation: Callable[[Mapping[str, object]], dict[str, object]],
    status: int,
) -> None:
    """Serve a POST through the simulator's idempotency: ``operation`` answers ``status``."""
    answer: Answer = simulator.handle_post(
        req.path,
        req.bounded_stream.read(),
        req.get_header("Idempotency-Key"),
        lambda body: (status, operation(body)),
    )
    status, body, headers = answer
    for name, value in headers.items():
        resp.set_header(name, value)
    _write(resp, status, body)


class _RequireSecret:
    """The provider's authentication: ``Authorization: Bearer <secret>`` on every API route."""

    def __init__(self, secret: bytes) -> None:
        self._expected = b"Bearer " + secret

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: object
    ) -> None:
        if isinstance(resource, _CheckoutResource):
            return  # the payer's browser carries no credentials
        given = (req.get_header("Authorization") or "").strip().encode("utf-8", "replace")
        if hmac.compare_digest(given, self._expected):
            return
        error = ApiError(
            401,
            "unauthenticated",
            "Send the sandbox secret as 'Authorization: Bearer <secret>'.",
            kind="authentication_error",
        )
        resp.set_header("WWW-Authenticate", "Bearer")
        _write(resp, 401, encode(error.body))
        resp.complete = True


class _BanksResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        country = req.get_param("country") or ""
        banks = [
            {"code": code, "name": name} for code, name in SANDBOX_BANKS.get(country, {}).items()
        ]
        _write(resp, 200, encode({"object": "list", "data": banks}))


class _PaymentsResource:
    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        reference = req.get_param("reference")
        if not reference:
            error = ApiError(400, "parameter_missing", "Give the 'reference' to look up.")
            _write(resp, error.status, encode(error.body))
            return
        _write(resp, 200, encode(self._simulator.list_payments(reference)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        prefix = req.prefix
        _post(
            req,
            resp,
            self._simulator,
            lambda body: self._simulator.create_payment(body, prefix),
            201,
        )


class _CancelResource:
    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_post(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        _post(
            req,
            resp,
            self._simulator,
            lambda _body: self._simulator.cancel_payment(payment_id),
            200,
        )


class _RefundsResource:
    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _post(req, resp, self._simulator, self._simulator.create_refund, 201)


class _CheckoutResource:
    """The page a redirect sends the payer to: it says how to settle the payment."""

    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_get(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        try:
            amount, status = self._simulator.checkout(payment_id)
        except NotFoundError:
            raise falcon.HTTPNotFound() from None
        shown = amount.to_dict()
        resp.content_type = falcon.MEDIA_HTML
        resp.text = (
            "<!doctype html><title>Sandbox checkout</title>"
            f"<h1>Sandbox payment {html.escape(payment_id)}</h1>"
            f"<p>{html.escape(shown['amount'])} {html.escape(shown['currency'])}"
            f" &middot; status <strong>{html.escape(status)}</strong></p>"
            "<p>Nothing is charged here. Settle it with "
            "<code>POST /v1/sandbox/purchases/{purchase_id}/approve</code> (or decline, expire)"
            " on the payments API.</p>"
        )
