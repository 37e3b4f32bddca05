"""Text we can store: no NUL characters, no lone surrogates, provider text cut for display."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Final

_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")

MAX_CODE_LENGTH: Final = 255
"""Decline and failure codes, kept for display (``purchases.failure_code``)."""

MAX_MESSAGE_LENGTH: Final = 2000
"""Provider messages (failure reasons), kept for display."""


def storable(text: str) -> bool:
    """False for text PostgreSQL cannot store (a NUL) or that is not valid Unicode (a lone
    surrogate, which no encoder can write)."""
    return _UNSTORABLE.search(text) is None


def unstorable_fields(value: object, prefix: str = "") -> Iterator[str]:
    """The dotted names (``customer.name``, ``items[2]``) of every unstorable string in a
    decoded JSON value, keys included; ``prefix`` names the value itself."""
    stack: list[tuple[str, object]] = [(prefix, value)]
    while stack:
        name, item = stack.pop()
        if isinstance(item, str):
            if not storable(item):
                yield name or "body"
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                key_text = str(key)
                if not storable(key_text):
                    yield name or "body"
                    continue
                stack.append((f"{name}.{key_text}" if name else key_text, inner))
        elif isinstance(item, list | tuple):
            stack.extend((f"{name}[{index}]", inner) for index, inner in enumerate(item))


def display_text(text: str | None, limit: int) -> str | None:
    """Provider text kept for display only: unstorable characters replaced by U+FFFD, cut to
    ``limit`` characters (with an ellipsis when cut); None stays None."""
    if text is None:
        return None
    cleaned = _UNSTORABLE.sub("\ufffd", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\u2026"


def provider_code(code: str | None) -> str | None:
    """A provider's decline code as we keep it: storable, at most ``MAX_CODE_LENGTH``."""
    return display_text(code, MAX_CODE_LENGTH)


def provider_message(message: str | None) -> str | None:
    """A provider's message as we keep it: storable, at most ``MAX_MESSAGE_LENGTH``."""
    return display_text(message, MAX_MESSAGE_LENGTH)
