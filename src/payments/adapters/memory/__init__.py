"""In-memory fakes of every port, shipped so integrators' unit tests can use them."""

from payments.adapters.memory.gateway import FakeGateway, FakePayment
from payments.adapters.memory.services import (
    FixedClock,
    InMemoryRateLimiter,
    RecordingEventPublisher,
    SequentialIds,
)
from payments.adapters.memory.store import InMemoryStore
from payments.adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = [
    "FakeGateway",
    "FakePayment",
    "FixedClock",
    "InMemoryRateLimiter",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "RecordingEventPublisher",
    "SequentialIds",
]
