"""Guest checkout limits: per client address and per e-mail, for publishable keys only."""

from __future__ import annotations

import falcon.testing

from payments.domain.services.guest_checkout import GuestCheckoutLimits
from payments.entrypoints.http.app import HttpSettings
from tests.unit.http.conftest import Api, assert_problem, build_api


def _guest(
    api: Api,
    product_id: object,
    email: str,
    *,
    ip: str = "203.0.113.7",
    role: str | None = "public",
    headers: dict[str, str] | None = None,
) -> falcon.testing.Result:
    return api.post(
        "/v1/purchases",
        {"product_id": product_id, "customer": {"email": email}, "country": "CO"},
        role=role,
        remote_addr=ip,
        headers=headers,
    )


def test_public_key_gets_ten_purchases_per_address_per_hour(api: Api) -> None:
    product_id = api.create_premium()["id"]
    for n in range(10):
        assert _guest(api, product_id, f"guest{n}@example.com").status_code == 201
    before = api.snapshot()

    refused = _guest(api, product_id, "guest10@example.com")

    assert_problem(refused, 429, "rate_limited")
    assert 0 < int(refused.headers["retry-after"]) <= 3601
    assert api.snapshot() == before
    assert _guest(api, product_id, "other@example.com", ip="198.51.100.1").status_code == 201


def test_public_key_gets_five_purchases_per_email_per_hour(api: Api) -> None:
    product_id = api.create_premium()["id"]
    for n in range(5):
        assert _guest(api, product_id, "Ana@Example.com", ip=f"192.0.2.{n}").status_code == 201

    refused = _guest(api, product_id, "ana@example.com ", ip="192.0.2.99")

    assert_problem(refused, 429, "rate_limited")
    assert _guest(api, product_id, "bob@example.com", ip="192.0.2.99").status_code == 201


def test_limits_reset_after_the_window(api: Api) -> None:
    product_id = api.create_premium()["id"]
    for n in range(5):
        _guest(api, product_id, "ana@example.com", ip=f"192.0.2.{n}")
    assert _guest(api, product_id, "ana@example.com").status_code == 429

    api.clock.advance(hours=1, seconds=1)

    assert _guest(api, product_id, "ana@example.com").status_code == 201


def test_server_keys_are_not_rate_limited(api: Api) -> None:
    product_id = api.create_premium()["id"]

    statuses = {api.buy(product_id) and 201 for _ in range(15)}

    assert statuses == {201}


def test_anonymous_callers_cannot_buy(api: Api) -> None:
    product_id = api.create_premium()["id"]
    before = api.snapshot()

    result = _guest(api, product_id, "ana@example.com", role=None)

    assert_problem(result, 401, "unauthenticated")
    assert api.snapshot() == before


def test_forwarded_for_is_ignored_unless_trusted(api: Api) -> None:
    product_id = api.create_premium()["id"]
    for n in range(10):
        spoofed = {"X-Forwarded-For": f"10.0.0.{n}"}
        _guest(api, product_id, f"g{n}@example.com", headers=spoofed)

    refused = _guest(api, product_id, "g10@example.com", headers={"X-Forwarded-For": "10.0.0.99"})

    assert_problem(refused, 429, "rate_limited")


def test_trusted_proxy_limits_by_the_last_forwarded_hop() -> None:
    api = build_api(
        settings=HttpSettings(trust_forwarded_for=True), guest_limits=GuestCheckoutLimits(per_ip=2)
    )
    product_id = api.create_premium()["id"]

    def from_client(client: str, email: str) -> int:
        # The client may prepend anything; our proxy appends the address it saw.
        headers = {"X-Forwarded-For": f"1.2.3.4, {client}"}
        return _guest(api, product_id, email, ip="10.0.0.1", headers=headers).status_code

    assert [from_client("203.0.113.5", f"a{n}@example.com") for n in range(3)] == [201, 201, 429]
    assert from_client("203.0.113.6", "b@example.com") == 201


def test_configured_limits_are_used() -> None:
    api = build_api(guest_limits=GuestCheckoutLimits(per_email=1, per_email_window=60))
    product_id = api.create_premium()["id"]

    assert _guest(api, product_id, "ana@example.com").status_code == 201
    assert _guest(api, product_id, "ana@example.com", ip="192.0.2.50").status_code == 429
    api.clock.advance(seconds=61)
    assert _guest(api, product_id, "ana@example.com", ip="192.0.2.51").status_code == 201
