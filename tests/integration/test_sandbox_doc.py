"""docs/sandbox.md as a user runs it after ``make run``: its shell commands as written, against
``payments serve``, say what the document says they do."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

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


def test_the_curl_walkthrough_as_written_completes_and_declines_as_documented(
    tmp_path: Path,
) -> None:
    script = "\n".join(_shell_blocks("Trying it with curl"))
    assert "decline+insufficient_funds@example.com" in script
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
    approved, declined = (json.loads(line) for line in done.stdout.splitlines() if line.strip())
    assert approved["purchase"]["status"] == "completed"
    assert approved["result"]["delivered_status"] == 200
    # The document says 201 with the purchase failed, not a 402 problem.
    assert declined["status"] == "failed"
    assert declined["failure_code"] == "insufficient_funds"
    assert "HTTP 402" not in SANDBOX_DOC.read_text()
