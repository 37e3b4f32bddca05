"""The subscription, statistics and test clock routes of the OpenAPI document."""

from __future__ import annotations

from payments.entrypoints.http.openapi_operations import Operation, Schema, path_param, ref

_MUTATION = (400, 401, 403, 404, 409, 413, 422)
_SUBSCRIPTION_ID = path_param("subscription_id", "The subscription's id.")
_ONE = "/v1/subscriptions/{subscription_id}"
_CHARGES = (402, 502, 503)

BILLING_OPERATIONS: tuple[tuple[str, str, Operation], ...] = (
    ("/v1/subscriptions", "post", Operation(
        "createSubscription",
        "Subscribe a customer to a plan, paying with a saved method (merchant, admin)",
        "subscriptions", ("The subscription.", "Subscription"), (*_MUTATION, *_CHARGES),
        status=201, body=ref("SubscriptionInput"), idempotent=True,
    )),
    ("/v1/subscriptions", "get", Operation(
        "listSubscriptions", "Subscriptions, newest first (customer keys: their own)",
        "subscriptions", ("The subscriptions.", "SubscriptionList"), (401, 403, 422),
        parameters=({"name": "customer_id", "in": "query", "schema": {"type": "string"}},),
    )),
    (_ONE, "get", Operation(
        "getSubscription", "One subscription (owner, merchant, admin; others 404)",
        "subscriptions", ("The subscription.", "Subscription"), (401, 403, 404),
        parameters=(_SUBSCRIPTION_ID,),
    )),
    (f"{_ONE}/cancel", "post", Operation(
        "cancelSubscription", "Cancel now or at the period's end (owner, merchant, admin)",
        "subscriptions", ("The subscription.", "Subscription"), _MUTATION,
        parameters=(_SUBSCRIPTION_ID,), body=ref("SubscriptionCancelInput"),
        body_required=False, idempotent=True,
    )),
    (f"{_ONE}/change", "post", Operation(
        "changeSubscription",
        "Change plans: dearer now with a prorated charge, cheaper at renewal (merchant, admin)",
        "subscriptions", ("The subscription.", "Subscription"), (*_MUTATION, *_CHARGES),
        parameters=(_SUBSCRIPTION_ID,), body=ref("SubscriptionChangeInput"), idempotent=True,
    )),
    (f"{_ONE}/payment_method", "post", Operation(
        "updateSubscriptionPaymentMethod", "Charge another saved method (merchant, admin)",
        "subscriptions", ("The subscription.", "Subscription"), (*_MUTATION, *_CHARGES),
        parameters=(_SUBSCRIPTION_ID,), body=ref("PaymentMethodInput"), idempotent=True,
    )),
    (f"{_ONE}/usage", "post", Operation(
        "recordUsage", "Record usage in the current period, once per reference (merchant, admin)",
        "subscriptions", ("The usage record (200: recorded before).", "UsageRecord"), _MUTATION,
        status=201, parameters=(_SUBSCRIPTION_ID,), body=ref("UsageInput"), idempotent=True,
    )),
    (f"{_ONE}/usage", "get", Operation(
        "getUsage", "Usage per metric in the current period or ?period_start (owner too)",
        "subscriptions", ("The totals.", "UsageSummary"), (401, 403, 404, 422),
        parameters=(
            _SUBSCRIPTION_ID,
            {"name": "period_start", "in": "query",
             "schema": {"type": "string", "format": "date-time"}},
        ),
    )),
    ("/v1/stats/subscriptions", "get", Operation(
        "subscriptionStats", "Counts by status, churn over ?window, MRR (merchant, admin)",
        "subscriptions", ("The statistics.", "SubscriptionStats"), (401, 403, 422),
        parameters=(
            {"name": "window", "in": "query", "description": "ISO 8601 duration, P30D default",
             "schema": {"type": "string", "pattern": "^P"}},
        ),
    )),
)  # fmt: skip
CLOCK_OPERATION = Operation(
    "advanceSandboxClock",
    "Sandbox: move the test clock the service and the worker read (admin)",
    "sandbox",
    ("The clock's new now.", "ClockNow"),
    _MUTATION,
    body=ref("ClockInput"),
    idempotent=True,
)


def billing_paths(*, sandbox: bool) -> dict[str, Schema]:
    """The billing paths; the test clock only in sandbox mode."""
    out: dict[str, Schema] = {}
    for path, method, operation in BILLING_OPERATIONS:
        out.setdefault(path, {})[method] = operation.schema()
    if sandbox:
        out["/v1/sandbox/clock"] = {"post": CLOCK_OPERATION.schema()}
    return out
