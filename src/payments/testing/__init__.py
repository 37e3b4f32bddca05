"""The test kit shipped with the package: fakes of every port, ``bootstrap`` to wire every use
case on them in one call, and the contract suites (``payments.testing.contracts``)."""

from payments.adapters.memory import FakeGateway as FakeGateway
from payments.adapters.memory import FakePayment as FakePayment
from payments.adapters.memory import FixedClock as FixedClock
from payments.adapters.memory import InMemoryRateLimiter as InMemoryRateLimiter
from payments.adapters.memory import InMemoryStore as InMemoryStore
from payments.adapters.memory import InMemoryUnitOfWork as InMemoryUnitOfWork
from payments.adapters.memory import RecordingEventPublisher as RecordingEventPublisher
from payments.adapters.memory import SequentialIds as SequentialIds
from payments.testing.bootstrap import Wired as Wired
from payments.testing.bootstrap import bootstrap as bootstrap
