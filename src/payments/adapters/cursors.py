"""The opaque cursor of a purchase listing page, the same for every purchase repository."""

from __future__ import annotations

import base64
from datetime import datetime

from payments.domain.errors import FieldError, ValidationError


def encode_cursor(created_at: datetime, purchase_id: str) -> str:
    """The opaque position after the purchase created at ``created_at`` with ``purchase_id``."""
    raw = f"{created_at.isoformat()}|{purchase_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position in a cursor from ``encode_cursor``; ``ValidationError`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, purchase_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(moment)
        if created_at.utcoffset() is None or not purchase_id:
            raise ValueError(cursor)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(
            "The cursor is invalid.", errors=[FieldError("cursor", "not a cursor we gave out")]
        ) from None
    return created_at, purchase_id
