"""``payments purchases show``: everything recorded about one purchase, for an operator, as
tables or (``--json``) one JSON document."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table

from payments.domain.money import Money
from payments.domain.services.dossier import PurchaseDossier
from payments.entrypoints.cli.common import command_group, open_container

PURCHASE_FIELDS = (
    *("id", "reference", "status", "customer_id", "product_id", "amount", "refunded_amount"),
    *("credits", "country", "payment_method", "gateway", "gateway_reference", "needs_review"),
    *("review_reason", "failure_code", "failure_message", "created_at", "updated_at"),
    "completed_at",
)
# Each list of the dossier: its title and the fields shown of each item.
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "audit": ("Audit trail", ("at", "from_status", "to_status", "cause", "actor", "event_id")),
    "notifications": (
        "Notifications",
        (
            *("id", "provider", "event_id", "event_type", "status", "attempts"),
            *("received_at", "processed_at", "last_error"),
        ),
    ),
    "refunds": (
        "Refunds",
        (
            *("id", "amount", "status", "gateway", "gateway_reference", "reason"),
            *("created_at", "updated_at", "failure_message"),
        ),
    ),
    "ledger": (
        "Ledger entries",
        ("id", "kind", "asset", "amount", "source", "created_at", "expires_at", "reference"),
    ),
}


def json_value(value: object) -> Any:
    """A field as JSON: Money as ``{amount, currency}``, times in RFC 3339, decimals as text."""
    if isinstance(value, Money):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Money):
        return f"{value.format_amount()} {value.currency.code}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(json_value(value))


def _fields(item: object, names: Sequence[str]) -> dict[str, Any]:
    return {name: json_value(getattr(item, name)) for name in names}


def dossier_document(dossier: PurchaseDossier) -> dict[str, Any]:
    """The dossier as one JSON-ready document."""
    document: dict[str, Any] = {"purchase": _fields(dossier.purchase, PURCHASE_FIELDS)}
    for key, (_, names) in SECTIONS.items():
        document[key] = [_fields(item, names) for item in getattr(dossier, key)]
    return document


def _print_tables(dossier: PurchaseDossier) -> None:
    # Piped output gets a wide page rather than cells wrapped at 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 200)
    purchase = Table("field", "value", title=f"Purchase {dossier.purchase.id}")
    for name in PURCHASE_FIELDS:
        purchase.add_row(name, _cell(getattr(dossier.purchase, name)))
    console.print(purchase)
    for key, (title, names) in SECTIONS.items():
        items = getattr(dossier, key)
        table = Table(*names, title=f"{title} ({len(items)})")
        for item in items:
            table.add_row(*(_cell(getattr(item, name)) for name in names))
        console.print(table)


def cmd_purchases_show(args: argparse.Namespace) -> int:
    dossier = open_container().dossiers().dossier(args.purchase_id)
    if args.json:
        print(json.dumps(dossier_document(dossier), indent=2))
    else:
        _print_tables(dossier)
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    purchases_sub = command_group(commands, "purchases", "look at one purchase and its records")
    show = purchases_sub.add_parser(
        "show",
        help="the purchase, its audit trail, notifications, refunds and ledger entries",
    )
    show.add_argument("purchase_id")
    show.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    show.set_defaults(func=cmd_purchases_show)
