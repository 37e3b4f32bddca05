"""The shipped test kit: ``bootstrap`` wires the use cases through the composition root, and the
contract suites' checks fail loudly, even under ``python -O``."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from payments import testing
from payments.adapters import memory
from payments.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryRateLimiter,
    InMemoryStore,
    InMemoryUnitOfWork,
    SequentialIds,
)
from payments.config import Settings
from payments.containers import build_container
from payments.domain.access import Principal, Role
from payments.domain.errors import ConfigurationError
from payments.domain.money import Money
from payments.testing.expect import expect, expect_equal, fail, present

ADMIN = Principal(Role.ADMIN, "key_admin")


def test_the_kit_reexports_the_fakes() -> None:
    assert testing.FakeGateway is FakeGateway
    assert testing.InMemoryStore is InMemoryStore
    assert set(memory.__all__) <= set(vars(testing))


def test_bootstrap_defaults_to_the_fakes_routed_to_the_fake_gateway() -> None:
    payments = testing.bootstrap()
    assert payments.container.catalog() is payments.catalog
    assert isinstance(payments.clock, FixedClock)
    assert isinstance(payments.ids, SequentialIds)
    assert isinstance(payments.rate_limiter, InMemoryRateLimiter)
    assert list(payments.gateways) == ["fake"]
    assert payments.store is not None
    product = payments.catalog.create(
        name="Hour", kind="package", price=Money("10.00", "EUR"), credits="1", validity_days=30
    )
    assert payments.store.tables.products[product.id] == product


def test_bootstrap_uses_the_adapters_passed_in_their_place() -> None:
    store, clock = InMemoryStore(), FixedClock()
    first, second = FakeGateway("first"), FakeGateway("second")
    payments = testing.bootstrap(
        gateways=[first, second],
        unit_of_work=functools.partial(InMemoryUnitOfWork, store),
        clock=clock,
    )
    assert payments.store is None
    assert payments.clock is clock
    assert list(payments.gateways) == ["first", "second"]
    key, _ = payments.access.create_key("admin")
    assert [k.id for k in store.tables.api_keys.values()] == [key.id]
    assert payments.container.purchases() is payments.purchases


def test_bootstrap_refuses_both_a_store_and_a_unit_of_work() -> None:
    with pytest.raises(ConfigurationError):
        testing.bootstrap(store=InMemoryStore(), unit_of_work=InMemoryUnitOfWork)


def test_the_inbox_use_case_lists_stored_notifications_newest_first() -> None:
    payments = testing.bootstrap()
    assert payments.inbox.recent() == []


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", **env})


def test_live_mode_builds_no_sandbox_and_mounts_nothing(tmp_path: Path) -> None:
    container = build_container(
        _settings(
            tmp_path,
            PAYMENTS_MODE="live",
            PAYMENTS_STRIPE_SECRET_KEY="sk_live_" + "x" * 24,
            PAYMENTS_STRIPE_WEBHOOK_SECRET="whsec_" + "y" * 24,
        )
    )
    assert container.sandbox() is None
    assert container.sandbox_controller() is None
    assert container.sandbox_mounts() == {}
    assert list(container.gateways()) == ["stripe"]


def test_sandbox_mode_mounts_the_simulators_of_its_one_sandbox(tmp_path: Path) -> None:
    container = build_container(_settings(tmp_path))
    sandbox = container.sandbox()
    assert sandbox is container.sandbox()
    assert container.sandbox_controller() is sandbox.controller
    assert set(container.sandbox_mounts()) == {
        "/sandbox/stripe",
        "/sandbox/wompi",
        "/sandbox/payu",
    }
    assert sorted(container.gateways()) == ["efecty", "payu", "stripe", "wompi"]


def test_expect_raises_assertion_errors_naming_what_failed() -> None:
    expect(1, "holds")
    expect_equal([1], [1])
    assert present(0) == 0
    with pytest.raises(AssertionError, match="the window slides"):
        expect(False, "the window slides")
    with pytest.raises(AssertionError, match=r"answers: \[1\] != \[2\]"):
        expect_equal([1], [2], "answers")
    with pytest.raises(AssertionError, match="got None"):
        present(None)
    with pytest.raises(AssertionError, match="stop"):
        fail("stop")
