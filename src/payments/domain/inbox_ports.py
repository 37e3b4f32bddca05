"""The port of the webhook inbox: every provider notification stored once, then applied."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from datetime import datetime

from payments.domain.inbox import InboxMessage


class InboxRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, message: InboxMessage) -> bool:
        """Store a notification; False (nothing written) when (provider, event id) is already in."""

    def store_new(self, messages: Sequence[InboxMessage]) -> set[str]:
        """Store notifications (of distinct events), in one statement where the store can; the
        ids of those stored (one whose (provider, event id) is already in is skipped)."""
        return {message.id for message in messages if self.add(message)}

    @abc.abstractmethod
    def get(self, message_id: str) -> InboxMessage | None:
        """The message, or None."""

    @abc.abstractmethod
    def save(self, message: InboxMessage) -> None:
        """Persist the message's status, attempts and errors."""

    def save_all(self, messages: Sequence[InboxMessage]) -> None:
        """``save`` each message (distinct), in one statement where the store can."""
        for message in messages:
            self.save(message)

    @abc.abstractmethod
    def claim_received(self, limit: int) -> builtins.list[InboxMessage]:
        """Messages stored to be applied (``received``), oldest first, locked until the unit of
        work ends so that no other worker takes them meanwhile."""

    @abc.abstractmethod
    def claim_due(self, now: datetime, limit: int) -> builtins.list[InboxMessage]:
        """Failed messages whose retry time has come, locked so no other worker takes them."""

    @abc.abstractmethod
    def list(self, *, status: str | None = None, limit: int = 50) -> builtins.list[InboxMessage]:
        """Recent messages, newest first, optionally of one status."""

    @abc.abstractmethod
    def for_purchase(self, purchase_id: str) -> builtins.list[InboxMessage]:
        """The messages applied to the purchase, in the order they arrived."""

    @abc.abstractmethod
    def count_by_status(self) -> dict[str, int]:
        """How many messages are in each status (statuses without any are left out)."""
