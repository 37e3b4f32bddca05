"""schemathesis against the running service: ``payments serve`` on PostgreSQL, over real HTTP.

Every operation of the served document, with requests that follow it (positive) and requests
that break it (negative), answers without a server error. The document declares no links, so
there is no stateful run. A small example budget keeps this under half a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.integration.service import payments_env, payments_serve, run_payments

EXAMPLES_PER_OPERATION = 15
PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}


@pytest.fixture(scope="module")
def served(postgres_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``payments serve`` on the throwaway PostgreSQL database, an admin key and a product."""
    created = run_payments(
        "api-keys", "create", "--role", "admin", env=payments_env(postgres_database_url)
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[-1]
    with payments_serve(postgres_database_url, tmp_path_factory.mktemp("schemathesis")) as url:
        product = requests.post(
            url + "/v1/products",
            json=PACKAGE,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert product.status_code == 201, product.text
        yield url, key


@pytest.mark.postgres
def test_the_served_document_finds_no_server_error(served: Any, tmp_path: Path) -> None:
    base_url, key = served
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    schema.config.update(base_url=base_url, headers={"Authorization": f"Bearer {key}"})
    session = requests.Session()
    failures: list[str] = []
    answered: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception:  # schemathesis cannot break every operation
                continue

            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.generate],
            )
            @hypothesis.given(case=strategy)
            def run(case: Any) -> None:
                response = case.call_and_validate(session=session, checks=[not_a_server_error])
                answered.append(response.status_code)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                continue
            except Exception as error:  # collected, reported together below
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert failures == []
    assert len(answered) > 100, answered  # every operation was exercised, not skipped
    assert {code for code in answered if code < 300}, "no request succeeded"
