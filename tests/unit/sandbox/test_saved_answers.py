"""The simulators' Idempotency-Key store: replay for the same request, conflict for another."""

from __future__ import annotations

import pytest

from payments.domain.errors import IdempotencyConflictError
from payments.sandbox.idempotency import SavedAnswer, SavedAnswers


def test_the_same_key_and_request_replay_the_saved_answer() -> None:
    answers = SavedAnswers()
    answers.save("key-1", "fingerprint-a", 201, b"{}")
    assert answers.replay("key-1", "fingerprint-a") == SavedAnswer("fingerprint-a", 201, b"{}")


def test_the_same_key_with_another_request_is_a_conflict() -> None:
    answers = SavedAnswers()
    answers.save("key-1", "fingerprint-a", 201, b"{}")
    with pytest.raises(IdempotencyConflictError):
        answers.replay("key-1", "fingerprint-b")


def test_a_new_key_has_nothing_to_replay() -> None:
    assert SavedAnswers().replay("key-1", "fingerprint-a") is None


def test_without_a_key_nothing_is_saved_or_replayed() -> None:
    answers = SavedAnswers()
    answers.save(None, "fingerprint-a", 201, b"{}")
    assert answers.replay(None, "fingerprint-a") is None
