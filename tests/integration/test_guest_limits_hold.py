"""Guest limits that hold: every evasion of one e-mail counts against one bucket (in memory and
in Redis), the guest record's key (docs/decisions/0018), and guest Idempotency-Keys scoped by the
caller over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
import redis
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from payments.adapters.memory import FakeGateway, FixedClock, InMemoryRateLimiter
from payments.adapters.redis_rate_limiter import RedisRateLimiter
from payments.domain.access import Principal, Role
from payments.domain.errors import RateLimitedError, ValidationError
from payments.domain.money import Money
from payments.domain.ports import RateLimiter
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.guest_checkout import GuestCheckoutGate, GuestCheckoutLimits
from tests.integration.service import RunningService, running_service, use_cases_on
from tests.integration.test_rate_limiter_contract import redis_client
from tests.unit.test_customer_email import ADDRESSES, INVISIBLE, disguised

__all__ = ["redis_client"]  # the fixture, used by name

GUEST = Principal(Role.PUBLIC, "key_public")
MakeLimiter = Callable[[], RateLimiter]


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> Iterator[MakeLimiter]:
    """A fresh limiter per call: in this process, or in Redis under a fresh prefix."""
    if request.param == "memory":
        yield lambda: InMemoryRateLimiter(FixedClock())
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    prefixes: list[str] = []

    def in_redis() -> RateLimiter:
        prefixes.append(f"payments:test:{secrets.token_hex(6)}:")
        return RedisRateLimiter(client, FixedClock(), prefix=prefixes[-1])

    yield in_redis
    for prefix in prefixes:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ADDRESSES.flatmap(
        lambda a: st.tuples(st.just(a), st.lists(disguised(a), min_size=1, max_size=5))
    )
)
def test_the_evasions_of_one_email_count_against_one_bucket(
    make_limiter: MakeLimiter, evasions: tuple[str, list[str]]
) -> None:
    address, variants = evasions
    limiter = make_limiter()
    gate = GuestCheckoutGate(limiter, GuestCheckoutLimits(per_ip=100, per_email=len(variants)))
    for n, variant in enumerate(variants):  # each from its own client address
        gate.admit(f"198.51.100.{n}", variant)

    with pytest.raises(RateLimitedError):
        gate.admit("203.0.113.1", address.upper())
    gate.admit("203.0.113.1", "someone-else@example.org")


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ADDRESSES, INVISIBLE)
def test_an_address_with_invisible_characters_is_refused_before_it_counts(
    make_limiter: MakeLimiter, address: str, invisible: str
) -> None:
    limiter = make_limiter()
    gate = GuestCheckoutGate(limiter, GuestCheckoutLimits(per_ip=1, per_email=1))

    with pytest.raises(ValidationError) as refused:
        gate.admit("198.51.100.1", address[:1] + invisible + address[1:])

    assert refused.value.errors[0].field == "customer.email"
    gate.admit("198.51.100.1", address)  # the refused attempt counted nothing


def test_the_guest_record_is_keyed_by_the_stored_form_not_the_counting_form(
    database: Engine,
) -> None:
    use_cases = use_cases_on(database, FakeGateway(), FixedClock())
    product = use_cases.catalog.create(
        name="1 Hour", kind="package", price=Money("5.00", "EUR"), credits="1", validity_days=30
    )

    def guest_of(email: str) -> str:
        command = CreatePurchase(product_id=product.id, country="PT", customer_email=email)
        return use_cases.purchases.create(command, GUEST).customer_id

    ana = guest_of("ana@example.com")
    # Case, width and the domain's trailing dot name the same mailbox: the same guest.
    assert guest_of("ANA@Example.COM.") == ana
    assert guest_of("\uff41\uff4e\uff41\uff20example.com") == ana
    # A sub-address is what the buyer typed for receipts: its own guest (it counts as ana's).
    tagged = guest_of("ana+shop@example.com")
    assert tagged != ana
    assert guest_of("Ana+Shop@example.com") == tagged


# -- Idempotency-Keys of guests, over real HTTP ---------------------------------------------------


def _shop(service: RunningService) -> tuple[str, str]:
    """A product and a publishable key."""
    product = service.call(
        "POST",
        "/v1/products",
        service.admin_key(),
        {
            "name": "1 Hour",
            "kind": "package",
            "price": {"amount": "5.00", "currency": "EUR"},
            "credits": "1",
            "validity_days": 30,
        },
    ).json()["id"]
    return product, service.container.access().create_key("public")[1]


def _guest_post(
    service: RunningService, public: str, body: object, client: str, key: str
) -> requests.Response:
    return requests.post(
        service.base_url + "/v1/purchases",
        json=body,
        headers={
            "Authorization": f"Bearer {public}",
            "Idempotency-Key": key,
            "X-Forwarded-For": client,  # what our proxy appends (PAYMENTS_TRUST_FORWARDED_FOR=1)
        },
        timeout=30,
    )


def _database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_guests_sharing_a_key_and_body_each_get_their_own_answer(database: Engine) -> None:
    env = {"PAYMENTS_DATABASE_URL": _database_url(database), "PAYMENTS_TRUST_FORWARDED_FOR": "1"}
    with running_service(env) as service:
        product, public = _shop(service)
        body = {"product_id": product, "customer": {"email": "ana@example.com"}, "country": "PT"}

        first = _guest_post(service, public, body, "203.0.113.1", "checkout-1")
        second = _guest_post(service, public, body, "198.51.100.2", "checkout-1")
        retry = _guest_post(service, public, body, "203.0.113.1", "checkout-1")
        # Another e-mail from the first guest's address is another guest too, not a conflict.
        other = {**body, "customer": {"email": "bob@example.com"}}
        bob = _guest_post(service, public, other, "203.0.113.1", "checkout-1")
        # The same guest is the same caller however it writes its address.
        variant = {**body, "customer": {"email": "Ana+1@EXAMPLE.com."}}
        conflict = _guest_post(service, public, variant, "203.0.113.1", "checkout-1")

    assert [first.status_code, second.status_code, bob.status_code] == [201, 201, 201]
    assert len({first.json()["id"], second.json()["id"], bob.json()["id"]}) == 3
    assert "Idempotent-Replayed" not in second.headers
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert conflict.status_code == 422  # the same caller, another body: a conflict
    assert conflict.json()["code"] == "idempotency_conflict"


def test_disguises_of_one_email_share_its_limit_over_http(database: Engine) -> None:
    env = {"PAYMENTS_DATABASE_URL": _database_url(database), "PAYMENTS_TRUST_FORWARDED_FOR": "1"}
    disguises = [
        "ana@example.com",
        "ANA+1@example.com",
        "ana@example.com.",
        "\uff41\uff4e\uff41@\uff45xample.com",
        " Ana+shop@EXAMPLE.COM. ",
    ]
    with running_service(env) as service:
        product, public = _shop(service)

        def checkout(n: int, email: str) -> int:
            body = {"product_id": product, "customer": {"email": email}, "country": "PT"}
            return _guest_post(service, public, body, f"198.51.100.{n}", f"k{n}").status_code

        codes = [checkout(n, email) for n, email in enumerate(disguises)]
        over = checkout(99, "a\uff4ea+again@example.com")

    assert codes == [201] * 5  # PAYMENTS_GUEST_CHECKOUTS_PER_EMAIL_HOUR: 5
    assert over == 429


def test_an_address_with_invisible_characters_is_refused_over_http(database: Engine) -> None:
    env = {"PAYMENTS_DATABASE_URL": _database_url(database)}
    with running_service(env) as service:
        product, public = _shop(service)
        body = {"product_id": product, "customer": {"email": "an\u200ba@x.com"}, "country": "PT"}
        refused = _guest_post(service, public, body, "203.0.113.1", "k1")
        bidi = {**body, "customer": {"email": "ana@x.com\u202e"}}
        refused_bidi = _guest_post(service, public, bidi, "203.0.113.1", "k2")

    for answer in (refused, refused_bidi):
        assert answer.status_code == 422, answer.text
        assert [error["field"] for error in answer.json()["errors"]] == ["customer.email"]
