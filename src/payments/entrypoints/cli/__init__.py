"""The ``payments`` command line: migrate, serve, api-keys, inbox, events, replay, invoices,
worker, reconcile, purchases, efecty, subscriptions, webhooks. Each module registers its own
commands; ``main`` runs the one asked for."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from payments.domain.errors import PaymentsError
from payments.entrypoints.cli import (
    billing,
    efecty,
    invoices,
    keys,
    operations,
    records,
    serve,
    webhooks,
    worker,
)
from payments.entrypoints.cli.common import database_failure
from payments.entrypoints.logs import configure_logging

# The command groups, in the order ``payments --help`` lists them. A new group is a module
# with a ``register(commands)`` function, added here.
COMMAND_GROUPS = (
    serve,
    keys,
    records,
    invoices,
    worker,
    operations,
    efecty,
    billing,
    webhooks,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="payments", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("console")  # until the settings say otherwise
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except PaymentsError as error:
        print(f"payments: {error.message}", file=sys.stderr)
        return 2
    except Exception as error:
        failure = database_failure(error)
        if failure is None:
            raise
        print(f"payments: {failure}", file=sys.stderr)
        return 2
    return code
