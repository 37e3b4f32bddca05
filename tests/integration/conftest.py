"""Integration fixtures: real databases (SQLite files and a throwaway PostgreSQL database)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nats
import nats.js.errors
import pytest
from sqlalchemy import Engine, make_url, text

from payments.adapters.events import NatsEventPublisher
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import metadata

# == SQL adapter fixtures (payments.adapters.sql): sqlite_engine, postgres_engine ===============
# Fixtures of other areas go below this block.

POSTGRES_URL_VARIABLE = "PAYMENTS_TEST_DATABASE_URL"
REQUIRE_POSTGRES_VARIABLE = "PAYMENTS_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file database, migrated to the latest revision."""
    url = f"sqlite:///{tmp_path / 'payments.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _unreachable(url: str) -> str | None:
    """Why the PostgreSQL server at ``url`` cannot be used, or None when it answers."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL database for this test session, migrated.

    The server is ``$PAYMENTS_TEST_DATABASE_URL``, else the local default if it answers. A server
    that does not answer skips the PostgreSQL tests, unless ``PAYMENTS_REQUIRE_POSTGRES=1`` or
    the URL was given explicitly: then they fail.
    """
    configured = os.environ.get(POSTGRES_URL_VARIABLE)
    server_url = configured or DEFAULT_POSTGRES_URL
    problem = _unreachable(server_url)
    if problem is not None:
        shown = make_url(server_url).render_as_string(hide_password=True)
        message = f"PostgreSQL at {shown} is not reachable ({problem})."
        if configured or os.environ.get(REQUIRE_POSTGRES_VARIABLE) == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(f"{message} Set {POSTGRES_URL_VARIABLE} to run the PostgreSQL tests.")
    name = f"payments_test_{secrets.token_hex(6)}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_session_engine(postgres_database_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(_postgres_session_engine: Engine) -> Engine:
    """The session's PostgreSQL database, every table emptied before the test."""
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with _postgres_session_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
    return _postgres_session_engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Engine:
    """Each database the service runs on, fresh: the test runs once on SQLite, once on
    PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


# == end of SQL adapter fixtures =================================================================


# == NATS fixtures (payments.adapters.events): nats_stream =======================================

NATS_URL_VARIABLE = "PAYMENTS_TEST_NATS_URL"
REQUIRE_NATS_VARIABLE = "PAYMENTS_REQUIRE_NATS"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


@dataclass
class NatsStream:
    """A JetStream stream and subject prefix of one test's own on the test server."""

    url: str
    stream: str
    prefix: str

    def publisher(self, url: str | None = None, timeout: float = 2.0) -> NatsEventPublisher:
        """A publisher to this stream (at ``url`` instead, to reach a server that is down)."""
        return NatsEventPublisher(
            url or self.url, stream=self.stream, subject_prefix=self.prefix, timeout=timeout
        )

    def messages(self) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
        """Every message in the stream, in stream order: subject, headers, decoded body."""
        return asyncio.run(self._messages())

    async def _messages(self) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
        client = await nats.connect(self.url)
        try:
            jetstream = client.jetstream()
            try:
                info = await jetstream.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                return []
            out = []
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                message = await jetstream.get_msg(self.stream, sequence)
                body = json.loads(message.data or b"{}")
                out.append((message.subject or "", dict(message.headers or {}), body))
            return out
        finally:
            await client.close()

    def delete(self) -> None:
        asyncio.run(self._delete())

    async def _delete(self) -> None:
        client = await nats.connect(self.url)
        try:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await client.jetstream().delete_stream(self.stream)
        finally:
            await client.close()


def _nats_unreachable(url: str) -> str | None:
    """Why the NATS server at ``url`` cannot be used, or None when it answers."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 4222), timeout=2) as sock:
            if not sock.recv(4096).startswith(b"INFO"):
                return "it does not speak NATS"
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    return None


@pytest.fixture
def nats_stream() -> Iterator[NatsStream]:
    """A stream and subject prefix of this test's own on the NATS server (JetStream enabled),
    deleted after the test. A server that does not answer skips the test, unless
    ``PAYMENTS_REQUIRE_NATS=1`` or ``PAYMENTS_TEST_NATS_URL`` was set: then it fails."""
    configured = os.environ.get(NATS_URL_VARIABLE)
    url = configured or DEFAULT_NATS_URL
    problem = _nats_unreachable(url)
    if problem is not None:
        message = (
            f"NATS at {urlsplit(url).hostname}:{urlsplit(url).port} is not reachable ({problem})."
        )
        if configured or os.environ.get(REQUIRE_NATS_VARIABLE) == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(f"{message} Start nats-server -js, or set {NATS_URL_VARIABLE}.")
    token = secrets.token_hex(4)
    stream = NatsStream(url, f"PAYMENTS_TEST_{token}", f"test_{token}.payments")
    yield stream
    stream.delete()


# == end of NATS fixtures ========================================================================
