"""The test kit shipped with the package: fakes of every port, ``bootstrap`` to wire every use
case on them in one call, and the contract suites (``payments.testing.contracts``)."""

from payments.adapters.memory import (
    FakeGateway,
    FakePayment,
    FixedClock,
    InMemoryRateLimiter,
    InMemoryStore,
    InMemoryUnitOfWork,
    RecordingEventPublisher,
    SequentialIds,
)
from payments.testing.bootstrap import Wired, bootstrap

__all__ = [
    "FakeGateway",
    "FakePayment",
    "FixedClock",
    "InMemoryRateLimiter",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "RecordingEventPublisher",
    "SequentialIds",
    "Wired",
    "bootstrap",
]
