"""The catalog: create products (admin) and read them (anyone)."""

from __future__ import annotations

import falcon

from payments.domain.services.catalog import CatalogService
from payments.entrypoints.http import representations as rep
from payments.entrypoints.http.answers import answer_created
from payments.entrypoints.http.bodies import ProductInput
from payments.entrypoints.http.json_body import read_body, to_money
from payments.entrypoints.http.presenters import present_product


class ProductsResource:
    """``/v1/products``."""

    def __init__(self, catalog: CatalogService) -> None:
        self._catalog = catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = rep.ProductList([present_product(p) for p in self._catalog.list_products()])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, ProductInput)
        product = self._catalog.create(
            name=body.name,
            kind=body.kind,
            price=to_money(body.price, "price"),
            credits=body.credits,
            validity_days=body.validity_days,
            billing_cycle=body.billing_cycle,
            trial_days=body.trial_days or 0,
        )
        answer_created(resp, f"/v1/products/{product.id}", present_product(product))


class ProductResource:
    """``/v1/products/{product_id}``."""

    def __init__(self, catalog: CatalogService) -> None:
        self._catalog = catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response, product_id: str) -> None:
        resp.media = present_product(self._catalog.get(product_id))
