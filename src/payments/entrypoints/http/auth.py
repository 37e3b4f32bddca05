"""Who may call which route (DESIGN §6): the one role table of the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass

from payments.domain.access import Principal, Role
from payments.domain.errors import AuthenticationRequiredError, ForbiddenError
from payments.entrypoints.http.context import is_anonymous


@dataclass(frozen=True, slots=True)
class Policy:
    """The roles allowed on a route.

    ``anonymous``: callers without any key are let in too. ``api_key`` False: the route does not
    use API keys at all (provider webhooks authenticate by signature). Ownership (a customer key
    sees only its own purchases and account) is decided by the use cases, which answer 404.
    """

    roles: frozenset[Role]
    anonymous: bool = False
    api_key: bool = True


ADMIN, MERCHANT, CUSTOMER, PUBLIC = Role.ADMIN, Role.MERCHANT, Role.CUSTOMER, Role.PUBLIC

ANYONE = Policy(frozenset(Role), anonymous=True)
ADMIN_ONLY = Policy(frozenset({ADMIN}))
OWNER_MERCHANT_ADMIN = Policy(frozenset({CUSTOMER, MERCHANT, ADMIN}))
MERCHANT_ADMIN = Policy(frozenset({MERCHANT, ADMIN}))
CHECKOUT = Policy(frozenset({PUBLIC, CUSTOMER, MERCHANT, ADMIN}))
PROVIDER_SIGNED = Policy(frozenset(), anonymous=True, api_key=False)
LOOPBACK_OR_TOKEN = Policy(frozenset(), anonymous=True, api_key=False)
"""``/metrics`` checks its caller itself: loopback, or the metrics token (not an API key)."""

ROUTE_POLICIES: dict[tuple[str, str], Policy] = {
    ("GET", "/health"): ANYONE,
    ("GET", "/ready"): ANYONE,
    ("GET", "/openapi.json"): ANYONE,
    ("GET", "/docs"): ANYONE,
    ("GET", "/metrics"): LOOPBACK_OR_TOKEN,
    ("POST", "/v1/products"): ADMIN_ONLY,
    ("GET", "/v1/products"): ANYONE,
    ("GET", "/v1/products/{product_id}"): ANYONE,
    ("POST", "/v1/purchases"): CHECKOUT,
    ("GET", "/v1/purchases"): OWNER_MERCHANT_ADMIN,
    ("GET", "/v1/purchases/{purchase_id}"): OWNER_MERCHANT_ADMIN,
    ("POST", "/v1/purchases/{purchase_id}/cancel"): OWNER_MERCHANT_ADMIN,
    ("POST", "/v1/purchases/{purchase_id}/refunds"): ADMIN_ONLY,
    ("GET", "/v1/purchases/{purchase_id}/refunds"): OWNER_MERCHANT_ADMIN,
    ("GET", "/v1/refunds/{refund_id}"): OWNER_MERCHANT_ADMIN,
    ("POST", "/v1/purchases/{purchase_id}/sync"): ADMIN_ONLY,
    ("GET", "/v1/accounts/{customer_id}"): OWNER_MERCHANT_ADMIN,
    ("POST", "/v1/webhooks/{provider}"): PROVIDER_SIGNED,
    ("GET", "/v1/pse/banks"): ANYONE,
    ("GET", "/v1/invoices"): OWNER_MERCHANT_ADMIN,
    ("GET", "/v1/invoices/{invoice_id}"): OWNER_MERCHANT_ADMIN,
    ("GET", "/v1/invoices/{invoice_id}.pdf"): OWNER_MERCHANT_ADMIN,
    ("GET", "/v1/stats/revenue"): MERCHANT_ADMIN,
    ("POST", "/v1/webhook-endpoints"): ADMIN_ONLY,
    ("GET", "/v1/webhook-endpoints"): ADMIN_ONLY,
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): ADMIN_ONLY,
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): ADMIN_ONLY,
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): ADMIN_ONLY,
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry"): ADMIN_ONLY,
    ("POST", "/v1/efecty/confirmations"): ADMIN_ONLY,
    ("POST", "/v1/efecty/settlements"): ADMIN_ONLY,
    ("POST", "/v1/sandbox/purchases/{purchase_id}/{action}"): OWNER_MERCHANT_ADMIN,
    ("POST", "/v1/sandbox/clock"): ADMIN_ONLY,
    ("POST", "/v1/subscriptions"): MERCHANT_ADMIN,
    ("GET", "/v1/subscriptions"): OWNER_MERCHANT_ADMIN,
    ("GET", "/v1/subscriptions/{subscription_id}"): OWNER_MERCHANT_ADMIN,
    ("POST", "/v1/subscriptions/{subscription_id}/cancel"): OWNER_MERCHANT_ADMIN,
    ("POST", "/v1/subscriptions/{subscription_id}/change"): MERCHANT_ADMIN,
    ("POST", "/v1/subscriptions/{subscription_id}/payment_method"): MERCHANT_ADMIN,
    ("POST", "/v1/subscriptions/{subscription_id}/usage"): MERCHANT_ADMIN,
    ("GET", "/v1/subscriptions/{subscription_id}/usage"): OWNER_MERCHANT_ADMIN,
    ("GET", "/v1/stats/subscriptions"): MERCHANT_ADMIN,
}


def policy_for(method: str, uri_template: str | None) -> Policy | None:
    """The policy of a routed request; None for a method the route does not serve. ``HEAD``
    has the policy of ``GET`` on the same route (the app answers it with the GET responder)."""
    if uri_template is None:
        return None
    upper = method.upper()
    return ROUTE_POLICIES.get(("GET" if upper == "HEAD" else upper, uri_template))


def api_key_policy(method: str, uri_template: str | None) -> Policy | None:
    """The policy of a routed request that API keys authenticate; None for a webhook (signed
    by its provider) or a method the route does not serve."""
    policy = policy_for(method, uri_template)
    return policy if policy is not None and policy.api_key else None


def authorize(policy: Policy, principal: Principal) -> None:
    """Raise ``AuthenticationRequiredError`` (401) or ``ForbiddenError`` (403) unless allowed."""
    if is_anonymous(principal):
        if policy.anonymous:
            return
        raise AuthenticationRequiredError("Send an API key: Authorization: Bearer <key>.")
    if principal.role not in policy.roles:
        raise ForbiddenError(f"A {principal.role.value} key may not do this.")
