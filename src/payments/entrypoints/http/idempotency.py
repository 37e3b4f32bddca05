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

from payments.domain.errors import FieldError, NotFoundError
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.purchase import Purchase, PurchaseStatus
from payments.domain.refund import Refund
from payments.domain.services.idempotency import IdempotencyService
from payments.entrypoints.http.auth import policy_for
from payments.entrypoints.http.context import (
    client_ip_of,
    is_anonymous,
    principal_of,
    request_id_of,
)
from payments.entrypoints.http.errors import (
    PROBLEM_CONTENT_TYPE,
    MalformedRequestError,
    nothing_happened,
)
from payments.entrypoints.http.json_body import is_json_media, parse_json_value, read_raw_body
from payments.entrypoints.http.presenters import present_purchase, present_refund

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Visible ASCII without spaces: what a header carries intact through every proxy.
KEY_PATTERN = re.compile(rf"[!-~]{{1,{MAX_KEY_LENGTH}}}")
# Headers worth replaying with the stored body; the request id is always the new request's.
REPLAYED_HEADERS = ("Content-Type", "Location", "Retry-After", "WWW-Authenticate")
# The checkout and refund routes: a stored "outcome unknown" answer there is replaced by what
# became of the purchase or refund it names, once that is known.
PURCHASES_ROUTE = "/v1/purchases"
REFUNDS_ROUTE = "/v1/purchases/{purchase_id}/refunds"

CurrentPurchase = Callable[[str], Purchase]
"""Reads a purchase on the strength of the claim: the stored answer naming it was given to this
caller scope for this very request, so no read right of the caller's is asked for (a guest's
publishable key may read no purchase, yet must learn what became of its own checkout)."""
CurrentRefund = Callable[[str], Refund]
"""Reads a refund on the strength of the claim, as ``CurrentPurchase``."""


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


def _problem_member(status: int, body: bytes, name: str) -> str | None:
    """A string member of a stored 5xx problem (``purchase_id``, ``refund_id``), or None."""
    if status < 500 or not body:
        return None
    try:
        problem = json.loads(body)
    except ValueError:
        return None
    value = problem.get(name) if isinstance(problem, dict) else None
    return value if isinstance(value, str) and value else None


def unknown_outcome_purchase(status: int, body: bytes) -> str | None:
    """The purchase a 5xx problem names (``purchase_id``): the purchase exists and whether the
    provider charged is not known yet. None for any other answer."""
    return _problem_member(status, body, "purchase_id")


def unknown_outcome_refund(status: int, body: bytes) -> str | None:
    """The refund a 5xx problem names (``refund_id``): it is booked and whether the provider
    made it is not known yet. None for any other answer."""
    return _problem_member(status, body, "refund_id")


def with_request_id(body: bytes, request_id: str) -> bytes:
    """A stored problem document carrying this request's id instead of the first request's, so
    that its ``request_id`` and the ``X-Request-Id`` header agree on a replay too."""
    try:
        problem = json.loads(body)
    except ValueError:
        return body
    if not isinstance(problem, dict) or "request_id" not in problem:
        return body
    problem["request_id"] = request_id
    return json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()


class IdempotencyMiddleware:
    """Claims the key before the responder runs and stores its response afterwards.

    Runs after authentication, so the scope is the caller's key (or, anonymous, its address) and
    requests refused as 401/403 never claim a key. Webhooks are exempt: providers deduplicate by
    event id in the inbox.

    Every answer is stored and replayed, 5xx included (as Stripe does), except a failure the
    error handler proved did nothing (``errors.mark_nothing_happened``: a provider that never saw
    the request, a rate limit, the key in flight): that releases the key for a fresh retry. A
    500 after the provider refunded, say, must never let the retry refund again.

    A checkout that answered 503 with a ``purchase_id`` (the provider may have charged) answers,
    on a retry, that purchase as it is now (201, replayed) once it has left ``pending``, and the
    stored 503 again while its outcome is still unknown; a refund that answered 503 with a
    ``refund_id`` likewise answers that refund (201) once the provider's answer is recorded.
    Neither is ever made twice.
    """

    def __init__(
        self,
        service: IdempotencyService,
        current_purchase: CurrentPurchase | None = None,
        current_refund: CurrentRefund | None = None,
    ) -> None:
        self._service = service
        self._current_purchase = current_purchase
        self._current_refund = current_refund

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
            if not self._replay_current_state(req, resp, stored):
                self._replay_stored(req, resp, stored)
            resp.set_header(REPLAYED_HEADER, "true")
            resp.complete = True
            return
        req.context.idempotency_claim = (scope, key, print_)

    @staticmethod
    def _replay_stored(
        req: falcon.Request, resp: falcon.Response, stored: IdempotencyRecord
    ) -> None:
        assert stored.response_status is not None
        headers = stored.response_headers or {}
        body = stored.response_body or b""
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if content_type.startswith(PROBLEM_CONTENT_TYPE):
            body = with_request_id(body, request_id_of(req))
        resp.status = stored.response_status
        resp.data = body
        for name, value in headers.items():
            resp.set_header(name, value)

    def _replay_current_state(
        self, req: falcon.Request, resp: falcon.Response, stored: IdempotencyRecord
    ) -> bool:
        """Answer a settled "outcome unknown" checkout or refund as it is now; False to replay
        the stored answer."""
        assert stored.response_status is not None
        status, body = stored.response_status, stored.response_body or b""
        if req.uri_template == PURCHASES_ROUTE and self._current_purchase is not None:
            purchase_id = unknown_outcome_purchase(status, body)
            if purchase_id is None:
                return False
            try:
                purchase = self._current_purchase(purchase_id)
            except NotFoundError:
                return False
            if purchase.status is PurchaseStatus.PENDING:
                return False
            resp.status = falcon.HTTP_201
            resp.location = f"{PURCHASES_ROUTE}/{purchase.id}"
            resp.media = present_purchase(purchase)
            return True
        if req.uri_template == REFUNDS_ROUTE and self._current_refund is not None:
            refund_id = unknown_outcome_refund(status, body)
            if refund_id is None:
                return False
            try:
                refund = self._current_refund(refund_id)
            except NotFoundError:
                return False
            if refund.awaiting_answer:
                return False  # the provider's answer is still unknown
            resp.status = falcon.HTTP_201
            resp.location = f"/v1/refunds/{refund.id}"
            resp.media = present_refund(refund)
            return True
        return False

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
        if nothing_happened(req):
            self._service.abandon(scope, key)
            return
        status = resp.status_code
        body = resp.render_body() or b""
        headers: dict[str, str] = {}
        for name in REPLAYED_HEADERS:
            value = resp.get_header(name)
            if value is not None:
                headers[name] = value
        # Twice: a dead pooled connection fails its first statement and the pool is renewed, so
        # the second try usually lands.
        for attempt in (1, 2):
            try:
                self._service.finish(
                    scope, key, fingerprint=print_, status=status, body=body, headers=headers
                )
                return
            except Exception:
                if attempt == 2:
                    # The use case already acted: keep its real answer. The unfinished claim
                    # makes a retry answer 409 until its lease ends (IN_FLIGHT_LEASE); a retry
                    # after that runs again, as after a crash.
                    log.exception("could not store the response to Idempotency-Key %r", key)
