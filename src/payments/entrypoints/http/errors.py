"""RFC 9457 problem details: every error the API answers, as ``application/problem+json``."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import falcon

from payments.domain.errors import (
    AmountMismatchError,
    AuthenticationRequiredError,
    ConflictError,
    FieldError,
    ForbiddenError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    IdempotencyInFlightError,
    InvalidSignatureError,
    InvalidTransitionError,
    MalformedNotificationError,
    MalformedRequestError,
    NotFoundError,
    NotReadyError,
    PaymentDeclinedError,
    PaymentsError,
    RateLimitedError,
    StorageUnavailableError,
    ValidationError,
)
from payments.entrypoints.http.context import request_id_of

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://payments.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
GATEWAY_RETRY_AFTER = 10
OUTCOME_UNKNOWN_DETAIL = (
    "The payment provider did not answer in time and may have charged. Retry with the same "
    "Idempotency-Key, or read the purchase named by purchase_id: it is settled by "
    "reconciliation, never charged twice."
)
REFUND_OUTCOME_UNKNOWN_DETAIL = (
    "The payment provider did not answer in time and may have made the refund. Retry with the "
    "same Idempotency-Key, or read the refund named by refund_id: it stays pending until the "
    "provider's notification settles it, and is never made twice."
)
_OUTCOME_MEMBERS = frozenset({"purchase_id", "refund_id"})
STORAGE_RETRY_AFTER = 5
IN_FLIGHT_RETRY_AFTER = 1

_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "request_id", "errors"})


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """How one exception class is answered.

    ``detail`` replaces the exception's message when that message may carry provider or internal
    text; ``retry_after`` adds the header.
    """

    status: int
    title: str
    detail: str | None = None
    retry_after: int | None = None


# One row per exception class; the most specific class of a raised exception wins.
PROBLEMS: dict[type[PaymentsError], ProblemKind] = {
    PaymentsError: ProblemKind(500, "Internal error", "An unexpected error occurred."),
    ValidationError: ProblemKind(422, "Invalid request"),
    MalformedRequestError: ProblemKind(400, "Malformed request"),
    NotFoundError: ProblemKind(404, "Not found"),
    ForbiddenError: ProblemKind(403, "Forbidden"),
    AuthenticationRequiredError: ProblemKind(401, "Authentication required"),
    InvalidTransitionError: ProblemKind(409, "Invalid state transition"),
    ConflictError: ProblemKind(409, "Conflict"),
    AmountMismatchError: ProblemKind(409, "Amount mismatch"),
    IdempotencyConflictError: ProblemKind(422, "Idempotency key reused"),
    IdempotencyInFlightError: ProblemKind(
        409, "Request in flight", retry_after=IN_FLIGHT_RETRY_AFTER
    ),
    PaymentDeclinedError: ProblemKind(
        402, "Payment declined", "The payment was declined; ask the payer for another method."
    ),
    GatewayUnavailableError: ProblemKind(
        503,
        "Gateway unavailable",
        "The payment provider could not be reached; retrying later is safe.",
        GATEWAY_RETRY_AFTER,
    ),
    GatewayConfigurationError: ProblemKind(
        502, "Gateway misconfigured", "The payment provider refused our configuration."
    ),
    RateLimitedError: ProblemKind(429, "Too many requests"),
    InvalidSignatureError: ProblemKind(
        400, "Invalid signature", "The notification signature is missing, stale or wrong."
    ),
    MalformedNotificationError: ProblemKind(
        400, "Malformed notification", "The notification could not be understood."
    ),
    StorageUnavailableError: ProblemKind(
        503,
        "Storage unavailable",
        "The notification could not be stored; deliver it again.",
        STORAGE_RETRY_AFTER,
    ),
    NotReadyError: ProblemKind(503, "Not ready", retry_after=STORAGE_RETRY_AFTER),
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    411: "length_required",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    431: "headers_too_large",
}


def write_problem(
    req: falcon.Request,
    resp: falcon.Response,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: tuple[FieldError, ...] = (),
    extensions: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Replace whatever the response held with one problem document."""
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_of(req),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    for name, value in (extensions or {}).items():
        if name not in _STANDARD_MEMBERS:
            body[name] = value
    resp.status = status
    resp.text = None
    resp.media = None
    resp.content_type = PROBLEM_CONTENT_TYPE
    resp.data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    for name, value in (headers or {}).items():
        resp.set_header(name, value)


def _kind_of(error: PaymentsError) -> ProblemKind:
    for cls in type(error).__mro__:
        kind = PROBLEMS.get(cls)
        if kind is not None:
            return kind
    return PROBLEMS[PaymentsError]


def outcome_unknown(error: PaymentsError) -> bool:
    """The provider may have acted on a request we could not see the answer to."""
    return isinstance(error, GatewayUnavailableError) and error.charged_possible


def proves_nothing_happened(error: PaymentsError) -> bool:
    """The request failed before anything could have acted on it: a provider that provably never
    saw it, a rate limit, or the same Idempotency-Key still in flight. Only these release the
    key (``mark_nothing_happened``); any other failure may follow a provider call, so its answer
    is stored and replayed."""
    if isinstance(error, GatewayUnavailableError):
        return not error.charged_possible
    return isinstance(error, RateLimitedError | IdempotencyInFlightError)


def mark_nothing_happened(req: falcon.Request) -> None:
    """Tell the idempotency middleware that this request's key may be used again afresh."""
    req.context.nothing_happened = True


def nothing_happened(req: falcon.Request) -> bool:
    """True when the error handler proved the request did nothing (``mark_nothing_happened``)."""
    return getattr(req.context, "nothing_happened", False) is True


def mark_left_behind(req: falcon.Request, error: PaymentsError) -> None:
    """Tell the idempotency middleware which records an unknown outcome left behind
    (``purchase_id``, ``refund_id``): a replay answers them once their outcome is known."""
    req.context.left_behind = {
        name: value
        for name in _OUTCOME_MEMBERS
        if isinstance(value := error.details.get(name), str) and value
    }


def left_behind(req: falcon.Request) -> dict[str, str]:
    """The records an unknown outcome left behind (``mark_left_behind``), by member name."""
    value = getattr(req.context, "left_behind", None)
    return value if isinstance(value, dict) else {}


def _extensions(error: PaymentsError, status: int) -> dict[str, object]:
    """Our own, safe details: never a provider's text. A 5xx carries only the ``purchase_id``
    (and the ``refund_id`` of a refund), and only when the outcome is unknown (the provider may
    have acted): a retry under the same Idempotency-Key then answers what became of it."""
    out: dict[str, object] = {}
    for name, value in error.details.items():
        if status >= 500 and (name not in _OUTCOME_MEMBERS or not outcome_unknown(error)):
            continue
        if isinstance(value, str | int | bool) or (
            isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values())
        ):
            out[name] = value
    if isinstance(error, PaymentDeclinedError) and error.provider_code:
        out["decline_code"] = error.provider_code[:64]
    return out


def handle_payments_error(
    req: falcon.Request, resp: falcon.Response, error: PaymentsError, params: dict[str, Any]
) -> None:
    """Answer a domain error with its status, stable code and (when safe) its message."""
    kind = _kind_of(error)
    if proves_nothing_happened(error):
        mark_nothing_happened(req)
    if outcome_unknown(error):
        mark_left_behind(req, error)
    headers: dict[str, str] = {}
    if isinstance(error, AuthenticationRequiredError):
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = error.retry_after if isinstance(error, RateLimitedError) else kind.retry_after
    if retry_after is not None:
        headers["Retry-After"] = str(max(int(retry_after), 1))
    if kind.status >= 500:
        log.error(
            "request %s failed: %s: %s",
            request_id_of(req),
            type(error).__name__,
            error.message,
            exc_info=kind.status == 500,
        )
    code = error.code if kind is not PROBLEMS[PaymentsError] else "internal_error"
    errors = error.errors if isinstance(error, ValidationError) else ()
    detail = kind.detail or error.message
    if outcome_unknown(error) and "refund_id" in error.details:
        detail = REFUND_OUTCOME_UNKNOWN_DETAIL
    elif outcome_unknown(error) and "purchase_id" in error.details:
        detail = OUTCOME_UNKNOWN_DETAIL
    write_problem(
        req,
        resp,
        status=kind.status,
        code=code,
        title=kind.title,
        detail=detail,
        errors=errors,
        extensions=_extensions(error, kind.status),
        headers=headers,
    )


def handle_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: dict[str, Any]
) -> None:
    """Falcon's own errors (unknown route, wrong method, body too large) as problems too."""
    status = error.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    write_problem(
        req,
        resp,
        status=status,
        code=_HTTP_CODES.get(status, f"http_{status}"),
        title=phrase,
        detail=error.description or phrase,
        headers=dict(error.headers or {}),
    )


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    """Anything else: logged with its stack, answered 500 without any internal text."""
    log.exception("request %s failed unexpectedly", request_id_of(req), exc_info=error)
    write_problem(
        req,
        resp,
        status=500,
        code="internal_error",
        title="Internal error",
        detail="An unexpected error occurred.",
    )


def register_error_handlers(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Install the handlers; Falcon picks the most specific one by the exception's MRO."""
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    for error_class in PROBLEMS:
        app.add_error_handler(error_class, handle_payments_error)
