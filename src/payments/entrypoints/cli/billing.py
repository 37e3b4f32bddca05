"""``payments subscriptions list|show|cancel``: subscriptions for an operator (acting as admin)."""

from __future__ import annotations

import argparse
from typing import Any

from payments.domain.access import Principal, Role
from payments.domain.subscription import Subscription, SubscriptionStatus
from payments.entrypoints.cli.common import command_group, open_container, positive, when

OPERATOR = Principal(Role.ADMIN, key_id="cli")
"""Who the command line acts as: an operator with the admin role."""


def _line(s: Subscription) -> str:
    fields = (s.id, s.customer_id, s.plan_id, s.status.value, str(s.price))
    ends = "cancels at " if s.cancel_at_period_end else ""
    return "\t".join((*fields, when(s.current_period_end), f"{ends}{when(s.next_charge_at)}"))


def cmd_list(args: argparse.Namespace) -> int:
    """Subscriptions newest first, one per line (a customer's with ``--customer-id``)."""
    found = open_container().subscriptions().list_subscriptions(OPERATOR, args.customer_id)
    print("id\tcustomer_id\tplan_id\tstatus\tprice\tperiod_end\tnext_charge")
    for subscription in found[: args.limit]:
        print(_line(subscription))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """One subscription, one field per line."""
    s = open_container().subscriptions().get(args.subscription_id, OPERATOR)
    for name, value in (
        ("id", s.id),
        ("customer_id", s.customer_id),
        ("plan_id", s.plan_id),
        ("status", s.status.value),
        ("price", f"{s.price} {s.terms.billing_cycle.value}"),
        ("gateway", s.saved_method.gateway),
        ("current_period", f"{when(s.current_period_start)} .. {when(s.current_period_end)}"),
        ("trial_end", when(s.trial_end)),
        ("next_charge_at", when(s.next_charge_at)),
        ("failed_attempts", str(s.failed_attempts)),
        ("cancel_at_period_end", "yes" if s.cancel_at_period_end else "no"),
        ("cancelled_at", when(s.cancelled_at)),
        ("latest_purchase_id", s.latest_purchase_id or "-"),
    ):
        print(f"{name}: {value}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel now, or at the end of the current period with ``--at-period-end``."""
    s = (
        open_container()
        .subscriptions()
        .cancel(args.subscription_id, OPERATOR, at_period_end=args.at_period_end)
    )
    ending = s.cancel_at_period_end and s.status is not SubscriptionStatus.CANCELLED
    state = f"cancels at {when(s.current_period_end)}" if ending else s.status.value
    print(f"{s.id}: {state}")
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    sub = command_group(commands, "subscriptions", "list, show or cancel subscriptions")
    listing = sub.add_parser("list", help="subscriptions, newest first")
    listing.add_argument("--customer-id")
    listing.add_argument("--limit", type=positive, default=100)
    listing.set_defaults(func=cmd_list)
    for name, run, summary in (
        ("show", cmd_show, "one subscription"),
        ("cancel", cmd_cancel, "cancel now (or --at-period-end)"),
    ):
        one = sub.add_parser(name, help=summary)
        one.add_argument("subscription_id", help="the subscription's id (sub_...)")
        one.set_defaults(func=run)
        if name == "cancel":
            one.add_argument("--at-period-end", action="store_true")
