"""The Idempotency-Key header (DESIGN §5.4): replay the first response, refuse another body."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

import falcon

from payments.domain.access import Role
from payments.domain.errors import FieldError, MalformedRequestError
from payments.domain.idempotency import OutcomeKind, UnknownOutcome
from payments.domain.services.idempotency import IdempotencyService, StoredAnswer, caller_scope
from payments.entrypoints.http.answers import answer_created
from payments.entrypoints.http.auth import api_key_policy
from payments.entrypoints.http.context import (
    client_ip_of,
    principal_of,
    request_id_of,
)
from payments.entrypoints.http.errors import (
    PROBLEM_CONTENT_TYPE,
    left_behind,
    nothing_happened,
)
from payments.entrypoints.http.json_body import is_json_media, parse_json_value, read_raw_body
from payments.entrypoints.http.middleware import Params, ResponseHook, RouteHook
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
# became of the purchase or refund it left behind (the problem member naming it), once known.
OUTCOME_ROUTES: dict[str, tuple[OutcomeKind, str]] = {
    "/v1/purchases": (OutcomeKind.PURCHASE, "purchase_id"),
    "/v1/purchases/{purchase_id}/refunds": (OutcomeKind.REFUND, "refund_id"),
}


UNSTORED_ROUTES = frozenset({"/v1/webhook-endpoints"})
"""Routes whose answer holds a secret shown once (a webhook endpoint's signing secret): never
stored under a key, so never replayed (decision 0034); the key is ignored there."""


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
        return b"json:" + _canonical_text(parsed, body).encode()
    except (ValueError, RecursionError):
        return body


_SHALLOW = 64
"""Bodies with at most this many objects and arrays are canonicalised by ``json.dumps``."""


def _canonical_text(value: object, body: bytes) -> str:
    """``_canonical(value)``: as ``json.dumps`` writes it, sorted and without spaces, which is
    the same text when no number is a ``Decimal`` (``json.dumps`` refuses those) and nothing is
    nested deeply enough for either to meet the recursion limit (a shallow body)."""
    if body.count(b"{") + body.count(b"[") <= _SHALLOW:
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"))
        except TypeError:  # a Decimal
            pass
    return _canonical(value)


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
    """The caller's scope (``caller_scope``): a guest's includes the e-mail its body names."""
    principal = principal_of(req)
    if principal.role is not Role.PUBLIC:
        return caller_scope(principal, client_ip_of(req))
    return caller_scope(principal, client_ip_of(req), _body_email(req))


def _body_email(req: falcon.Request) -> object:
    """``customer.email`` of a JSON body, as sent (None when there is none)."""
    if not is_json_media(req.content_type):
        return None
    try:
        body = parse_json_value(read_raw_body(req))
    except (ValueError, RecursionError):
        return None
    customer = body.get("customer") if isinstance(body, dict) else None
    return customer.get("email") if isinstance(customer, dict) else None


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


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """A key this request claimed: the caller scope, the key, and the request's fingerprint."""

    scope: str
    key: str
    fingerprint: str


def _claimable_key(req: falcon.Request) -> str | None:
    """The request's Idempotency-Key when its route takes one (a POST with an API key, except
    the routes whose answer must not be stored); a key that is not 1 to 255 visible ASCII
    characters is a 400."""
    if req.method != "POST" or api_key_policy(req.method, req.uri_template) is None:
        return None
    if req.uri_template in UNSTORED_ROUTES:
        return None
    key = req.get_header(IDEMPOTENCY_HEADER)
    if key is not None and KEY_PATTERN.fullmatch(key) is None:
        raise MalformedRequestError(
            "The Idempotency-Key header is invalid.",
            errors=[
                FieldError(
                    IDEMPOTENCY_HEADER,
                    f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, no spaces",
                )
            ],
        )
    return key


def _unknown_outcome(req: falcon.Request) -> UnknownOutcome | None:
    """The purchase (checkout) or refund (refund route) an unknown outcome left behind."""
    route = OUTCOME_ROUTES.get(req.uri_template or "")
    if route is None:
        return None
    kind, member = route
    record_id = left_behind(req).get(member)
    return UnknownOutcome(kind, record_id) if record_id else None


class IdempotencyMiddleware(RouteHook, ResponseHook):
    """Claims the key before the responder runs and stores its response afterwards.

    Runs after authentication, so the scope is the caller's key (a guest's: with its address and
    e-mail; anonymous: its address, see ``caller_scope``) and requests refused as 401/403 never
    claim a key. Webhooks are exempt: providers deduplicate by event id in the inbox.

    Every answer is stored and replayed, 5xx included (as Stripe does), except a failure the
    error handler proved did nothing (``errors.mark_nothing_happened``: a provider that never saw
    the request, a rate limit, the key in flight): that releases the key for a fresh retry. A
    500 after the provider refunded, say, must never let the retry refund again.

    A checkout or refund that answered 503 because the provider may have acted is stored with
    the purchase or refund it left behind; the idempotency use case decides, on a retry, whether
    to answer that record as it is now (201, replayed) or the stored 503 again.
    """

    def __init__(self, service: IdempotencyService) -> None:
        self._service = service

    def on_route(self, req: falcon.Request, resp: falcon.Response, params: Params) -> None:
        key = _claimable_key(req)
        if key is None:
            return
        scope = _scope(req)
        print_ = fingerprint(req.method, req.path, read_raw_body(req), req.content_type)
        replay = self._service.begin(scope, key, print_)
        if replay is None:
            req.context.idempotency_claim = IdempotencyClaim(scope, key, print_)
            return
        if replay.purchase is not None:
            purchase = replay.purchase
            answer_created(resp, f"/v1/purchases/{purchase.id}", present_purchase(purchase))
        elif replay.refund is not None:
            refund = replay.refund
            answer_created(resp, f"/v1/refunds/{refund.id}", present_refund(refund))
        else:
            _replay_stored(req, resp, replay.answer)
        resp.set_header(REPLAYED_HEADER, "true")
        resp.complete = True

    def on_response(self, req: falcon.Request, resp: falcon.Response) -> None:
        claim = getattr(req.context, "idempotency_claim", None)
        if not isinstance(claim, IdempotencyClaim):
            return
        req.context.idempotency_claim = None
        if nothing_happened(req):
            self._service.abandon(claim.scope, claim.key)
            return
        headers: dict[str, str] = {}
        for name in REPLAYED_HEADERS:
            value = resp.get_header(name)
            if value is not None:
                headers[name] = value
        answer = StoredAnswer(resp.status_code, resp.render_body() or b"", headers)
        outcome = _unknown_outcome(req)
        # Twice: a dead pooled connection fails its first statement and the pool is renewed, so
        # the second try usually lands.
        for attempt in (1, 2):
            try:
                self._service.finish(
                    claim.scope,
                    claim.key,
                    fingerprint=claim.fingerprint,
                    answer=answer,
                    unknown_outcome=outcome,
                )
                return
            except Exception:
                if attempt == 2:
                    # The use case already acted: keep its real answer. The unfinished claim
                    # makes a retry answer 409 until its lease ends (IN_FLIGHT_LEASE); a retry
                    # after that runs again, as after a crash.
                    log.exception("could not store the response to Idempotency-Key %r", claim.key)


def _replay_stored(req: falcon.Request, resp: falcon.Response, answer: StoredAnswer) -> None:
    """The stored answer again; a problem document carries this request's id."""
    body = answer.body
    content_type = next((v for k, v in answer.headers.items() if k.lower() == "content-type"), "")
    if content_type.startswith(PROBLEM_CONTENT_TYPE):
        body = with_request_id(body, request_id_of(req))
    resp.status = answer.status
    resp.data = body
    for name, value in answer.headers.items():
        resp.set_header(name, value)
