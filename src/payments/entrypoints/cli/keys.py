"""``payments api-keys create|list|revoke``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from payments.domain.access import ApiKey
from payments.entrypoints.cli.common import command_group, open_container, print_table, when


def cmd_create(args: argparse.Namespace) -> int:
    _, secret = open_container().access().create_key(args.role, args.customer_id)
    article = "an" if args.role[:1] in ("a", "e", "i", "o", "u") else "a"
    print(f"created {article} {args.role} key; it is shown only this once:", file=sys.stderr)
    print(secret)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Every key with its prefix, never a secret (only hashes are stored)."""
    columns = ("id", "prefix", "role", "customer_id", "created_at", "revoked_at")
    print_table(columns, [_key_row(key) for key in open_container().access().list_keys()])
    return 0


def _key_row(key: ApiKey) -> tuple[str | None, ...]:
    fields = (key.id, key.prefix, key.role.value, key.customer_id)
    return (*fields, when(key.created_at), when(key.revoked_at))


def cmd_revoke(args: argparse.Namespace) -> int:
    key = open_container().access().revoke_key(args.key_id)
    print(f"{key.id} ({key.prefix}...) revoked at {when(key.revoked_at)}")
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    keys_sub = command_group(commands, "api-keys", "manage API keys")
    create = keys_sub.add_parser("create", help="create a key and print it once")
    create.add_argument(
        "--role", required=True, choices=["admin", "merchant", "customer", "public"]
    )
    create.add_argument("--customer-id", default=None)
    create.set_defaults(func=cmd_create)
    keys_sub.add_parser(
        "list", help="every key: id, prefix, role, customer, created, revoked (never a secret)"
    ).set_defaults(func=cmd_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key: its bearer gets 401 from now on")
    revoke.add_argument("key_id", help="the key's id, as api-keys list shows it")
    revoke.set_defaults(func=cmd_revoke)
