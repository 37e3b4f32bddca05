"""The API's problem documents (RFC 9457) as the package's own exceptions, by their ``type``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from payments.domain import errors
from payments.domain.errors import FieldError, PaymentsError

PROBLEM_TYPE_BASE: Final = "https://payments.dev/problems/"

_BY_STATUS: Final[Mapping[int, type[PaymentsError]]] = {
    400: errors.MalformedRequestError,
    401: errors.AuthenticationRequiredError,
    403: errors.ForbiddenError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.ValidationError,
    429: errors.RateLimitedError,
    502: errors.GatewayConfigurationError,
    503: errors.GatewayUnavailableError,
}
"""For a problem whose code names no class (``method_not_allowed``, ``payload_too_large``)."""


def _classes_by_code(root: type[PaymentsError]) -> dict[str, type[PaymentsError]]:
    found = {root.code: root}
    for child in root.__subclasses__():
        found.update(_classes_by_code(child))
    return found


def problem_code(problem: Mapping[str, Any]) -> str:
    """The stable code of a problem: the end of its ``type`` URL, else its ``code`` member."""
    kind = problem.get("type")
    if isinstance(kind, str) and kind.startswith(PROBLEM_TYPE_BASE):
        return kind.removeprefix(PROBLEM_TYPE_BASE)
    code = problem.get("code")
    return code if isinstance(code, str) else ""


def error_for_answer(status: int, body: bytes, retry_after: str | None = None) -> PaymentsError:
    """The exception a non-2xx answer stands for: the class of ``domain.errors`` whose ``code``
    the problem's ``type`` names (by the status when none does), with the problem's ``detail``
    as its message, its members in ``details`` (``status``, ``request_id``, ``purchase_id``,
    ...), its ``errors`` as ``FieldError``s on a ``ValidationError``."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    problem: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
    cls = _classes_by_code(PaymentsError).get(problem_code(problem))
    if cls is None:
        cls = _BY_STATUS.get(status, PaymentsError)
    detail = problem.get("detail")
    error = cls(detail if isinstance(detail, str) else f"The API answered {status}.")
    error.details = {"status": status, **problem}
    if isinstance(error, errors.ValidationError):
        error.errors = tuple(
            FieldError(str(item.get("field")), str(item.get("message")))
            for item in problem.get("errors") or ()
            if isinstance(item, dict)
        )
    elif isinstance(error, errors.PaymentDeclinedError):
        error.provider_code = problem.get("decline_code")
    elif isinstance(error, errors.GatewayUnavailableError):
        error.charged_possible = "purchase_id" in problem or "refund_id" in problem
    elif isinstance(error, errors.RateLimitedError) and retry_after and retry_after.isdigit():
        error.retry_after = int(retry_after)
    return error
