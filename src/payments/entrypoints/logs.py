"""Log lines: the request id on every record, secrets masked, console or JSON output."""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar, Token
from datetime import UTC, datetime

# The id of the request this thread is handling (set by ``RequestIdMiddleware``), else None.
current_request_id: ContextVar[str | None] = ContextVar("payments_request_id", default=None)

CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
MASK = "[REDACTED]"

# What never reaches a log line: credentials of every kind we hold, and card numbers.
_SECRETS = re.compile(
    r"(?P<bearer>(?<![A-Za-z0-9])Bearer\s+)[^\s,;\"']+"
    r"|(?<![A-Za-z0-9])(?:"
    r"pay_[a-z]{4}_[A-Za-z0-9_\-]{16,}"  # our API keys (services.access.KEY_PREFIX)
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]+"  # Stripe secret and restricted keys
    r"|rk_[A-Za-z0-9]{8,}"
    r"|whsec_[A-Za-z0-9+/=]+"  # Stripe webhook signing secrets
    r"|(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"  # Stripe client secrets
    r"|prv_(?:test|prod|stagtest)_[A-Za-z0-9_\-]+"  # Wompi private keys
    r"|(?:test|prod|stagtest)_(?:integrity|events)_[A-Za-z0-9_\-]+"  # Wompi secrets
    r")"
    r"|(?<![0-9])(?:[0-9][ \-]?){12,18}[0-9](?![0-9])"  # 13-19 digit card-number-like runs
)


# Every match of ``_SECRETS`` holds one of these, or 13 digits apart by at most one space or
# dash: text without any is returned as it is, without the whole pattern tried at each of its
# characters (about a third of what a log line costs: every line is redacted).
_SECRET_MARKERS = (
    "Bearer",
    "pay_",
    "sk_",
    "rk_",
    "whsec_",
    "pi_",
    "seti_",
    "prv_",
    "_integrity_",
    "_events_",
)
_CARD_LIKE = re.compile(r"[0-9](?:[ \-]?[0-9]){12}")


def _may_hold_a_secret(text: str) -> bool:
    for marker in _SECRET_MARKERS:
        if marker in text:
            return True
    return _CARD_LIKE.search(text) is not None


def redact(text: str) -> str:
    """``text`` with every API key, provider secret, client secret and card number masked."""
    if not _may_hold_a_secret(text):
        return text
    return _SECRETS.sub(lambda m: (m.group("bearer") or "") + MASK, text)


class RedactionFilter(logging.Filter):
    """Masks secrets in a record's message, its arguments and its traceback (it never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit: keep each one, masked
            message = " ".join([str(record.msg), *(str(arg) for arg in _args_of(record))])
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _args_of(record: logging.LogRecord) -> tuple[object, ...]:
    args = record.args
    if isinstance(args, tuple):
        return args
    return () if args is None else (args,)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


def enter_request(request_id: str) -> Token[str | None]:
    """Marks the records this thread logs from now on with ``request_id``."""
    return current_request_id.set(request_id)


def leave_request(token: Token[str | None]) -> None:
    """Ends what ``enter_request`` began (threads of a pool serve many requests)."""
    current_request_id.reset(token)


_STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def context_fields(record: logging.LogRecord) -> dict[str, object]:
    """The fields a record was given with ``extra=`` (provider, event_id, purchase_id, ...)."""
    fields: dict[str, object] = {}
    for name, value in vars(record).items():
        if name not in _STANDARD_FIELDS and not name.startswith("_"):
            plain = isinstance(value, str | int | float | bool) or value is None
            fields[name] = redact(value) if isinstance(value, str) else value if plain else None
    return fields


class ConsoleLogFormatter(logging.Formatter):
    """``CONSOLE_FORMAT``, then ``request_id=…`` when the line was logged inside a request."""

    def __init__(self) -> None:
        super().__init__(CONSOLE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} request_id={request_id}{newline}{rest}"


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (RFC 3339 UTC), ``level``, ``logger``, ``message``,
    ``request_id`` inside a request, the record's context fields, and ``exception`` (the
    formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        for name, value in context_fields(record).items():
            entry.setdefault(name, value)
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def install_filters(handler: logging.Handler) -> logging.Handler:
    """Gives ``handler`` the request id and the redaction step (in that order)."""
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactionFilter())
    return handler


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """Log ``level`` and above to standard error, as console lines or (``json``) JSON lines,
    each with its request id and with secrets masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter() if log_format == "json" else ConsoleLogFormatter())
    logging.basicConfig(level=level, handlers=[install_filters(handler)], force=True)
    # Alembic announces each of its plugins at INFO on every command: noise for an operator.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
