"""``payments efecty import-settlements FILE``: apply an Efecty settlement file, each row once.

The file is the CSV ``POST /v1/efecty/settlements`` takes (docs/http-api.md). A progress bar is
drawn on a terminal; the report is printed either way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from payments.domain.cash_settlement import SettlementRow, parse_settlement
from payments.domain.errors import ValidationError
from payments.domain.services.cash_vouchers import SettlementLine, SettlementReport
from payments.entrypoints.cli.common import command_group, open_container
from payments.entrypoints.cli.progress import progress_bar

REPORTED_BY = "cli"


def _read(path: Path) -> Sequence[SettlementRow]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text.") from None
    except OSError as error:
        raise ValidationError(f"{path} cannot be read: {error.strerror}.") from None
    return parse_settlement(text)


def _print_lines(label: str, lines: list[SettlementLine]) -> None:
    for line in lines:
        print(f"{label}\tline {line.line}\t{line.code}\t{line.reason}")


def cmd_import_settlements(args: argparse.Namespace) -> int:
    try:
        rows = _read(Path(args.file))
    except ValidationError as error:
        for field in error.errors:
            print(f"payments: {field.field}: {field.message}", file=sys.stderr)
        raise
    desk = open_container().cash_vouchers()
    with progress_bar("settlement rows") as advance:
        report: SettlementReport = desk.settle(rows, REPORTED_BY, advance)
    _print_lines("duplicate", report.duplicate)
    _print_lines("unknown", report.unknown)
    _print_lines("mismatched", report.mismatched)
    print(
        f"{len(rows)} row(s): applied {len(report.applied)}, duplicate {len(report.duplicate)}, "
        f"unknown {len(report.unknown)}, mismatched {len(report.mismatched)}"
    )
    return 1 if report.unknown or report.mismatched else 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    efecty_sub = command_group(commands, "efecty", "Efecty cash vouchers: settlement files")
    settle = efecty_sub.add_parser(
        "import-settlements",
        help="apply an Efecty settlement file (CSV: code,amount,currency,receipt_number,paid_at)",
    )
    settle.add_argument("file", help="the settlement CSV file")
    settle.set_defaults(func=cmd_import_settlements)
