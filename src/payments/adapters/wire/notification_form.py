"""Form-encoded notification bodies parsed with limits: size, number of fields, no repeats.

The counterpart of ``notification_json`` for providers that post
``application/x-www-form-urlencoded`` (PayU's confirmation page): an absurd body is one
``MalformedNotificationError`` (400), never a parser working through megabytes of pairs.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

from payments.adapters.wire.notification_json import MAX_NOTIFICATION_BYTES
from payments.domain.errors import MalformedNotificationError

__all__ = ["MAX_FORM_FIELDS", "parse_form_notification"]

MAX_FORM_FIELDS: Final = 200
"""A form with more fields than this is refused (PayU's confirmation has about 60)."""


def parse_form_notification(body: bytes, provider: str) -> dict[str, str]:
    """The fields of a form-encoded notification body, each named once.

    Raises ``MalformedNotificationError`` naming ``provider`` for a body larger than
    ``MAX_NOTIFICATION_BYTES``, with more than ``MAX_FORM_FIELDS`` fields, that is not ASCII
    form text, or that names a field twice (a second ``value`` must not hide behind the signed
    one). Percent-escapes are read as UTF-8; a replaced character in a signed field only makes
    its signature fail.
    """
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise MalformedNotificationError(f"A {provider} notification is too large.")
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="replace",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedNotificationError(f"Not a form-encoded {provider} notification.") from error
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise MalformedNotificationError(f"A {provider} notification names a field twice.")
    return fields
