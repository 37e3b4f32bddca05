"""Key administration: listing keys (never a secret) and revoking one, whose bearer then gets
401; on every unit of work, and through the ``payments`` command line over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from payments.adapters.memory import FixedClock, InMemoryStore, InMemoryUnitOfWork, SequentialIds
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import ApiKey, Role
from payments.domain.errors import AuthenticationRequiredError, NotFoundError
from payments.domain.ports import UnitOfWork
from payments.domain.services.access import AccessService
from tests.integration.service import running_service

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> UnitOfWork:
    if request.param == "memory":
        return InMemoryUnitOfWork()
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return SqlUnitOfWork(engine)


def test_keys_are_listed_oldest_first_and_a_revocation_keeps_its_first_time(
    uow: UnitOfWork,
) -> None:
    later = ApiKey("key_2", "pay_merc_bbbb", "b" * 64, Role.MERCHANT, None, T0 + timedelta(1))
    first = ApiKey("key_1", "pay_admi_aaaa", "a" * 64, Role.ADMIN, None, T0)
    with uow:
        uow.api_keys.add(later)
        uow.api_keys.add(first)
        uow.commit()
    with uow:
        uow.api_keys.revoke("key_2", T0 + timedelta(days=2))
        uow.api_keys.revoke("key_nope", T0)  # nothing to revoke: nothing happens
        uow.commit()
    with uow:
        uow.api_keys.revoke("key_2", T0 + timedelta(days=9))  # already revoked: unchanged
        uow.commit()

    with uow:
        listed = uow.api_keys.list()
        revoked = uow.api_keys.get("key_2")
        assert uow.api_keys.get("key_nope") is None
    assert [key.id for key in listed] == ["key_1", "key_2"]
    assert listed[0] == first
    assert revoked is not None
    assert revoked.revoked_at == T0 + timedelta(days=2)
    assert listed[1] == revoked


def test_a_revoked_key_no_longer_authenticates_and_an_unknown_one_is_not_found() -> None:
    store = InMemoryStore()
    access = AccessService(lambda: InMemoryUnitOfWork(store), FixedClock(T0), SequentialIds())
    key, secret = access.create_key("merchant")
    assert access.authenticate(secret).key_id == key.id

    revoked = access.revoke_key(key.id)

    assert revoked.revoked_at == T0
    assert access.revoke_key(key.id) == revoked  # again: the same, nothing changes
    with pytest.raises(AuthenticationRequiredError):
        access.authenticate(secret)
    with pytest.raises(NotFoundError):
        access.revoke_key("key_nope")


def _payments(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENTS_")}
    return subprocess.run(
        [sys.executable, "-m", "payments.entrypoints.cli", *args],
        env={**env, "PAYMENTS_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_api_keys_list_and_revoke_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    merchant = _payments(url, "api-keys", "create", "--role", "merchant").stdout.strip()
    customer = _payments(
        url, "api-keys", "create", "--role", "customer", "--customer-id", "cus_ana"
    ).stdout.strip()

    listed = _payments(url, "api-keys", "list")

    assert listed.returncode == 0, listed.stderr
    header, *rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert header == ["id", "prefix", "role", "customer_id", "created_at", "revoked_at"]
    assert [(row[2], row[3], row[5]) for row in rows] == [
        ("merchant", "-", "-"),
        ("customer", "cus_ana", "-"),
    ]
    assert merchant.startswith(rows[0][1])
    for secret in (merchant, customer):  # a prefix, never the secret
        assert secret not in listed.stdout
        assert secret[len(rows[0][1]) :] not in listed.stdout  # nor what follows its prefix
    merchant_id = rows[0][0]

    revoked = _payments(url, "api-keys", "revoke", merchant_id)

    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith(f"{merchant_id} ({rows[0][1]}...) revoked at ")
    after = [line.split("\t") for line in _payments(url, "api-keys", "list").stdout.splitlines()]
    assert after[1][0] == merchant_id
    assert after[1][5] != "-"
    assert after[2][5] == "-"
    with running_service({"PAYMENTS_DATABASE_URL": url}) as service:
        refused = service.call("GET", "/v1/accounts/cus_ana", merchant)
        allowed = service.call("GET", "/v1/accounts/cus_ana", customer)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert allowed.status_code == 200, allowed.text


def test_revoking_an_unknown_key_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)

    done = _payments(url, "api-keys", "revoke", "key_never_made")

    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "payments: No API key 'key_never_made'."
