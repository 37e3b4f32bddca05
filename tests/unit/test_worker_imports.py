"""An API worker does not import the libraries only rare requests or other processes use, and
a ``payments`` command does not import the Stripe SDK until it talks to Stripe."""

from __future__ import annotations

import json
import subprocess
import sys

# Each costs every worker megabytes of memory from its start (docs/benchmarks.md, issue 13).
DEFERRED = ("fpdf", "fontTools", "PIL", "nats", "redis")

_WORKER = """
import json, sys
from payments.config import Settings
from payments.containers import build_container
settings = Settings.from_env({"PAYMENTS_DATABASE_URL": "sqlite:///:memory:",
                              "PAYMENTS_MODE": "sandbox"})
build_container(settings).wsgi_app()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _packages_of_a_built_worker() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_built_api_worker_has_not_imported_the_deferred_libraries() -> None:
    loaded = _packages_of_a_built_worker()

    assert "falcon" in loaded  # the worker was built
    assert loaded.isdisjoint(DEFERRED), sorted(loaded & set(DEFERRED))


_COMMAND = """
import json, sys
import payments.entrypoints.cli
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_the_command_line_does_not_import_the_stripe_sdk_until_it_talks_to_stripe() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _COMMAND], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))

    assert "payments" in loaded  # the command line was imported
    assert "stripe" not in loaded
    assert "aiohttp" not in loaded
