"""The Stripe simulator's Falcon app: Stripe's routes, authentication and error shape."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import falcon

from payments.sandbox.delivery import Deliver
from payments.sandbox.stripe_simulator.account import StripeSimulatorState
from payments.sandbox.stripe_simulator.errors import ApiError, encode
from payments.sandbox.stripe_simulator.objects import API_VERSION, WEBHOOK_PATH, new_id

__all__ = ["StripeSimulatorApp", "make_stripe_simulator"]


def _write(resp: falcon.Response, status: int, body: bytes, headers: Mapping[str, str]) -> None:
    resp.status = status
    resp.content_type = "application/json"
    resp.set_header("Request-Id", new_id("req"))
    resp.set_header("Stripe-Version", API_VERSION)
    for name, value in headers.items():
        resp.set_header(name, value)
    resp.data = body


class _RequireSecretKey:
    """Stripe's authentication: ``Authorization: Bearer sk_...`` (any secret or restricted key)."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        scheme, _, key = (req.get_header("Authorization") or "").partition(" ")
        if scheme != "Bearer" or not key.startswith(("sk_", "rk_")) or len(key) < 8:
            error = ApiError(
                401,
                "You did not provide a valid API key. Send it as 'Authorization: Bearer sk_...'.",
            )
            _write(resp, 401, encode(error.body), {})
            resp.complete = True


class _OnAccount:
    """A route of the simulated account ``state``."""

    def __init__(self, state: StripeSimulatorState) -> None:
        self._state = state

    def _post(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        operation: Callable[[dict[str, Any]], dict[str, object]],
    ) -> None:
        """Run ``operation`` on the form's parameters, honouring ``Idempotency-Key``."""
        raw = req.bounded_stream.read()
        key = req.get_header("Idempotency-Key")
        _write(resp, *self._state.handle_post(req.path, raw, key, operation))


class _PaymentIntents(_OnAccount):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        version = req.get_header("Stripe-Version") or API_VERSION
        self._post(req, resp, lambda p: self._state.create_payment_intent(p, version))


class _PaymentIntent(_OnAccount):
    def on_get(self, req: falcon.Request, resp: falcon.Response, intent_id: str) -> None:
        status, body = self._state.handle_get(
            req.path, lambda: self._state.retrieve_payment_intent(intent_id)
        )
        _write(resp, status, body, {})


class _Post(_OnAccount):
    """A POST route that runs one account operation on the URL's id (if the route has one)
    and the form's parameters."""

    def __init__(
        self, state: StripeSimulatorState, operation: Callable[..., dict[str, object]]
    ) -> None:
        super().__init__(state)
        self._operation = operation

    def on_post(self, req: falcon.Request, resp: falcon.Response, **url_ids: str) -> None:
        self._post(req, resp, lambda p: self._operation(*url_ids.values(), p))


def _serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Falcon's own errors (unknown URL, wrong method) in Stripe's error shape."""
    message = f"Unrecognized request URL ({req.method}: {req.path})."
    if error.status_code != 404:
        message = error.title or "Invalid request."
    resp.content_type = "application/json"
    resp.data = encode({"error": {"type": "invalid_request_error", "message": message}})


class StripeSimulatorApp(falcon.App[falcon.Request, falcon.Response]):
    """The simulator's WSGI app; ``state`` is the account it serves (and acts on)."""

    def __init__(self, state: StripeSimulatorState) -> None:
        super().__init__(middleware=[_RequireSecretKey()])
        self.state = state
        self.add_route("/v1/payment_intents", _PaymentIntents(state))
        self.add_route("/v1/payment_intents/{intent_id}", _PaymentIntent(state))
        cancel = _Post(state, state.cancel_payment_intent)
        self.add_route("/v1/payment_intents/{intent_id}/cancel", cancel)
        self.add_route("/v1/refunds", _Post(state, state.create_refund))
        self.add_route("/v1/customers", _Post(state, state.create_customer))
        attach = _Post(state, state.attach_payment_method)
        self.add_route("/v1/payment_methods/{method_id}/attach", attach)
        self.set_error_serializer(_serialize_error)


def make_stripe_simulator(
    *,
    webhook_secret: str,
    deliver: Deliver | None = None,
    clock: Callable[[], float] = time.time,
    webhook_path: str = WEBHOOK_PATH,
) -> StripeSimulatorApp:
    """A Falcon WSGI app speaking Stripe's wire format for the calls ``StripeGateway`` makes.

    Routes (relative to wherever it is mounted; point ``StripeClient(key, base_addresses=
    {"api": base})`` at it): ``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}``,
    ``POST /v1/payment_intents/{id}/cancel``, ``POST /v1/refunds``, ``POST /v1/customers``,
    ``POST /v1/payment_methods/{id}/attach`` (Stripe's test tokens ``pm_card_visa`` and
    ``pm_card_chargeCustomerFail``; an intent created with ``confirm`` and ``off_session`` is
    charged on the customer's saved card at once). Bodies are form-encoded with
    bracket notation, answers are Stripe-shaped JSON, errors ``{"error": {...}}`` with Stripe's
    status codes (400, 401, 404), and ``Idempotency-Key`` is honoured. The returned app's
    ``state`` (a ``StripeSimulatorState``) approves, declines and expires payments and sends
    signed events to ``deliver(url_path, headers, body)``.
    """
    state = StripeSimulatorState(
        webhook_secret=webhook_secret, deliver=deliver, clock=clock, webhook_path=webhook_path
    )
    return StripeSimulatorApp(state)
