"""The embedding example runs as written, and the docs show exactly its code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "embedding.py"
DOC = ROOT / "docs" / "embedding.md"


def test_the_embedding_example_buys_a_package_and_credits_its_hours() -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "purchase pur_000001: pending",
        "notification: processed",
        "cus_ana has 8 credits",
    ]


def test_the_embedding_doc_shows_the_example_and_its_output_as_they_are() -> None:
    doc = DOC.read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    assert blocks[0] == EXAMPLE.read_text()
    run = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert f"It prints:\n\n```\n{run.stdout}```" in doc
