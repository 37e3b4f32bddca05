"""The catalog: create products (admin) and read them (anyone)."""

from __future__ import annotations

import falcon

from payments.domain.catalog import MAX_TRIAL_DAYS, MAX_VALIDITY_DAYS
from payments.domain.services.catalog import CatalogService
from payments.entrypoints.http.json_body import Fields, read_json_object
from payments.entrypoints.http.presenters import present_product


class ProductsResource:
    """``/v1/products``."""

    def __init__(self, catalog: CatalogService) -> None:
        self._catalog = catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"data": [present_product(p) for p in self._catalog.list()]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = Fields(read_json_object(req))
        name = body.text("name", required=True, max_length=200)
        kind = body.text("kind", required=True, max_length=20)
        price = body.money("price", required=True)
        credits = body.decimal_text("credits", required=True)
        validity_days = body.integer("validity_days", minimum=1, maximum=MAX_VALIDITY_DAYS)
        billing_cycle = body.text("billing_cycle", max_length=20)
        trial_days = body.integer("trial_days", minimum=0, maximum=MAX_TRIAL_DAYS)
        body.raise_for_errors()
        assert name is not None
        assert kind is not None
        assert price is not None
        assert credits is not None
        product = self._catalog.create(
            name=name,
            kind=kind,
            price=price,
            credits=credits,
            validity_days=validity_days,
            billing_cycle=billing_cycle,
            trial_days=trial_days or 0,
        )
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/products/{product.id}"
        resp.media = present_product(product)


class ProductResource:
    """``/v1/products/{product_id}``."""

    def __init__(self, catalog: CatalogService) -> None:
        self._catalog = catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response, product_id: str) -> None:
        resp.media = present_product(self._catalog.get(product_id))
