"""The test kit ships in the wheel: its contract suites import from the built wheel alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("payments.testing.contracts.gateway", "payments.testing.contracts.rate_limiter")

# Run with -I -S: no environment variables, no current directory, no site processing (so no
# editable-install .pth puts src/ on the path); the wheel comes first and the installed
# dependencies (pytest, falcon, stripe...) are appended by hand.
IMPORT_FROM_WHEEL = """
import importlib, sys
wheel, site = sys.argv[1], sys.argv[2]
sys.path.insert(0, wheel)
sys.path.append(site)
for name in sys.argv[3:]:
    print(importlib.import_module(name).__file__)
"""


def _build_wheel(tmp_path: Path) -> Path:
    """``pip wheel`` of a copy of the project (the build leaves nothing in the worktree)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("payments-*.whl")
    return wheel


def test_the_contract_suites_import_from_the_built_wheel_alone(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"payments/testing/contracts/gateway.py", "payments/testing/bootstrap.py"} <= names
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            IMPORT_FROM_WHEEL,
            str(wheel),
            sysconfig.get_paths()["purelib"],
            *SUITES,
            "payments.testing",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    files = run.stdout.splitlines()
    assert len(files) == len(SUITES) + 1
    for file in files:
        assert file.startswith(str(wheel) + "/payments/testing/"), file
