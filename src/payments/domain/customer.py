"""Customers: who buys, identified by id and (for guest checkout) a normalised e-mail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from payments.domain.errors import FieldError, ValidationError

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    email: str | None
    name: str | None
    created_at: datetime


def check_customer_id(customer_id: object, field: str = "customer_id") -> str:
    """The id our caller's system gives a customer, or ``ValidationError`` naming ``field``: 1 to
    64 letters, digits or ``_.:@-``, so that it always fits in a URL path segment."""
    if not isinstance(customer_id, str) or not _CUSTOMER_ID.fullmatch(customer_id):
        raise ValidationError(
            "The customer id is invalid.",
            errors=[FieldError(field, "1 to 64 letters, digits or _.:@-")],
        )
    return customer_id


def normalise_email(email: object, field: str = "customer.email") -> str:
    """Lower-case and validate an e-mail address, or raise ``ValidationError`` naming ``field``."""
    if not isinstance(email, str) or len(email) > 254 or not _EMAIL.fullmatch(email.strip()):
        raise ValidationError(
            "The e-mail address is invalid.",
            errors=[FieldError(field, "must be an e-mail address")],
        )
    return email.strip().lower()


def clean_name(name: object, field: str = "customer.name") -> str:
    """A display name of 1 to 150 printable characters, or ``ValidationError``."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 150 or not name.isprintable():
        raise ValidationError(
            "The name is invalid.", errors=[FieldError(field, "must be 1 to 150 characters")]
        )
    return name.strip()
