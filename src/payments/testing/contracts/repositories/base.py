"""The fixtures every repository contract class shares: a unit of work from the factory given."""

from __future__ import annotations

import pytest

from payments.domain.ports import UnitOfWork
from payments.testing.contracts.repositories.builders import UnitOfWorkFactory


class UnitOfWorkFixtures:
    """Subclasses provide the ``make_uow`` fixture (a ``UnitOfWorkFactory`` on a fresh, empty
    store) and, for the events contract, ``committed_events``."""

    @pytest.fixture
    def uow(self, make_uow: UnitOfWorkFactory) -> UnitOfWork:
        """One unit of work, reused for block after block."""
        return make_uow()
