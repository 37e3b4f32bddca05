"""The simulators' Idempotency-Key store: the same key and request replay the saved answer."""

from __future__ import annotations

from dataclasses import dataclass

from payments.domain.errors import IdempotencyConflictError

__all__ = ["Answer", "SavedAnswer", "SavedAnswers"]

Answer = tuple[int, bytes, dict[str, str]]
"""An HTTP answer of a simulator: ``(status, body, extra headers)``."""


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """The answer a provider gave to the first request under a key."""

    fingerprint: str
    status: int
    body: bytes


class SavedAnswers:
    """Answers by ``Idempotency-Key``; each simulator decides which answers it saves.

    Not locked: a simulator calls it under its own lock, around the operation it guards.
    """

    def __init__(self) -> None:
        self._saved: dict[str, SavedAnswer] = {}

    def replay(self, key: str | None, fingerprint: str) -> SavedAnswer | None:
        """The answer saved under ``key``, or None (always None without a key).

        Raises ``IdempotencyConflictError`` when the key was first used with another request
        (another ``fingerprint``)."""
        saved = self._saved.get(key) if key else None
        if saved is not None and saved.fingerprint != fingerprint:
            raise IdempotencyConflictError(
                "This idempotency key was used with another request.", details={"key": key}
            )
        return saved

    def save(self, key: str | None, fingerprint: str, status: int, body: bytes) -> None:
        """Keep the answer to replay for ``key`` (nothing without a key)."""
        if key:
            self._saved[key] = SavedAnswer(fingerprint, status, body)
