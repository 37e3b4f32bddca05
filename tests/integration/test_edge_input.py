"""Generated bad input over real HTTP: never a 5xx, nothing written, nothing logged above WARNING.

Text no database can store (NUL, lone surrogates) in every path segment, query parameter, body
field and header; signed webhook bodies nested too deep, with integers too long, or with provider
strings longer than our columns. Each runs on SQLite and on PostgreSQL (where NUL fails).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from payments.adapters.gateways.stripe import sign_payload
from payments.config import SANDBOX_SECRET
from tests.integration.service import RunningService, row_counts, running_service

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PRODUCT = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}
UNSTORABLE = st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80"])
bad_text = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text(max_size=8),
    UNSTORABLE,
    st.text(max_size=8),
)
GET_PATHS = [
    "/v1/products/{}",
    "/v1/purchases/{}",
    "/v1/purchases/{}/refunds",
    "/v1/refunds/{}",
    "/v1/accounts/{}",
]
POST_PATHS = [
    "/v1/purchases/{}/cancel",
    "/v1/purchases/{}/refunds",
    "/v1/purchases/{}/sync",
    "/v1/webhooks/{}",
]
QUERIES = [
    ("/v1/purchases", "customer_id"),
    ("/v1/purchases", "status"),
    ("/v1/purchases", "cursor"),
    ("/v1/purchases", "limit"),
    ("/v1/pse/banks", "country"),
    ("/v1/accounts/cus_ana", "entries"),
    ("/v1/products", "anything"),
]
# (route, a valid body, the dotted field the bad text goes into)
BODY_FIELDS = [
    ("/v1/products", PRODUCT, "name"),
    ("/v1/products", PRODUCT, "kind"),
    ("/v1/products", PRODUCT, "price.currency"),
    ("/v1/products", PRODUCT, "credits"),
    ("/v1/purchases", {"product_id": "prd_x", "country": "CO"}, "product_id"),
    ("/v1/purchases", {"product_id": "prd_x", "country": "CO"}, "country"),
    ("/v1/purchases", {"product_id": "prd_x", "country": "CO"}, "customer_id"),
    ("/v1/purchases", {"product_id": "prd_x", "country": "CO"}, "customer.name"),
    ("/v1/purchases", {"product_id": "prd_x", "country": "CO"}, "customer.email"),
    ("/v1/purchases", {"product_id": "prd_x", "country": "CO"}, "payer.document_number"),
    ("/v1/purchases", {"product_id": "prd_x", "country": "CO"}, "bank_code"),
    ("/v1/purchases/pur_x/refunds", {}, "reason"),
]


def _percent(text: str) -> str:
    """``text`` percent-encoded as UTF-8, lone surrogates included (as their 3 bytes)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _with(body: dict[str, object], dotted: str, value: str) -> dict[str, object]:
    copy = json.loads(json.dumps(body))
    target = copy
    *parents, last = dotted.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value
    return copy


class _Worst(logging.Handler):
    """Remembers the most severe record any logger emits."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno > logging.WARNING:
            self.records.append(record)


@pytest.fixture
def service(database: Engine) -> Iterator[RunningService]:
    url = database.url.render_as_string(hide_password=False)
    with running_service({"PAYMENTS_DATABASE_URL": url}) as running:
        yield running


@pytest.fixture
def watched(service: RunningService, database: Engine) -> Iterator[RunningService]:
    """The service with a product and a key; afterwards: no row written, nothing logged above
    WARNING."""
    key = service.admin_key()
    service.http.headers["Authorization"] = f"Bearer {key}"
    assert service.call("POST", "/v1/products", key, PRODUCT).status_code == 201
    before = row_counts(database)
    worst = _Worst()
    root = logging.getLogger()
    root.addHandler(worst)
    try:
        yield service
    finally:
        root.removeHandler(worst)
    assert row_counts(database) == before
    assert [record.getMessage() for record in worst.records] == []


def _refused(answer: requests.Response) -> None:
    assert answer.status_code < 500, answer.text
    assert "Traceback" not in answer.text


@EXAMPLES
@given(template=st.sampled_from(GET_PATHS + POST_PATHS), text=bad_text, anonymous=st.booleans())
def test_unstorable_path_segments_are_not_found(
    watched: RunningService, template: str, text: str, anonymous: bool
) -> None:
    method = "GET" if template in GET_PATHS else "POST"
    headers: dict[str, str | None] = {"Authorization": None} if anonymous else {}
    answer = watched.http.request(
        method, watched.base_url + template.format(_percent(text)), headers=headers, timeout=30
    )
    _refused(answer)
    if "\x00" in text:
        assert answer.status_code == 404, answer.text


@EXAMPLES
@given(query=st.sampled_from(QUERIES), text=bad_text, anonymous=st.booleans())
def test_unstorable_query_parameters_are_refused_by_name(
    watched: RunningService, query: tuple[str, str], text: str, anonymous: bool
) -> None:
    path, name = query
    headers: dict[str, str | None] = {"Authorization": None} if anonymous else {}
    url = f"{watched.base_url}{path}?{name}={_percent(text)}"
    answer = watched.http.get(url, headers=headers, timeout=30)
    _refused(answer)
    if "\x00" in text:
        assert answer.status_code == 422, answer.text
        assert {"field": name} in [{"field": e["field"]} for e in answer.json()["errors"]]


@EXAMPLES
@given(case=st.sampled_from(BODY_FIELDS), text=bad_text)
def test_unstorable_body_fields_are_refused_by_name(
    watched: RunningService, case: tuple[str, dict[str, object], str], text: str
) -> None:
    path, body, field = case
    raw = json.dumps(_with(body, field, text)).encode()  # \u0000 and \ud800 escapes
    answer = watched.http.post(
        watched.base_url + path,
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    assert field in [error["field"] for error in answer.json()["errors"]]


header_text = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=300)


@EXAMPLES
@given(
    name=st.sampled_from(
        ["Authorization", "X-Request-Id", "X-Forwarded-For", "Stripe-Signature", "Content-Type"]
    ),
    value=header_text,
    path=st.sampled_from(["/v1/products", "/v1/purchases", "/health", "/v1/pse/banks"]),
)
def test_any_header_is_answered_without_a_server_error(
    watched: RunningService, name: str, value: str, path: str
) -> None:
    value = value.strip().replace("\r", " ").replace("\n", " ")
    answer = watched.http.get(watched.base_url + path, headers={name: value}, timeout=30)
    _refused(answer)


def _deep(depth: int) -> bytes:
    return (
        b'{"id": "evt_1", "type": "payment.succeeded", "data": '
        + b"[" * depth
        + b"]" * depth
        + b"}"
    )


long_or_unstorable = st.text(min_size=201, max_size=3000) | bad_text


def _stripe_intent(intent_id: str) -> bytes:
    intent = {"id": intent_id, "status": "canceled", "amount": 7999, "currency": "eur"}
    event = {"id": "evt_long_intent", "type": "payment_intent.canceled"}
    return json.dumps({**event, "data": {"object": intent}}).encode()


# Stripe's absurd bodies: too deep, integers too long, identities too long or unstorable (the
# parsing they reach is the wire module's, which every provider's adapter shares).
webhook_bodies = st.one_of(
    st.integers(33, 200_000).map(_deep),
    st.integers(21, 20_000).map(
        lambda digits: (
            b'{"id": "evt_1", "type": "payment.succeeded", "created": 1' + b"0" * digits + b"}"
        )
    ),
    st.builds(
        lambda event_id: json.dumps({"id": event_id, "type": "payment.noticed"}).encode(),
        long_or_unstorable,
    ),
    st.builds(
        lambda event_type: json.dumps({"id": "evt_long_type", "type": event_type}).encode(),
        long_or_unstorable,
    ),
    long_or_unstorable.map(_stripe_intent),
    st.binary(max_size=200),
)


@EXAMPLES
@given(signed=st.booleans(), data=st.data())
def test_absurd_webhook_bodies_are_400_signed_or_not(
    watched: RunningService, signed: bool, data: st.DataObject
) -> None:
    body = data.draw(webhook_bodies)
    headers = {"Content-Type": "application/json"}
    if signed:  # the Stripe simulator signs with the sandbox secret
        headers["Stripe-Signature"] = sign_payload(body, [SANDBOX_SECRET], int(time.time()))
    answer = watched.http.post(
        f"{watched.base_url}/v1/webhooks/stripe", data=body, headers=headers, timeout=30
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == ("malformed_notification" if signed else "invalid_signature")


@pytest.mark.parametrize(
    ("provider", "header"), [("stripe", "Stripe-Signature"), ("wompi", "X-Event-Checksum")]
)
def test_absurd_signature_headers_are_refused_before_any_hmac(
    watched: RunningService, provider: str, header: str
) -> None:
    for value in ("t=1," + "v1=ab," * 5000, "t=" + "9" * 5000 + ",v1=00", "x" * 100_000):
        answer = watched.http.post(
            f"{watched.base_url}/v1/webhooks/{provider}",
            data=b"[" * 100_000,
            headers={header: value},
            timeout=30,
        )
        assert answer.status_code in (400, 431), answer.text
