"""A fixture for start-up and readiness tests: a PostgreSQL database nobody has migrated."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url, text

from payments.adapters.sql.engine import make_engine


@pytest.fixture
def empty_postgres_url(postgres_database_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database on the test server, dropped afterwards."""
    name = f"payments_empty_{secrets.token_hex(6)}"
    admin = make_engine(postgres_database_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(postgres_database_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
