"""API keys and roles: who may call what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MERCHANT = "merchant"
    CUSTOMER = "customer"
    PUBLIC = "public"

    @property
    def is_staff(self) -> bool:
        """A merchant's or an admin's key: it acts on every customer's records."""
        return self is Role.ADMIN or self is Role.MERCHANT


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: only the SHA-256 of the secret is kept, and a short prefix to recognise it."""

    id: str
    prefix: str
    secret_hash: str
    role: Role
    customer_id: str | None
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    role: Role
    key_id: str | None = None
    customer_id: str | None = None

    def can_read_customer(self, customer_id: str) -> bool:
        """Admins and merchants read any customer; a customer key reads only its own."""
        if self.role.is_staff:
            return True
        return self.role is Role.CUSTOMER and self.customer_id == customer_id


ANONYMOUS = Principal(Role.PUBLIC)
