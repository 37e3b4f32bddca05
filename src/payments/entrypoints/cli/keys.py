"""``payments api-keys create|list|revoke``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from payments.entrypoints.cli.common import open_container, when


def cmd_create(args: argparse.Namespace) -> int:
    _, secret = open_container().access().create_key(args.role, args.customer_id)
    print(f"created a {args.role} key; it is shown only this once:", file=sys.stderr)
    print(secret)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Every key with its prefix, never a secret (only hashes are stored)."""
    print("id\tprefix\trole\tcustomer_id\tcreated_at\trevoked_at")
    for key in open_container().access().list_keys():
        fields = (key.id, key.prefix, key.role.value, key.customer_id or "-")
        print("\t".join((*fields, when(key.created_at), when(key.revoked_at))))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    key = open_container().access().revoke_key(args.key_id)
    print(f"{key.id} ({key.prefix}...) revoked at {when(key.revoked_at)}")
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    keys = commands.add_parser("api-keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
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
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_revoke)
