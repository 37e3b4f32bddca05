"""``payments inbox list``, ``payments events list --unpublished`` and ``payments replay``: what
the service stored, for an operator."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from payments.domain.events import StoredEvent
from payments.domain.inbox import InboxMessage, InboxStatus
from payments.entrypoints.cli.common import (
    command_group,
    open_container,
    positive,
    print_table,
    when,
)
from payments.entrypoints.cli.progress import progress_bar


def cmd_inbox_list(args: argparse.Namespace) -> int:
    """Stored notifications, newest first: the ids ``payments replay`` takes."""
    status = InboxStatus(args.status) if args.status else None
    messages = open_container().inbox().recent(status=status, limit=args.limit)
    print_table(_INBOX_COLUMNS, [_inbox_row(message) for message in messages])
    return 0


_INBOX_COLUMNS = ("id", "provider", "event_type", "status", "attempts", "last_error")


def _inbox_row(message: InboxMessage) -> tuple[str, ...]:
    error = " ".join((message.last_error or "").split())  # one line per message
    if len(error) > 200:
        error = error[:199] + "…"
    fields = (message.id, message.provider, message.event_type, message.status.value)
    return (*fields, str(message.attempts), error or "-")


def cmd_events_list(args: argparse.Namespace) -> int:
    """The outbox's unpublished events, oldest first, and how many wait in all."""
    waiting, events = open_container().outbox_backlog().unpublished(limit=args.limit)
    columns = ("position", "event_id", "type", "aggregate_id", "occurred_at")
    print_table(columns, [_event_row(event) for event in events])
    print(f"{waiting} event(s) wait to be published", file=sys.stderr)
    return 0


def _event_row(event: StoredEvent) -> tuple[str | None, ...]:
    return (
        str(event.position),
        event.event_id,
        event.name,
        event.aggregate_id,
        when(event.occurred_at),
    )


def cmd_replay(args: argparse.Namespace) -> int:
    if (args.message_id is None) == (args.status is None):
        print("payments: give one message id, or --status", file=sys.stderr)
        return 2
    inbox = open_container().inbox()
    if args.message_id is not None:
        print(f"{args.message_id}: {inbox.replay(args.message_id)}")
        return 0
    with progress_bar(f"replaying {args.status} notifications") as progress:
        outcomes = inbox.replay_all(InboxStatus(args.status), args.limit, progress)
    replayed = sum(outcomes.values())
    summary = ", ".join(f"{status} {count}" for status, count in sorted(outcomes.items()))
    print(f"replayed {replayed} notification(s)" + (f": {summary}" if summary else ""))
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    inbox_sub = command_group(commands, "inbox", "look at stored notifications")
    listing = inbox_sub.add_parser(
        "list", help="stored notifications, newest first (ids for `payments replay`)"
    )
    listing.add_argument("--status", choices=[status.value for status in InboxStatus])
    listing.add_argument("--limit", type=positive, default=50)
    listing.set_defaults(func=cmd_inbox_list)

    events_sub = command_group(commands, "events", "look at the outbox of domain events")
    events_list = events_sub.add_parser(
        "list", help="the events waiting to be published, oldest first"
    )
    events_list.add_argument(
        "--unpublished", action="store_true", required=True, help="the backlog (required)"
    )
    events_list.add_argument("--limit", type=positive, default=50)
    events_list.set_defaults(func=cmd_events_list)

    replay = commands.add_parser(
        "replay", help="process one stored notification again, or every one in a status"
    )
    replay.add_argument("message_id", nargs="?")
    replay.add_argument(
        "--status",
        choices=[status.value for status in InboxStatus],
        help="replay the most recent notifications in this status (oldest of them first)",
    )
    replay.add_argument("--limit", type=positive, default=100)
    replay.set_defaults(func=cmd_replay)
