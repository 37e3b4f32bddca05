"""The SQL repositories of the catalog and of who buys: products, customers and API keys."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.mappers import (
    api_key_from_row,
    api_key_to_row,
    customer_from_row,
    customer_to_row,
    product_from_row,
    product_to_row,
)
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.statements import FixedStatement
from payments.adapters.sql.tables import api_keys, customers, products
from payments.domain.access import ApiKey
from payments.domain.catalog import Product
from payments.domain.customer import Customer
from payments.domain.errors import ConflictError
from payments.domain.ports import ApiKeyRepository, CustomerRepository, ProductRepository


def _stored_or_added() -> FixedStatement:
    columns = ", ".join(column.name for column in customers.c)
    values = ", ".join(f":{column.name}" for column in customers.c)
    sql = (
        f"WITH added AS (INSERT INTO customers ({columns}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {columns}) "
        f"SELECT {columns} FROM added "
        f"UNION ALL SELECT {columns} FROM customers WHERE id = :id LIMIT 1"
    )
    parameters = {column.name: column.type for column in customers.c}
    return FixedStatement(sql, parameters, tuple(customers.c))


_STORED_OR_ADDED = _stored_or_added()
"""PostgreSQL: the new customer inserted and returned, or (its id taken) the stored one, in one
statement. Both come from the statement's snapshot: a customer another transaction committed
while it waited on the conflict is in neither, and is read by the next statement."""


class SqlProductRepository(SqlRepository, ProductRepository):
    def add(self, product: Product) -> None:
        """Store a new product; ``ConflictError`` if its id is taken."""
        self._insert_new(products, product_to_row(product), f"Product {product.id!r}")

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._read: dict[str, Product] = {}  # products never change once added

    def get(self, product_id: str) -> Product | None:
        """The product, or None; read once per unit of work (a batch of completions of one
        product invoices them all with one read)."""
        product = self._read.get(product_id)
        if product is None:
            product = self._found(products, {"id": product_id}, product_from_row)
            if product is not None:
                self._read[product_id] = product
        return product

    def list(self, *, active_only: bool = True) -> builtins.list[Product]:
        """Products ordered by creation time."""
        query = select(products).order_by(products.c.created_at, products.c.id)
        if active_only:
            query = query.where(products.c.active.is_(True))
        return [product_from_row(row) for row in self._all(query)]


class SqlCustomerRepository(SqlRepository, CustomerRepository):
    def add(self, customer: Customer) -> None:
        """Store a new customer; ``ConflictError`` if its id or e-mail is taken."""
        self._insert_new(
            customers, customer_to_row(customer), f"Customer {customer.id!r} or its e-mail"
        )

    def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        """The customer, or None; ``for_update`` locks its row until the transaction ends."""
        return self._found(customers, {"id": customer_id}, customer_from_row, for_update)

    def get_by_email(self, email: str) -> Customer | None:
        """The customer with this normalised e-mail, or None."""
        return self._found(customers, {"email": email}, customer_from_row)

    def stored_or_added(self, customer: Customer) -> Customer:
        """One round trip on PostgreSQL (``_STORED_OR_ADDED``); a read, then an insert, elsewhere
        or when another transaction added the customer meanwhile."""
        if self._dialect != "postgresql":
            return super().stored_or_added(customer)
        try:
            row = direct.fetch_one(self._connection, _STORED_OR_ADDED, customer_to_row(customer))
        except IntegrityError as error:
            raise ConflictError(
                f"Customer {customer.id!r} or its e-mail breaks a database constraint."
            ) from error
        if row is None:
            return super().stored_or_added(customer)
        return customer_from_row(row)


class SqlApiKeyRepository(SqlRepository, ApiKeyRepository):
    def add(self, key: ApiKey) -> None:
        """Store a new key; ``ConflictError`` if its id or secret hash is taken."""
        self._insert_new(api_keys, api_key_to_row(key), f"API key {key.id!r}")

    def get_by_hash(self, secret_hash: str) -> ApiKey | None:
        """The key whose secret hashes to ``secret_hash``, or None."""
        return self._found(api_keys, {"secret_hash": secret_hash}, api_key_from_row)

    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""
        return self._found(api_keys, {"id": key_id}, api_key_from_row)

    def list(self) -> builtins.list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        return [api_key_from_row(row) for row in self._all(query)]

    def revoke(self, key_id: str, at: datetime) -> None:
        """Mark the key revoked at ``at``; one already revoked keeps its first time."""
        self._connection.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
