"""Catalog use cases: create and read products."""

from __future__ import annotations

from decimal import Decimal

from payments.domain.catalog import BillingCycle, Product, ProductKind
from payments.domain.errors import NotFoundError
from payments.domain.money import Money
from payments.domain.services.use_case import UseCase


class CatalogService(UseCase):
    """Products we sell."""

    def create(
        self,
        *,
        name: str,
        kind: ProductKind | str,
        price: Money,
        credits: Decimal | int | str,
        validity_days: int | None = None,
        billing_cycle: BillingCycle | str | None = None,
        trial_days: int = 0,
    ) -> Product:
        """Validate and store a product; ``ValidationError`` lists every bad field."""
        product = Product.create(
            id=self._ids.new("prd"),
            name=name,
            kind=kind,
            price=price,
            credits=credits,
            validity_days=validity_days,
            billing_cycle=billing_cycle,
            trial_days=trial_days,
            created_at=self._clock.now(),
        )
        with self._uow() as uow:
            uow.products.add(product)
            uow.commit()
        return product

    def get(self, product_id: str) -> Product:
        """An active product, or ``NotFoundError``."""
        with self._uow() as uow:
            product = uow.products.get(product_id)
        if product is None or not product.active:
            raise NotFoundError(f"Product {product_id!r} does not exist.")
        return product

    def list_products(self) -> list[Product]:
        """Active products, oldest first."""
        with self._uow() as uow:
            return uow.products.list(active_only=True)
