"""The Idempotency-Key header (DESIGN §5.4): replay the first response, refuse another body."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import falcon

from payments.domain.errors import FieldError
from payments.domain.services.idempotency import IdempotencyService
from payments.entrypoints.http.auth import policy_for
from payments.entrypoints.http.context import client_ip_of, is_anonymous, principal_of
from payments.entrypoints.http.errors import MalformedRequestError
from payments.entrypoints.http.json_body import read_raw_body

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Headers worth replaying with the stored body; the request id is always the new request's.
REPLAYED_HEADERS = ("Content-Type", "Location", "Retry-After", "WWW-Authenticate")


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the method, path and raw body: what "the same request" means."""
    digest = hashlib.sha256()
    digest.update(method.upper().encode())
    digest.update(b"\n")
    digest.update(path.encode("utf-8", "surrogateescape"))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def _scope(req: falcon.Request) -> str:
    principal = principal_of(req)
    if is_anonymous(principal):
        return f"ip:{client_ip_of(req)}"
    return f"key:{principal.key_id}"


def _releases(status: int) -> bool:
    """Responses worth retrying under the same key are not stored: 5xx, 409 and 429."""
    return status >= 500 or status in (409, 429)


class IdempotencyMiddleware:
    """Claims the key before the responder runs and stores its response afterwards.

    Runs after authentication, so the scope is the caller's key (or, anonymous, its address) and
    requests refused as 401/403 never claim a key. Webhooks are exempt: providers deduplicate by
    event id in the inbox.
    """

    def __init__(self, service: IdempotencyService) -> None:
        self._service = service

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
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise MalformedRequestError(
                "The Idempotency-Key header is invalid.",
                errors=[
                    FieldError(IDEMPOTENCY_HEADER, f"must be 1 to {MAX_KEY_LENGTH} characters")
                ],
            )
        scope = _scope(req)
        print_ = fingerprint(req.method, req.path, read_raw_body(req))
        stored = self._service.begin(scope, key, print_)
        if stored is not None and stored.response_status is not None:
            resp.status = stored.response_status
            resp.data = stored.response_body or b""
            for name, value in (stored.response_headers or {}).items():
                resp.set_header(name, value)
            resp.set_header(REPLAYED_HEADER, "true")
            resp.complete = True
            return
        req.context.idempotency_claim = (scope, key, print_)

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
        if _releases(status):
            self._service.abandon(scope, key)
            return
        body = resp.render_body() or b""
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
            # retry answer 409 until the key expires, which never repeats the action.
            log.exception("could not store the response to Idempotency-Key %r", key)
