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


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_embedding_doc_sql_snippet_runs_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    (snippet,) = [block for block in _python_blocks() if "SqlUnitOfWork" in block]
    script = (
        "from payments.testing import bootstrap\n" + snippet + "print(payments.inbox.recent())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "[]\n"
    assert (tmp_path / "payments.db").exists()


def test_the_embedding_doc_contract_subclass_passes_the_rate_limiter_suite(
    tmp_path: Path,
) -> None:
    (snippet,) = [block for block in _python_blocks() if "RateLimiterContract" in block]
    (tmp_path / "test_my_limiter.py").write_text(snippet)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_limiter.py"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "6 passed" in run.stdout
