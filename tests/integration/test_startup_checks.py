"""Settings that cannot work stop the start, before anything is served: in the container and in
``payments serve``, with one line naming the variable (never its value)."""

from __future__ import annotations

import dataclasses

import pytest

from payments.config import Settings
from payments.containers import build_container
from payments.domain.errors import ConfigurationError
from payments.domain.routing import RoutingTable

LIVE = {
    "PAYMENTS_MODE": "live",
    "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_for_test",
    "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
}


@pytest.mark.parametrize("routing", ["*: sandbox", "CO: wompi; *: stripe"])
def test_a_container_refuses_settings_routing_to_a_gateway_it_does_not_build(
    routing: str,
) -> None:
    # Assembled by hand, as an embedding application might, past Settings.from_env's check.
    settings = dataclasses.replace(
        Settings.from_env({**LIVE, "PAYMENTS_DATABASE_URL": "sqlite://"}),
        routing=RoutingTable.parse(routing),
        routing_text=routing,
    )
    container = build_container(settings)

    with pytest.raises(ConfigurationError, match="PAYMENTS_ROUTING"):
        container.wsgi_app()
