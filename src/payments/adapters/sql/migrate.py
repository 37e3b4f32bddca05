"""Run the packaged Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, exc, inspect, text

from payments.adapters.sql.engine import make_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which the migrations keep
_CURRENT_REVISIONS = text("SELECT version_num FROM alembic_version")
# Any constant: PostgreSQL processes that migrate at the same moment take turns on this lock.
_MIGRATION_LOCK = 7_351_690_411


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, bound to ``connection`` or ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (the latest by default), in one transaction.

    Safe to run concurrently from several processes. For an in-memory SQLite database use
    ``upgrade_engine`` with the engine that will use it.
    """
    engine = make_engine(url)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def upgrade_embedded(url: str) -> bool:
    """Bring an embedded SQLite database at ``url`` up to date, as every entrypoint does before
    using one (it has no separate deploy step); True if ``url`` is one. Any other database is
    left alone: ``payments migrate`` (or ``serve --migrate``) migrates it."""
    if not url.startswith("sqlite"):
        return False
    upgrade(url)
    return True


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    """Bring the database of ``engine`` up to ``revision`` (the latest by default)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        command.upgrade(alembic_config(connection), revision)


@functools.cache
def head_revisions() -> frozenset[str]:
    """The head revision(s) of the packaged migrations: what this code needs the database at."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision of the packaged migrations, head or not."""
    return frozenset(
        r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    )


def revisions_of(connection: Connection) -> frozenset[str]:
    """The revision(s) the database of ``connection`` is at; empty before the first migration.

    Read directly rather than through Alembic's ``MigrationContext``, which logs two lines each
    time: readiness probes ask every few seconds.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.execute(_CURRENT_REVISIONS).scalars())


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands against the packaged migrations."""

    current: frozenset[str]
    heads: frozenset[str]
    known: frozenset[str] = frozenset()

    @property
    def at_head(self) -> bool:
        return self.current == self.heads

    @property
    def ahead(self) -> bool:
        """A newer release migrated it (a revision this code does not know)."""
        return bool(self.current - self.known - self.heads)

    @property
    def usable(self) -> bool:
        """At this code's head, or ahead of it: migrations only add (expand, then contract a
        release later), so the running release keeps serving during a rolling deploy."""
        return self.at_head or self.ahead

    def describe(self) -> str:
        """``at revision 0002, this code needs 0003`` (or ``never migrated``)."""
        current = ", ".join(sorted(self.current)) or "none (never migrated)"
        return f"at revision {current}; this code needs {', '.join(sorted(self.heads))}"


def schema_state(engine: Engine) -> SchemaState:
    """The revision of the database of ``engine`` against the packaged head (one query)."""
    with engine.connect() as connection:
        return SchemaState(revisions_of(connection), head_revisions(), known_revisions())


def database_ready(engine: Engine) -> Callable[[], bool]:
    """A readiness probe: the database answers and is at this code's migration head.

    A database that answers but was never migrated, or is behind, is not ready: every request
    would fail on a missing table or column. One a newer release migrated (ahead) stays ready,
    so that a rolling deploy does not take the old release's workers out of rotation.
    """

    def ready() -> bool:
        try:
            state = schema_state(engine)
        except Exception as error:
            log.warning("readiness: the database cannot be reached: %s", type(error).__name__)
            return False
        if state.ahead:
            log.info(
                "readiness: the database is %s (a newer release migrated it)", state.describe()
            )
        elif not state.at_head:
            log.warning("readiness: the database is %s; run `payments migrate`", state.describe())
        return state.usable

    return ready


def database_error_reason(error: BaseException) -> tuple[bool, str] | None:
    """For a database error, (could the database not be reached?, the driver's error class);
    None for anything else. The reason never carries the driver's message: it may quote the
    URL, a statement or its values."""
    if not isinstance(error, exc.DBAPIError):
        return None
    unreachable = isinstance(error, exc.OperationalError | exc.InterfaceError)
    original = error.orig if error.orig is not None else error
    return unreachable, type(original).__name__
