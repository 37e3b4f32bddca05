"""``GET /ready`` over real HTTP: ready only when the database answers and is migrated to the
revision this code needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from tests.integration.service import running_service
from tests.integration.unmigrated import empty_postgres_url

__all__ = ["empty_postgres_url"]  # the fixture, used by name


def _ready(url: str) -> tuple[int, str]:
    with running_service({"PAYMENTS_DATABASE_URL": url}) as service:
        response = service.call("GET", "/ready")
    return response.status_code, response.text


def test_a_never_migrated_sqlite_database_is_not_ready_until_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    status, body = _ready(url)
    assert status == 503
    assert "payments migrate" in body

    upgrade(url)
    assert _ready(url)[0] == 200


@pytest.mark.postgres
def test_a_never_migrated_postgresql_database_is_not_ready(empty_postgres_url: str) -> None:
    assert _ready(empty_postgres_url)[0] == 503
    upgrade(empty_postgres_url)
    assert _ready(empty_postgres_url)[0] == 200


def _stamp(url: str, statement: str) -> None:
    upgrade(url)
    engine: Engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


@pytest.mark.postgres
def test_tables_made_by_hand_and_never_stamped_are_not_ready(empty_postgres_url: str) -> None:
    _stamp(empty_postgres_url, "DELETE FROM alembic_version")
    assert _ready(empty_postgres_url)[0] == 503


@pytest.mark.postgres
def test_a_database_a_newer_release_migrated_stays_ready_for_a_rolling_deploy(
    empty_postgres_url: str,
) -> None:
    _stamp(empty_postgres_url, "UPDATE alembic_version SET version_num = 'f00dfeed'")
    assert _ready(empty_postgres_url)[0] == 200


def test_an_unreachable_database_is_not_ready() -> None:
    status, body = _ready("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    assert status == 503
    assert "postgres@" not in body


def test_a_database_behind_this_release_is_not_ready_until_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    upgrade(url, "0001")
    status, body = _ready(url)
    assert status == 503
    assert "payments migrate" in body
    upgrade(url)
    assert _ready(url)[0] == 200
