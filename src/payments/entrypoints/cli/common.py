"""What every command shares: the settings, the composition root, and how things are printed."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from payments.config import Settings
from payments.containers import Container, build_container
from payments.domain.errors import PaymentsError
from payments.entrypoints.logs import configure_logging


def load_settings() -> Settings:
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_format, settings.log_level)
    return settings


def open_container(settings: Settings | None = None) -> Container:
    """The composition root for a command; the embedded SQLite database is migrated first."""
    container = build_container(settings or load_settings())
    container.migrate_embedded()
    return container


def when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


def command_group(
    commands: argparse._SubParsersAction[Any], name: str, help: str
) -> argparse._SubParsersAction[Any]:
    """A command of sub-commands (``payments <name> <sub-command>``): where they are added."""
    group: argparse.ArgumentParser = commands.add_parser(name, help=help)
    return group.add_subparsers(dest=f"{name.replace('-', '_')}_command", required=True)


def print_table(columns: Sequence[str], rows: Iterable[Sequence[str | None]]) -> None:
    """Tab-separated lines for an operator or a script: the column names, then a line a row,
    ``-`` where a value is missing."""
    print("\t".join(columns))
    for row in rows:
        print("\t".join(value or "-" for value in row))


def positive(text: str) -> int:
    """An ``argparse`` type: a whole number above zero."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return number


def redact(url: str) -> str:
    """``url`` without its user, password and query (where a password may also be given)."""
    url = url.split("?", 1)[0]
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def database_failure(error: BaseException) -> str | None:
    """One line for a database error (None for any other): the driver's message may quote
    the URL, a statement or its values, so only its class is shown."""
    reason = Container.database_error_reason(error)
    if reason is None:
        return None
    unreachable, name = reason
    try:
        where = redact(Settings.from_env(os.environ).database_url)
    except PaymentsError:
        where = "PAYMENTS_DATABASE_URL"
    if unreachable:
        return f"cannot reach the database at {where}: {name}"
    return (
        f"the database at {where} refused a statement: {name} "
        "(is it migrated? run `payments migrate`)"
    )
