"""API keys: create them (the secret is shown once) and authenticate bearers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import replace

from payments.domain.access import ApiKey, Principal, Role
from payments.domain.customer import Customer, check_customer_id
from payments.domain.errors import (
    AuthenticationRequiredError,
    FieldError,
    ValidationError,
)
from payments.domain.ports import Clock, IdGenerator, UnitOfWork
from payments.domain.services.records import found
from payments.domain.services.use_case import UseCase

KEY_PREFIX = "pay_"


def hash_secret(secret: str) -> str:
    """SHA-256 of a key: keys are 192-bit random, so a fast hash is enough and lookups stay O(1)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AccessService(UseCase):
    """Issues and checks API keys.

    ``lookups`` makes the units of work of ``authenticate`` (one read, every request): units
    whose statements each stand alone, without a transaction around them (two round trips
    fewer on PostgreSQL); ``uow`` when not given.
    """

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        ids: IdGenerator,
        *,
        lookups: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        super().__init__(uow, clock, ids)
        self._lookups = lookups or uow

    def create_key(self, role: Role | str, customer_id: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret; only the secret's hash is stored."""
        try:
            key_role = Role(role)
        except ValueError:
            raise ValidationError(
                "Unknown role.", errors=[FieldError("role", "admin, merchant, customer or public")]
            ) from None
        if (key_role is Role.CUSTOMER) != (customer_id is not None):
            raise ValidationError(
                "A customer key needs --customer-id, and only a customer key takes one.",
                errors=[FieldError("customer_id", "required exactly for the customer role")],
            )
        # The purchase API's rule: a key must name a customer a purchase could name.
        if customer_id is not None:
            check_customer_id(customer_id)
        secret = f"{KEY_PREFIX}{key_role.value[:4]}_{secrets.token_urlsafe(24)}"
        key = ApiKey(
            id=self._ids.new("key"),
            prefix=secret[:13],
            secret_hash=hash_secret(secret),
            role=key_role,
            customer_id=customer_id,
            created_at=self._clock.now(),
        )
        with self._uow() as uow:
            if customer_id is not None and uow.customers.get(customer_id) is None:
                uow.customers.add(Customer(customer_id, None, None, key.created_at))
            uow.api_keys.add(key)
            uow.commit()
        return key, secret

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first (their secrets are not stored)."""
        with self._uow() as uow:
            return uow.api_keys.list()

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key: its bearer gets 401 from now on. Revoking it again changes nothing;
        an unknown id is a ``NotFoundError``."""
        with self._uow() as uow:
            key = found(uow.api_keys.get(key_id), f"No API key {key_id!r}.")
            if key.revoked_at is None:
                now = self._clock.now()
                uow.api_keys.revoke(key_id, now)
                uow.commit()
                key = replace(key, revoked_at=now)
        return key

    def authenticate(self, secret: str) -> Principal:
        """The principal of a bearer secret, or ``AuthenticationRequiredError``."""
        with self._lookups() as uow:
            key = uow.api_keys.get_by_hash(hash_secret(secret))
        if key is None or key.revoked_at is not None:
            raise AuthenticationRequiredError("The API key is not valid.")
        return Principal(key.role, key.id, key.customer_id)
