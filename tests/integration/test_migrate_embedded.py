"""Every entrypoint migrates an embedded SQLite database through one function, and only that."""

from __future__ import annotations

from pathlib import Path

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import head_revisions, schema_state, upgrade_embedded


def test_an_embedded_database_is_brought_to_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'payments.db'}"

    assert upgrade_embedded(url) is True
    assert upgrade_embedded(url) is True  # again: nothing to do

    engine = make_engine(url)
    try:
        assert schema_state(engine).current == head_revisions()
    finally:
        engine.dispose()


def test_a_server_database_is_left_to_payments_migrate() -> None:
    # Nothing listens there: the function must not even connect.
    assert upgrade_embedded("postgresql+psycopg://nobody@127.0.0.1:9/none") is False
