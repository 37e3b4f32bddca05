"""Customers: who buys, identified by id and (for guest checkout) a normalised e-mail."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from payments.domain.errors import ConflictError, FieldError, ValidationError

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_MAX_EMAIL = 254
# Unicode categories no deliverable address contains: controls, format characters (zero-width
# spaces and joiners, bidi controls, soft hyphens...), surrogates, private use, unassigned, and
# line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Default-ignorable characters of other categories: fillers and variation selectors render as
# nothing too.
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0\ufe00-\ufe0f\U000e0100-\U000e01ef]"
)
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
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


def _refused_email(field: str, reason: str) -> ValidationError:
    return ValidationError("The e-mail address is invalid.", errors=[FieldError(field, reason)])


def normalise_email(email: object, field: str = "customer.email") -> str:
    """The one form of an e-mail address we store and send, or ``ValidationError`` naming
    ``field``.

    Unicode NFKC (the full-width forms of ``ana@x.com`` are ``ana@x.com``), lower case, without
    surrounding spaces or the domain's trailing dot (``x.com.`` is ``x.com``). An address with
    invisible or control characters (zero-width spaces, bidi controls, a NUL...) or spaces
    inside is refused: it is not one a person typed to receive mail. The sub-address (``+tag``)
    is kept: see ``email_limit_key`` for the form that limits count.
    """
    if not isinstance(email, str) or len(email) > _MAX_EMAIL:
        raise _refused_email(field, "must be an e-mail address")
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).lower()).strip()
    if _IGNORABLE.search(folded) or any(
        unicodedata.category(char) in _INVISIBLE for char in folded
    ):
        raise _refused_email(field, "must not contain invisible or control characters")
    local, at, domain = folded.rpartition("@")
    domain = domain.replace("\u3002", ".").rstrip(".")  # an ideographic full stop is a dot too
    address = f"{local}{at}{domain}"
    if len(address) > _MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise _refused_email(field, "must be an e-mail address")
    return address


def email_limit_key(email: object, field: str = "customer.email") -> str:
    """The form of an e-mail address that limits count by: ``normalise_email``'s, without the
    sub-address (``ana+1@x`` counts as ``ana@x``) and, at Gmail, without the dots of the local
    part (which Gmail ignores: ``a.na@gmail.com`` counts as ``ana@gmail.com``).

    Counting may merge two mailboxes (a ``+`` that some other provider keeps); it is never used
    to find a customer, so at worst two such buyers share one limit. ``ValidationError`` as
    ``normalise_email``.
    """
    local, _, domain = normalise_email(email, field).rpartition("@")
    local = local.split("+", 1)[0] or local  # "+tag@x" alone keeps its whole local part
    if domain in _GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def clean_name(name: object, field: str = "customer.name") -> str:
    """A display name of 1 to 150 printable characters, or ``ValidationError``."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 150 or not name.isprintable():
        raise ValidationError(
            "The name is invalid.", errors=[FieldError(field, "must be 1 to 150 characters")]
        )
    return name.strip()


def found_or_added(
    find: Callable[[], Customer | None],
    new: Callable[[], Customer],
    add: Callable[[Customer], None],
) -> Customer:
    """The customer ``find`` reads, else ``new()``, added: customers are created on their first
    purchase.

    Two first purchases of one customer may race: the loser of the insert (``add`` raises
    ``ConflictError`` and leaves the transaction usable) reads the winner's row instead of
    refusing the purchase.
    """
    existing = find()
    if existing is not None:
        return existing
    customer = new()
    try:
        add(customer)
    except ConflictError:
        existing = find()
        if existing is None:
            raise
        return existing
    return customer
