"""Embed the payments core in your own program: every use case on the package's fakes."""

from __future__ import annotations

from payments.domain.access import Principal, Role
from payments.domain.money import Money
from payments.domain.services.purchases import CreatePurchase
from payments.testing import FakeGateway, bootstrap

MERCHANT = Principal(Role.MERCHANT, "key_merchant")  # who calls: your shop's back office


def main() -> None:
    gateway = FakeGateway("fake")  # stands in for Stripe, PayU...: approves on request
    payments = bootstrap(gateways=[gateway])  # in-memory store, fixed clock, "*: fake" routing

    product = payments.catalog.create(
        name="8 Hour Premium Package",
        kind="package",
        price=Money("79.99", "EUR"),
        credits="8",
        validity_days=60,
    )
    purchase = payments.purchases.create(
        CreatePurchase(product_id=product.id, country="PT", customer_id="cus_ana"), MERCHANT
    )
    print(f"purchase {purchase.id}: {purchase.status.value}")

    # The payer pays at the provider, which then notifies us (signed, as a webhook would).
    if purchase.gateway_reference is None:
        raise SystemExit("the gateway did not start a payment")
    gateway.approve(purchase.gateway_reference)
    for headers, body in gateway.drain():
        receipt = payments.notifications.receive(gateway.name, headers, body)
        print(f"notification: {receipt.status}")

    account = payments.accounts.get("cus_ana", MERCHANT)
    print(f"cus_ana has {account.credits} credits")


if __name__ == "__main__":
    main()
