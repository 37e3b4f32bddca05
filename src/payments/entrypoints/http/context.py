"""Typed access to what the middleware stores on each request's context."""

from __future__ import annotations

import falcon

from payments.domain.access import ANONYMOUS, Principal
from payments.domain.idempotency import ClaimedKey


def request_id_of(req: falcon.Request) -> str:
    """The request id the middleware accepted or made (``-`` before it ran)."""
    value = getattr(req.context, "request_id", None)
    return value if isinstance(value, str) else "-"


def principal_of(req: falcon.Request) -> Principal:
    """The authenticated caller; the anonymous principal when no key was sent."""
    value = getattr(req.context, "principal", None)
    return value if isinstance(value, Principal) else ANONYMOUS


def client_ip_of(req: falcon.Request) -> str:
    """The caller's address, as the middleware resolved it (proxy headers only when trusted)."""
    value = getattr(req.context, "client_ip", None)
    return value if isinstance(value, str) else req.remote_addr


def is_anonymous(principal: Principal) -> bool:
    """True for a caller that sent no API key at all."""
    return principal.key_id is None


def claimed_key_of(req: falcon.Request) -> ClaimedKey | None:
    """The ``(scope, key)`` this request claimed (see ``idempotency_key_of``), or None."""
    claim = getattr(req.context, "idempotency_claim", None)
    scope, key = getattr(claim, "scope", None), getattr(claim, "key", None)
    return ClaimedKey(scope, key) if isinstance(scope, str) and isinstance(key, str) else None


def idempotency_key_of(req: falcon.Request) -> str | None:
    """The Idempotency-Key this request claimed (checked by the idempotency middleware), or None
    when it sent none or its route takes none."""
    claim = getattr(req.context, "idempotency_claim", None)
    key = getattr(claim, "key", None)
    return key if isinstance(key, str) else None
