"""A checkout whose provider answer was lost, over HTTP on the fakes, for every class of the
fault: the answer timed out or the process died after the provider made the payment, at a
provider that can be searched by our reference or not, paid or not, one worker round any time
later. The payment is made once, the purchase settles as far as the provider's key lifetime
allows, and the client's retry gets it once it has left ``pending``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import falcon.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from payments.adapters.memory import FakeGateway, FixedClock, InMemoryStore, SequentialIds
from payments.domain import gateway as gw
from payments.domain.errors import GatewayUnavailableError
from payments.domain.gateway import RESEND_WINDOW
from payments.domain.idempotency import IN_FLIGHT_LEASE, KEY_LIFETIME
from payments.domain.services.purchases import DEFAULT_LOOK_UP_AFTER
from payments.testing import Wired, bootstrap
from payments.testing.contracts.repositories.builders import a_product

KEY = "checkout-1"


class ProcessKilled(BaseException):
    """The process died: nothing after this point runs, no handler, no middleware."""


class LosingGateway(FakeGateway):
    """The fake provider, whose next answer to a start is lost after it made the payment."""

    lose_next: str | None = None

    def start_payment(self, request: gw.PaymentRequest) -> gw.PaymentStart:
        start = super().start_payment(request)
        lost, self.lose_next = self.lose_next, None
        if lost == "timeout":
            raise GatewayUnavailableError("Read timed out.", charged_possible=True)
        if lost == "killed":
            raise ProcessKilled
        return start


@dataclass(frozen=True)
class Scenario:
    fault: str
    authoritative: bool
    paid: bool
    elapsed: timedelta
    window: timedelta
    buyer: str


scenarios = st.builds(
    Scenario,
    fault=st.sampled_from(["timeout", "killed"]),
    authoritative=st.booleans(),
    paid=st.booleans(),
    elapsed=st.integers(0, 30 * 60).map(lambda minutes: timedelta(minutes=minutes)),
    window=st.sampled_from([timedelta(hours=1), timedelta(hours=6), timedelta(hours=24)]),
    buyer=st.sampled_from(["merchant", "guest"]),
)


@dataclass
class Shop:
    wired: Wired
    gateway: LosingGateway
    clock: FixedClock
    http: falcon.testing.TestClient
    secrets: dict[str, str]
    product_id: str

    def checkout(self, buyer: str) -> falcon.testing.Result:
        body: dict[str, object] = {"product_id": self.product_id, "country": "PT"}
        if buyer == "guest":
            body["customer"] = {"email": "Guest@Example.com", "name": "Ana Guest"}
        else:
            body["customer_id"] = "cus_ana"
        headers = {"Authorization": f"Bearer {self.secrets[buyer]}", "Idempotency-Key": KEY}
        return self.http.simulate_post("/v1/purchases", json=body, headers=headers)


def open_shop(authoritative: bool) -> Shop:
    capabilities = gw.GatewayCapabilities(
        currencies=None,
        countries=None,
        payment_methods=frozenset({"card"}),
        authoritative_lookup=authoritative,
    )
    gateway, clock = LosingGateway("fake", capabilities=capabilities), FixedClock()
    wired = bootstrap(gateways=[gateway], store=InMemoryStore(), clock=clock, ids=SequentialIds())
    secrets = {role: wired.access.create_key(role)[1] for role in ("merchant", "public")}
    secrets["guest"] = secrets.pop("public")
    with wired.unit_of_work() as uow:
        product = a_product()
        uow.products.add(product)
        uow.commit()
    http = falcon.testing.TestClient(wired.container.api())
    return Shop(wired, gateway, clock, http, secrets, product.id)


def lose_the_answer(shop: Shop, scenario: Scenario) -> falcon.testing.Result | None:
    shop.gateway.lose_next = scenario.fault
    try:
        return shop.checkout(scenario.buyer)
    except ProcessKilled:
        return None


def at(minutes: int, *, fault: str = "timeout", paid: bool = True) -> Scenario:
    window = timedelta(hours=24)
    return Scenario(fault, False, paid, timedelta(minutes=minutes), window, "merchant")


@settings(max_examples=120, deadline=None)
@given(scenarios)
@example(at(15))  # not yet looked at
@example(at(16))  # the first round that looks
@example(at(23 * 60 - 1))  # the last minute the key may be sent again
@example(at(23 * 60))  # past it: expired as before, never sent again
@example(at(24 * 60, fault="killed", paid=False))  # the claim let go with the key's lifetime
def test_a_lost_start_is_made_once_and_settles_within_the_key_lifetime(
    scenario: Scenario,
) -> None:
    shop = open_shop(scenario.authoritative)
    first = lose_the_answer(shop, scenario)
    (payment,) = shop.gateway.payments.values()
    (purchase,) = shop.wired.store.tables.purchases.values()  # type: ignore[union-attr]
    if scenario.paid:
        shop.gateway.approve(payment.gateway_reference)  # its notification never arrives
    shop.clock.advance(seconds=scenario.elapsed.total_seconds())

    shop.wired.purchases.reconcile(expire_after=scenario.window)
    made = dict(shop.gateway.payments)
    retried = shop.checkout(scenario.buyer)

    looked_at = scenario.elapsed > min(DEFAULT_LOOK_UP_AFTER, scenario.window)
    resent = (
        not scenario.authoritative
        and looked_at
        and IN_FLIGHT_LEASE <= scenario.elapsed < RESEND_WINDOW
    )
    found = looked_at and (scenario.authoritative or resent)
    if found and scenario.paid:
        status = "completed"
    elif looked_at and scenario.elapsed >= scenario.window:
        status = "expired"
    else:
        status = "processing" if found else "pending"
    stored = shop.wired.store.tables.purchases[purchase.id]  # type: ignore[union-attr]
    starts = [call for call in shop.gateway.calls if call[0] == "start_payment"]

    assert first is None or first.status_code == 503
    assert list(made) == [payment.gateway_reference]  # made once, whatever happened after
    assert len(starts) == 1 + resent + (retried.status_code == 201 and not replayed(retried))
    assert stored.status.value == status
    assert stored.gateway_reference == (payment.gateway_reference if found else None)
    if found and status == "expired":  # called off at the provider: the payer cannot pay it
        assert payment.outcome.value == "cancelled"
    if scenario.elapsed >= KEY_LIFETIME:  # the key is forgotten: a new checkout
        assert retried.status_code == 201, retried.text
        assert not replayed(retried)
        assert retried.json["id"] != purchase.id
    elif status != "pending":
        assert retried.status_code == 201, retried.text
        assert replayed(retried)
        assert retried.json["id"] == purchase.id
        assert retried.json["status"] == status
    else:
        assert retried.status_code == (503 if scenario.fault == "timeout" else 409), retried.text


def replayed(answer: falcon.testing.Result) -> bool:
    return answer.headers.get("idempotent-replayed") == "true"


def test_a_start_that_never_reached_the_provider_is_made_by_reconciliation_once() -> None:
    shop = open_shop(authoritative=False)
    shop.gateway.fail_next(charged=False)  # provably unsent: the key is free again
    assert shop.checkout("merchant").status_code == 503
    (purchase,) = shop.wired.store.tables.purchases.values()  # type: ignore[union-attr]
    shop.clock.advance(minutes=20)

    shop.wired.purchases.reconcile(expire_after=timedelta(hours=24))
    shop.wired.purchases.reconcile(expire_after=timedelta(hours=24))

    (payment,) = shop.gateway.payments.values()
    stored = shop.wired.store.tables.purchases[purchase.id]  # type: ignore[union-attr]
    assert (stored.status.value, stored.gateway_reference) == (
        "processing",
        payment.gateway_reference,
    )


def test_the_resent_start_is_the_first_request_rebuilt_exactly() -> None:
    shop = open_shop(authoritative=False)
    shop.gateway.lose_next = "timeout"
    shop.checkout("guest")
    shop.clock.advance(minutes=20)

    shop.wired.purchases.reconcile(expire_after=timedelta(hours=24))

    # The fake refuses a key sent again with any other request: it was rebuilt field for field,
    # the guest's e-mail and name from the customer, without the unstored payer details.
    (first,) = shop.gateway.payment_requests
    (purchase,) = shop.wired.store.tables.purchases.values()  # type: ignore[union-attr]
    assert purchase.gateway_reference is not None
    assert (first.payer.email, first.payer.name, first.payer.ip_address) == (
        "guest@example.com",
        "Ana Guest",
        None,
    )
    assert [c for c in shop.gateway.calls if c[0] == "start_payment"] == [
        ("start_payment", f"{purchase.id}:start:0"),
        ("start_payment", f"{purchase.id}:start:0"),
    ]
