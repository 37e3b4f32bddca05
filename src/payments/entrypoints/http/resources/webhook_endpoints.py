"""Merchant webhook endpoints (admin): create, list, read, disable; their deliveries; resend one."""

from __future__ import annotations

import falcon

from payments.domain.services.webhooks import WebhookDispatcher, WebhookEndpoints
from payments.entrypoints.http import representations as rep
from payments.entrypoints.http.answers import answer_created
from payments.entrypoints.http.bodies import WebhookEndpointInput
from payments.entrypoints.http.json_body import read_body
from payments.entrypoints.http.presenters import (
    present_created_webhook_endpoint,
    present_webhook_delivery,
    present_webhook_endpoint,
)


class WebhookEndpointsResource:
    """``/v1/webhook-endpoints``."""

    def __init__(self, endpoints: WebhookEndpoints) -> None:
        self._endpoints = endpoints

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        listed = [present_webhook_endpoint(e) for e in self._endpoints.list()]
        resp.media = rep.WebhookEndpointList(listed)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, WebhookEndpointInput)
        created = self._endpoints.create(body.url, body.events)
        endpoint = created.endpoint
        shown = present_created_webhook_endpoint(endpoint, created.secret)
        answer_created(resp, f"/v1/webhook-endpoints/{endpoint.id}", shown)


class WebhookEndpointResource:
    """``/v1/webhook-endpoints/{endpoint_id}``: read it, or ``DELETE`` to disable it."""

    def __init__(self, endpoints: WebhookEndpoints) -> None:
        self._endpoints = endpoints

    def on_get(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        resp.media = present_webhook_endpoint(self._endpoints.get(endpoint_id))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        resp.media = present_webhook_endpoint(self._endpoints.disable(endpoint_id))


class WebhookDeliveriesResource:
    """``/v1/webhook-endpoints/{endpoint_id}/deliveries``."""

    def __init__(self, endpoints: WebhookEndpoints) -> None:
        self._endpoints = endpoints

    def on_get(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        listed = [present_webhook_delivery(d) for d in self._endpoints.deliveries(endpoint_id)]
        resp.media = rep.WebhookDeliveryList(listed)


class WebhookDeliveryRetryResource:
    """``/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry``: send it now."""

    def __init__(self, dispatcher: WebhookDispatcher) -> None:
        self._dispatcher = dispatcher

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, endpoint_id: str, delivery_id: str
    ) -> None:
        resp.media = present_webhook_delivery(self._dispatcher.resend(endpoint_id, delivery_id))
