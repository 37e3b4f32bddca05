"""Guest checkout limits behind a load balancer, over real HTTP: the proxy's forwarded address is
the guest's only when PAYMENTS_TRUST_FORWARDED_FOR says the proxy is ours."""

from __future__ import annotations

from pathlib import Path

import requests

from payments.adapters.sql.migrate import upgrade
from tests.integration.service import RunningService, running_service


def _guest_checkouts(service: RunningService, count: int, forwarded_for: str | None) -> list[int]:
    """``count`` guest checkouts with distinct e-mails, each claiming its own client address
    (``203.0.113.N``) or ``forwarded_for``; their status codes."""
    admin = service.admin_key()
    public = service.container.access().create_key("public")[1]
    product = service.call(
        "POST",
        "/v1/products",
        admin,
        {
            "name": "1 Hour",
            "kind": "package",
            "price": {"amount": "5.00", "currency": "EUR"},
            "credits": "1",
            "validity_days": 30,
        },
    ).json()["id"]
    codes = []
    for n in range(count):
        response = requests.post(
            service.base_url + "/v1/purchases",
            json={
                "product_id": product,
                "customer": {"email": f"guest{n}@example.com", "name": "Guest"},
                "country": "PT",
            },
            headers={
                "Authorization": f"Bearer {public}",
                # What our load balancer appends: the address the guest connected from.
                "X-Forwarded-For": forwarded_for or f"203.0.113.{n}",
            },
            timeout=30,
        )
        codes.append(response.status_code)
    return codes


def test_guests_behind_a_trusted_proxy_are_limited_each_by_their_own_address(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'proxy.db'}"
    upgrade(url)
    env = {"PAYMENTS_DATABASE_URL": url, "PAYMENTS_TRUST_FORWARDED_FOR": "1"}

    with running_service(env) as service:  # every request comes from the proxy, 127.0.0.1
        codes = _guest_checkouts(service, 11, forwarded_for=None)

    assert codes == [201] * 11


def test_a_forwarded_address_is_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'spoof.db'}"
    upgrade(url)

    with running_service({"PAYMENTS_DATABASE_URL": url}) as service:
        # One client inventing a new address for each checkout is still one client.
        codes = _guest_checkouts(service, 11, forwarded_for=None)

    assert codes == [201] * 10 + [429]


def test_the_guest_limit_per_address_is_configurable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limit.db'}"
    upgrade(url)
    env = {"PAYMENTS_DATABASE_URL": url, "PAYMENTS_GUEST_CHECKOUTS_PER_IP_HOUR": "3"}

    with running_service(env) as service:
        codes = _guest_checkouts(service, 4, forwarded_for="198.51.100.7")

    assert codes == [201, 201, 201, 429]
