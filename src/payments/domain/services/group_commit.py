"""Group commit: the threads of one process that arrive while a transaction is under way share
the next one, the way a database shares one log flush among the commits waiting for it.

Nobody waits on a timer. A thread that finds no batch under way runs one at once with what is
queued (at first, only its own item); threads that arrive meanwhile queue up, and when the
batch ends the first of them leads the next batch, with every item queued by then (at most
``most``). Alone, a thread's item is its own batch, with no added wait; under load, batches
grow with the load, and each item's caller gets its own outcome, or its own exception, when
its batch has ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Ticket(Generic[T, R]):
    """One thread's item, waiting in the queue and then in a batch.

    Its thread waits on a lock taken at the start and released once, when the thread is to
    go on: the cheapest wake-up threading has (an ``Event`` goes through a ``Condition``,
    whose lock and waiter list cost as much again on every batch)."""

    __slots__ = ("_gate", "item", "lead", "outcome")

    def __init__(self, item: T) -> None:
        self.item = item
        self._gate = threading.Lock()
        self._gate.acquire()
        self.lead = False  # set before ``wake`` when this thread is to run the next batch
        self.outcome: R | BaseException | None = None

    def wait(self) -> None:
        """Until ``wake`` (at once if it came already)."""
        self._gate.acquire()

    def wake(self) -> None:
        """Let the ticket's thread go on; once per ticket."""
        self._gate.release()


class GroupCommit(Generic[T, R]):
    """Runs ``run(items)`` on batches of the items that threads ``submit``; ``run`` returns an
    outcome per item, in order: a result, or an exception raised to that item's caller only."""

    def __init__(
        self, run: Callable[[Sequence[T]], Sequence[R | BaseException]], most: int
    ) -> None:
        if most < 1:
            raise ValueError("A batch holds at least one item.")
        self._run = run
        self._most = most
        self._lock = threading.Lock()
        self._queue: list[_Ticket[T, R]] = []
        self._running = False

    def submit(self, item: T) -> R:
        """``item``'s result, once the batch that holds it has run (raises its exception)."""
        ticket: _Ticket[T, R] = _Ticket(item)
        with self._lock:
            self._queue.append(ticket)
            leads = not self._running
            self._running = True
        if not leads:
            ticket.wait()
            leads = ticket.lead
        if leads:
            self._lead()
        outcome = ticket.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]  # a result, set by the batch

    def _lead(self) -> None:
        """Run one batch from the head of the queue (this thread's own ticket is its first
        item: the queue is empty whenever no batch runs), hand the next batch to the first
        thread still queued, then wake the batch's other threads."""
        with self._lock:
            batch = self._queue[: self._most]
            del self._queue[: self._most]
        try:
            outcomes: Sequence[R | BaseException] = self._run([t.item for t in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"A batch of {len(batch)} gave {len(outcomes)} outcomes.")
        except BaseException as error:  # every caller of the batch learns of it
            outcomes = [error] * len(batch)
        for ticket, outcome in zip(batch, outcomes, strict=True):
            ticket.outcome = outcome
        with self._lock:
            if self._queue:
                following = self._queue[0]
                following.lead = True
                following.wake()
            else:
                self._running = False
        for ticket in batch[1:]:  # the first is this thread's own
            ticket.wake()

    @property
    def most(self) -> int:
        """The largest batch."""
        return self._most

    @property
    def waiting(self) -> int:
        """How many items are queued for a batch that has not started yet."""
        with self._lock:
            return len(self._queue)
