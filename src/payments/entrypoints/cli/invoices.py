"""``payments invoices show ID [--pdf FILE]``: one invoice for an operator, and its PDF."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from payments.domain.access import Principal, Role
from payments.entrypoints.cli.common import command_group, open_container, when

OPERATOR = Principal(Role.ADMIN, "cli")
"""Whoever runs the command line operates the service: it reads any invoice."""


def cmd_invoices_show(args: argparse.Namespace) -> int:
    """The invoice's number, status, lines and figures; ``--pdf`` also writes its PDF."""
    invoices = open_container().invoices()
    if args.pdf is not None:
        invoice, document = invoices.pdf(args.invoice_id, OPERATOR)
        Path(args.pdf).write_bytes(document)
    else:
        invoice = invoices.get(args.invoice_id, OPERATOR)
    figures = invoice.figures
    for label, value in (
        ("id", invoice.id),
        ("number", invoice.number),
        ("status", invoice.status.value),
        ("purchase_id", invoice.purchase_id),
        ("customer_id", invoice.customer_id),
        ("country", invoice.country),
        ("issued_at", when(invoice.issued_at)),
    ):
        print(f"{label}\t{value}")
    print("description\tquantity\tunit_price\ttotal")
    for line in invoice.lines:
        print(f"{line.description}\t{line.quantity}\t{line.unit_price}\t{line.total}")
    print(f"subtotal\t{figures.subtotal}")
    print(f"tax ({invoice.tax_rate.normalize():f}%)\t{figures.tax}")
    print(f"total\t{figures.total}")
    if args.pdf is not None:
        print(f"pdf\t{args.pdf}")
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    group = command_group(commands, "invoices", "look at issued invoices")
    show = group.add_parser("show", help="one invoice: number, lines, tax and total")
    show.add_argument("invoice_id", help="the invoice's id (inv_...)")
    show.add_argument("--pdf", metavar="FILE", help="also write the invoice's PDF to FILE")
    show.set_defaults(func=cmd_invoices_show)
