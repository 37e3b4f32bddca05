"""Request middleware: request ids, metrics, storable text, the body size limit, API-key
authentication."""

from __future__ import annotations

import abc
import logging
import os
import re
import time
from typing import Any

import falcon

from payments.adapters.metrics import ServiceMetrics
from payments.domain.access import ANONYMOUS, Principal
from payments.domain.errors import (
    AuthenticationRequiredError,
    FieldError,
    NotFoundError,
    ValidationError,
)
from payments.domain.services.access import AccessService
from payments.domain.text import storable
from payments.entrypoints.http.auth import api_key_policy, authorize
from payments.entrypoints.http.context import request_id_of
from payments.entrypoints.logs import enter_request, leave_request

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
MAX_KEY_LENGTH = 256
access_log = logging.getLogger("payments.access")
Params = dict[str, Any]
"""The route's URI template fields, as Falcon hands them to a middleware."""


class RouteHook(abc.ABC):
    """A middleware that acts once Falcon has found the route, before the responder runs
    (Falcon's ``process_resource``): ``on_route`` gets the request, the response and the
    route's fields."""

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: Params,
    ) -> None:
        self.on_route(req, resp, params)

    @abc.abstractmethod
    def on_route(self, req: falcon.Request, resp: falcon.Response, params: Params) -> None:
        """Check or prepare the request; raise to answer it with a problem instead."""


class ResponseHook(abc.ABC):
    """A middleware that acts once the response is ready, whatever the responder did (Falcon's
    ``process_response``): ``on_response`` gets the request and the response."""

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        self.on_response(req, resp)

    @abc.abstractmethod
    def on_response(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Finish the response (headers, stored answers, the access line)."""


class RequestIdMiddleware(ResponseHook):
    """Honours a sane ``X-Request-Id`` or makes one and echoes it on every response; marks every
    log record of the request with it (``logs.current_request_id``); and ends the request with
    its one ``payments.access`` line: method, path (never the query), status, duration in ms,
    and tells ``metrics`` of it (by route template, never the raw path)."""

    def __init__(self, metrics: ServiceMetrics | None = None) -> None:
        self._metrics = metrics

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()
        given = req.get_header(REQUEST_ID_HEADER)
        if given is not None and _SANE_REQUEST_ID.fullmatch(given):
            request_id = given
        else:
            request_id = new_request_id()
        req.context.request_id = request_id
        req.context.log_context = enter_request(request_id)

    def on_response(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.set_header(REQUEST_ID_HEADER, request_id_of(req))
        token = getattr(req.context, "log_context", None)
        try:
            seconds = _seconds_since_start(req)
            _log_access(req, resp, seconds)
            if self._metrics is not None:
                self._metrics.request_answered(
                    req.uri_template, req.method, resp.status_code, seconds
                )
        finally:
            if token is not None:
                req.context.log_context = None
                leave_request(token)


def new_request_id() -> str:
    """``req_`` and the hex of a random UUID (version 4), as ``uuid.uuid4().hex`` spells it,
    without building a ``UUID`` for each request."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return f"req_{raw.hex()}"


def _seconds_since_start(req: falcon.Request) -> float:
    """How long the request has taken so far (``RequestIdMiddleware`` noted its start)."""
    started = getattr(req.context, "started", None)
    return 0.0 if started is None else time.perf_counter() - started


def _log_access(req: falcon.Request, resp: falcon.Response, seconds: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return  # nothing would format it: skip building its fields on every request
    duration_ms = seconds * 1000
    status = resp.status_code
    access_log.info(
        "%s %s %d %.1fms",
        req.method,
        req.path,
        status,
        duration_ms,
        extra={
            "method": req.method,
            "path": req.path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
        },
    )


class StorableTextMiddleware(RouteHook):
    """Refuses text no database can store (NUL, lone surrogates) in the path or the query,
    for every route, before authentication or any use case sees it.

    A path segment is a name that cannot exist: 404. A query parameter is a 422 naming it.
    (Bodies are checked where they are decoded: ``json_body.decode_body``.)
    """

    def on_route(self, req: falcon.Request, resp: falcon.Response, params: Params) -> None:
        for value in params.values():
            if isinstance(value, str) and not storable(value):
                raise NotFoundError("There is nothing at this address.")
        bad = [
            FieldError(name if storable(name) else "query", "must be valid text without NUL")
            for name, value in req.params.items()
            if not storable(name)
            or not all(storable(item) for item in (value if isinstance(value, list) else [value]))
        ]
        if bad:
            raise ValidationError("The query is invalid.", errors=bad)


class BodyLimitMiddleware:
    """Refuses a declared body over the limit with 413 before anything reads it.

    A body without a declared length is cut at the limit when it is read (``json_body``).
    """

    def __init__(self, max_body_bytes: int) -> None:
        self._max = max_body_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.max_body_bytes = self._max
        length = req.content_length
        if length is not None and length > self._max:
            raise falcon.HTTPContentTooLarge(
                title="Content too large",
                description=f"The body must not exceed {self._max} bytes.",
            )


def client_address(req: falcon.Request, *, trust_forwarded_for: bool) -> str:
    """The caller's IP: the peer address, or (behind our own proxy) the last forwarded hop.

    The last ``X-Forwarded-For`` entry is the one our proxy appended; earlier entries are
    whatever the client chose to send, so they are never used for rate limits.
    """
    if trust_forwarded_for:
        forwarded = req.get_header("X-Forwarded-For")
        if forwarded:
            last = forwarded.split(",")[-1].strip()
            if last:
                return last[:64]
    return req.remote_addr or "unknown"


class AuthMiddleware(RouteHook):
    """``Authorization: Bearer <key>`` to a ``Principal`` in ``req.context.principal``.

    No header means the anonymous principal; a bad or unknown key is a 401. The route's policy
    (``auth.ROUTE_POLICIES``) is then enforced: 401 for anonymous callers, 403 for other roles.
    """

    def __init__(self, access: AccessService, *, trust_forwarded_for: bool = False) -> None:
        self._access = access
        self._trust_forwarded_for = trust_forwarded_for

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.principal = ANONYMOUS
        req.context.client_ip = client_address(req, trust_forwarded_for=self._trust_forwarded_for)

    def on_route(self, req: falcon.Request, resp: falcon.Response, params: Params) -> None:
        policy = api_key_policy(req.method, req.uri_template)
        if policy is None:
            # Falcon answers 405 for a method the route lacks; webhooks check signatures.
            return
        principal = self._authenticate(req.get_header("Authorization"))
        req.context.principal = principal
        authorize(policy, principal)

    def _authenticate(self, header: str | None) -> Principal:
        if header is None:
            return ANONYMOUS
        scheme, _, secret = header.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret or len(secret) > MAX_KEY_LENGTH:
            raise AuthenticationRequiredError("Send the API key as: Authorization: Bearer <key>.")
        return self._access.authenticate(secret)
