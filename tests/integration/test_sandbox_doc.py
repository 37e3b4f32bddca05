"""docs/sandbox.md as a user runs it after ``make run``: its shell commands as written, against
``payments serve``, say what the document says they do."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.service import payments_env, payments_serve

REPOSITORY = Path(__file__).resolve().parents[2]
SANDBOX_DOC = REPOSITORY / "docs" / "sandbox.md"
DOCUMENTED_BASE = "http://127.0.0.1:8000"


def _shell_blocks(section: str) -> list[str]:
    """The ``sh`` blocks of one ``## section`` of docs/sandbox.md, in order."""
    text = SANDBOX_DOC.read_text()
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else len(text)]
    return re.findall(r"```sh\n(.*?)```", body, flags=re.DOTALL)


def test_every_documented_command_names_the_virtual_environment_make_creates() -> None:
    text = SANDBOX_DOC.read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    assert blocks
    bare = [
        line
        for block in blocks
        for line in block.splitlines()
        # A command word at the start of a line, after a pipe or in $(...), without .venv/bin/.
        if re.search(r"(?:^|[|(])\s*(python3?|payments)\b", line)
    ]
    assert bare == [], "not on PATH after make: write .venv/bin/python or .venv/bin/payments"


def _run_as_written(tmp_path: Path, *sections: str) -> list[dict[str, Any]]:
    """The ``sh`` blocks of ``sections``, in order, run by bash against ``payments serve``; the
    JSON objects they print, one per line."""
    script = "\n".join(block for section in sections for block in _shell_blocks(section))
    url = f"sqlite:///{tmp_path / 'payments.db'}"
    with payments_serve(url, tmp_path) as api:
        script = script.replace(DOCUMENTED_BASE, api)
        if not (REPOSITORY / ".venv" / "bin" / "payments").exists():  # another environment
            script = script.replace(".venv/bin/", f"{Path(sys.executable).parent}/")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPOSITORY,
            env=payments_env(url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_the_curl_walkthrough_as_written_completes_declines_and_pays_by_pse_as_documented(
    tmp_path: Path,
) -> None:
    assert "/decline" in "\n".join(_shell_blocks("Trying it with curl"))

    approved, declined, banks, paid = _run_as_written(tmp_path, "Trying it with curl")

    # The card purchase went to the Stripe adapter, against the Stripe simulator.
    assert approved["purchase"]["status"] == "completed"
    assert approved["result"]["gateway"] == "stripe"
    assert approved["result"]["type"] == "payment_intent.succeeded"
    assert approved["result"]["delivered_status"] == 200
    assert declined["purchase"]["status"] == "failed"
    assert declined["purchase"]["failure_code"] == "card_declined"
    # The Colombian PSE purchase went to the Wompi adapter, against the Wompi simulator.
    assert banks["gateway"] == "wompi"
    assert banks["banks"][0] == {"code": "1", "name": "Banco que aprueba"}
    assert paid["purchase"]["status"] == "completed"
    assert paid["result"]["gateway"] == "wompi"
    assert paid["result"]["delivered_status"] == 200


def test_the_efecty_walkthrough_as_written_pays_one_voucher_by_action_one_by_confirmation(
    tmp_path: Path,
) -> None:
    printed = _run_as_written(tmp_path, "Trying it with curl", "Efecty")

    approved, confirmed, account = printed[-3:]
    assert approved["purchase"]["status"] == "completed"
    assert approved["result"]["gateway"] == "efecty"
    assert approved["result"]["voucher"] == "accepted"
    assert confirmed["status"] == "completed"
    assert confirmed["gateway"] == "efecty"
    assert account["customer_id"] == "cus_carla"
    assert account["credits"] == "16.00"
