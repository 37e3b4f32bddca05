"""The cheapest durable webhook handler: read the body, store it with one INSERT committed
(autocommit, ``synchronous_commit`` as the server has it), answer 200. No verification, no
parsing, no booking: a floor for any handler that stores a delivery before it answers, under
the same gunicorn settings as ``make bench`` (docs/benchmarks.md, session 12).

    export FLOOR_DSN="host=127.0.0.1 user=postgres dbname=test"
    .venv/bin/gunicorn floor_handler:application --pythonpath benchmarks \\
        --bind 127.0.0.1:18080 --worker-class gthread --workers 2 --threads 8
    wrk --threads=2 --connections=32 --duration=15s --latency -s benchmarks/floor_post.lua \\
        http://127.0.0.1:18080/

It stores into its own table, ``floor_inbox``, made on first use; drop it afterwards.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

_local = threading.local()


def _connection() -> psycopg.Connection[Any]:
    """This thread's connection (one per gunicorn thread, as a pool would lend it)."""
    connection: psycopg.Connection[Any] | None = getattr(_local, "connection", None)
    if connection is None:
        connection = psycopg.connect(os.environ["FLOOR_DSN"], autocommit=True)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS floor_inbox (id bigserial PRIMARY KEY, body bytea NOT "
            "NULL, received_at timestamptz NOT NULL DEFAULT now())"
        )
        _local.connection = connection
    return connection


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    _connection().execute("INSERT INTO floor_inbox (body) VALUES (%s)", (body,))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]
