"""The domain imports nothing but the standard library and itself (checked on the source)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import payments.domain

DOMAIN = Path(payments.domain.__file__).parent


def test_domain_imports_only_the_standard_library() -> None:
    offenders = []
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                allowed = top in sys.stdlib_module_names or top == "__future__"
                if not allowed and not name.startswith("payments.domain"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert len(list(DOMAIN.rglob("*.py"))) > 10
