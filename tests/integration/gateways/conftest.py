"""Gateway integration fixtures: localstripe, started once per session for the tests that ask."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.gateways.localstripe_process import localstripe_process


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe on a free loopback port for the session (GPL: only ever a separate process)."""
    with localstripe_process(tmp_path_factory.mktemp("localstripe")) as base:
        yield base
