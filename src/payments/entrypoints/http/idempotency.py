"""The Idempotency-Key header (DESIGN §5.4): replay the first response, refuse another body."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import falcon

from payments.domain.access import Principal
from payments.domain.errors import FieldError, NotFoundError
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.purchase import Purchase, PurchaseStatus
from payments.domain.services.idempotency import IdempotencyService
from payments.entrypoints.http.auth import policy_for
from payments.entrypoints.http.context import client_ip_of, is_anonymous, principal_of
from payments.entrypoints.http.errors import MalformedRequestError
from payments.entrypoints.http.json_body import is_json_media, parse_json_value, read_raw_body
from payments.entrypoints.http.presenters import present_purchase

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Visible ASCII without spaces: what a header carries intact through every proxy.
KEY_PATTERN = re.compile(rf"[!-~]{{1,{MAX_KEY_LENGTH}}}")
# Headers worth replaying with the stored body; the request id is always the new request's.
REPLAYED_HEADERS = ("Content-Type", "Location", "Retry-After", "WWW-Authenticate")
# The checkout route: a stored "outcome unknown" answer there is replaced by the purchase's state.
PURCHASES_ROUTE = "/v1/purchases"

CurrentPurchase = Callable[[str, Principal], Purchase]
"""Reads a purchase as the caller may see it (``PurchaseService.get``)."""


def _canonical(value: object) -> str:
    """One text per JSON value: keys sorted, no spaces, numbers as their exact Decimal text.

    Numbers stay numbers (``1.5`` and ``"1.5"`` differ, as the API answers them differently)
    and never pass through float.
    """
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(k)}:{_canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(value)


def canonical_body(content_type: str | None, body: bytes) -> bytes:
    """What identifies a body: for valid JSON its canonical text, otherwise the bytes as sent.

    The same JSON with other whitespace, key order or escapes is the same request.
    """
    if not body.strip() or not is_json_media(content_type):
        return body
    try:
        parsed = parse_json_value(body)
        return b"json:" + _canonical(parsed).encode()
    except (ValueError, RecursionError):
        return body


def fingerprint(method: str, path: str, body: bytes, content_type: str | None = None) -> str:
    """SHA-256 of the method, path, media type and canonical body: what "the same request"
    means. A JSON body counts by its parsed value, anything else by its bytes."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    digest = hashlib.sha256()
    digest.update(method.upper().encode())
    digest.update(b"\n")
    digest.update(path.encode("utf-8", "surrogateescape"))
    digest.update(b"\n")
    digest.update(media_type.encode("utf-8", "surrogateescape"))
    digest.update(b"\n")
    digest.update(canonical_body(content_type, body))
    return digest.hexdigest()


def _scope(req: falcon.Request) -> str:
    principal = principal_of(req)
    if is_anonymous(principal):
        return f"ip:{client_ip_of(req)}"
    return f"key:{principal.key_id}"


def unknown_outcome_purchase(status: int, body: bytes) -> str | None:
    """The purchase a 5xx problem names (``purchase_id``): the purchase exists and whether the
    provider charged is not known yet. None for any other answer."""
    if status < 500 or not body:
        return None
    try:
        problem = json.loads(body)
    except ValueError:
        return None
    purchase_id = problem.get("purchase_id") if isinstance(problem, dict) else None
    return purchase_id if isinstance(purchase_id, str) and purchase_id else None


def releases(status: int, body: bytes) -> bool:
    """Answers worth retrying under the same key are not stored: 409, 429, and 5xx that prove
    nothing was created. A 5xx naming a purchase is stored: a retry must not buy again."""
    if status in (409, 429):
        return True
    return status >= 500 and unknown_outcome_purchase(status, body) is None


class IdempotencyMiddleware:
    """Claims the key before the responder runs and stores its response afterwards.

    Runs after authentication, so the scope is the caller's key (or, anonymous, its address) and
    requests refused as 401/403 never claim a key. Webhooks are exempt: providers deduplicate by
    event id in the inbox.

    A checkout that answered 503 with a ``purchase_id`` (the provider may have charged) keeps
    its key: a retry answers that purchase as it is now (201, replayed) once it has left
    ``pending``, and the stored 503 again while its outcome is still unknown. It never creates a
    second purchase.
    """

    def __init__(
        self, service: IdempotencyService, current_purchase: CurrentPurchase | None = None
    ) -> None:
        self._service = service
        self._current_purchase = current_purchase

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict[str, Any],
    ) -> None:
        if req.method != "POST":
            return
        policy = policy_for(req.method, req.uri_template)
        if policy is None or not policy.api_key:
            return
        key = req.get_header(IDEMPOTENCY_HEADER)
        if key is None:
            return
        if KEY_PATTERN.fullmatch(key) is None:
            raise MalformedRequestError(
                "The Idempotency-Key header is invalid.",
                errors=[
                    FieldError(
                        IDEMPOTENCY_HEADER,
                        f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, no spaces",
                    )
                ],
            )
        scope = _scope(req)
        print_ = fingerprint(req.method, req.path, read_raw_body(req), req.content_type)
        stored = self._service.begin(scope, key, print_)
        if stored is not None and stored.response_status is not None:
            if not self._replay_current_purchase(req, resp, stored):
                resp.status = stored.response_status
                resp.data = stored.response_body or b""
                for name, value in (stored.response_headers or {}).items():
                    resp.set_header(name, value)
            resp.set_header(REPLAYED_HEADER, "true")
            resp.complete = True
            return
        req.context.idempotency_claim = (scope, key, print_)

    def _replay_current_purchase(
        self, req: falcon.Request, resp: falcon.Response, stored: IdempotencyRecord
    ) -> bool:
        """Answer a settled "outcome unknown" checkout with its purchase; False to replay."""
        if self._current_purchase is None or req.uri_template != PURCHASES_ROUTE:
            return False
        assert stored.response_status is not None
        purchase_id = unknown_outcome_purchase(stored.response_status, stored.response_body or b"")
        if purchase_id is None:
            return False
        try:
            purchase = self._current_purchase(purchase_id, principal_of(req))
        except NotFoundError:
            return False
        if purchase.status is PurchaseStatus.PENDING:
            return False
        resp.status = falcon.HTTP_201
        resp.location = f"{PURCHASES_ROUTE}/{purchase.id}"
        resp.media = present_purchase(purchase)
        return True

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        claim = getattr(req.context, "idempotency_claim", None)
        if claim is None:
            return
        req.context.idempotency_claim = None
        scope, key, print_ = claim
        status = resp.status_code
        body = resp.render_body() or b""
        if releases(status, body):
            self._service.abandon(scope, key)
            return
        headers: dict[str, str] = {}
        for name in REPLAYED_HEADERS:
            value = resp.get_header(name)
            if value is not None:
                headers[name] = value
        try:
            self._service.finish(
                scope, key, fingerprint=print_, status=status, body=body, headers=headers
            )
        except Exception:
            # The use case already acted: keep its real answer. The unfinished claim makes a
            # retry answer 409 until its lease ends (IN_FLIGHT_LEASE); a retry after that runs
            # again, as after a crash.
            log.exception("could not store the response to Idempotency-Key %r", key)
