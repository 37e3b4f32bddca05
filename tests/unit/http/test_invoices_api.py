"""Invoices and revenue statistics over the HTTP API, on the fakes."""

from __future__ import annotations

import io

import pypdf

from tests.unit.http.conftest import Api, assert_problem


def _paid(api: Api, customer_id: str = "cus_ana") -> tuple[str, str]:
    """A purchase of the premium package paid through the webhook, and its invoice id."""
    purchase_id = api.buy(api.create_premium()["id"], customer_id)
    assert api.get(f"/v1/purchases/{purchase_id}").json["invoice_id"] is None
    api.gateway.approve(api.gateway_reference(purchase_id))
    assert api.deliver_all() == ["processed"]
    invoice_id = api.get(f"/v1/purchases/{purchase_id}").json["invoice_id"]
    assert isinstance(invoice_id, str)
    return purchase_id, invoice_id


def test_a_paid_purchase_shows_its_invoice_and_the_invoice_reads_back(api: Api) -> None:
    purchase_id, invoice_id = _paid(api)

    body = api.get(f"/v1/invoices/{invoice_id}", role="ana").json

    assert body == {
        "id": invoice_id,
        "number": "INV-2026-000001",
        "status": "paid",
        "purchase_id": purchase_id,
        "customer_id": "cus_ana",
        "country": "PT",
        "lines": [
            {
                "description": "8 Hour Premium Package",
                "quantity": 1,
                "unit_price": {"amount": "79.99", "currency": "EUR"},
                "total": {"amount": "79.99", "currency": "EUR"},
            }
        ],
        "subtotal": {"amount": "79.99", "currency": "EUR"},
        "tax": {"amount": "0.00", "currency": "EUR"},
        "tax_rate": "0",
        "total": {"amount": "79.99", "currency": "EUR"},
        "issued_at": "2026-01-01T12:00:00Z",
        "updated_at": "2026-01-01T12:00:00Z",
    }
    listed = api.get("/v1/purchases", role="ana").json["data"]
    assert [p["invoice_id"] for p in listed] == [invoice_id]


def test_the_pdf_is_served_as_a_download_that_reads_back(api: Api) -> None:
    _, invoice_id = _paid(api)

    result = api.get(f"/v1/invoices/{invoice_id}.pdf", role="merchant")

    assert result.status_code == 200
    assert result.headers["content-type"] == "application/pdf"
    assert "INV-2026-000001.pdf" in result.headers["content-disposition"]
    text = pypdf.PdfReader(io.BytesIO(result.content)).pages[0].extract_text()
    assert "INV-2026-000001" in text and "79.99 EUR" in text


def test_each_customer_lists_only_its_own_invoices(api: Api) -> None:
    _, ana_invoice = _paid(api, "cus_ana")
    _, bob_invoice = _paid(api, "cus_bob")

    def listed(role: str, query: str) -> list[str]:
        result = api.get(f"/v1/invoices{query}", role=role)
        assert result.status_code == 200, result.text
        return [invoice["id"] for invoice in result.json["data"]]

    assert listed("ana", "") == [ana_invoice]
    assert listed("bob", "?customer_id=cus_ana") == []  # never another's
    assert listed("bob", "") == [bob_invoice]
    assert listed("merchant", "?customer_id=cus_ana") == [ana_invoice]
    assert_problem(api.get(f"/v1/invoices/{ana_invoice}", role="bob"), 404, "not_found")
    assert_problem(api.get(f"/v1/invoices/{ana_invoice}.pdf", role="bob"), 404, "not_found")
    missing = assert_problem(api.get("/v1/invoices", role="merchant"), 422, "validation_error")
    assert missing["errors"] == [{"field": "customer_id", "message": "is required"}]


def test_invoices_page_newest_first_with_a_cursor(api: Api) -> None:
    invoices = []
    for _ in range(3):
        invoices.append(_paid(api)[1])
        api.clock.advance(minutes=1)

    first = api.get("/v1/invoices?customer_id=cus_ana&limit=2").json
    second = api.get(f"/v1/invoices?customer_id=cus_ana&limit=2&cursor={first['next_cursor']}")

    assert [i["id"] for i in first["data"]] == invoices[:0:-1]
    assert [i["id"] for i in second.json["data"]] == invoices[:1]
    assert second.json["next_cursor"] is None
    assert [i["number"] for i in first["data"]] == ["INV-2026-000003", "INV-2026-000002"]


def test_a_full_refund_voids_the_invoice(api: Api) -> None:
    purchase_id, invoice_id = _paid(api)

    refunded = api.post(f"/v1/purchases/{purchase_id}/refunds", {})

    assert refunded.status_code == 201, refunded.text
    assert api.get(f"/v1/invoices/{invoice_id}").json["status"] == "void"


def test_revenue_report_has_money_in_the_one_currency_asked(api: Api) -> None:
    purchase_id, _ = _paid(api)
    api.post(
        f"/v1/purchases/{purchase_id}/refunds", {"amount": {"amount": "9.99", "currency": "EUR"}}
    )

    result = api.get(
        "/v1/stats/revenue?currency=eur&from=2026-01-01&to=2026-01-31&granularity=month",
        role="merchant",
    )

    eur = {"currency": "EUR"}
    figures = {
        "gross": {"amount": "79.99", **eur},
        "refunds": {"amount": "9.99", **eur},
        "net": {"amount": "70.00", **eur},
        "count": 1,
    }
    assert result.status_code == 200, result.text
    assert result.json == {
        "currency": "EUR",
        "buckets": [{"period": "2026-01", **figures}],
        "totals": figures,
        "by_gateway": [{"gateway": "fake", **figures}],
    }
    empty = api.get("/v1/stats/revenue?currency=JPY", role="admin").json
    assert empty["totals"]["gross"] == {"amount": "0", "currency": "JPY"}
    assert empty["buckets"] == []


def test_revenue_refuses_a_query_without_currency_or_with_a_bad_window(api: Api) -> None:
    for query in (
        "",
        "?currency=",
        "?currency=EURO",
        "?currency=EUR&from=2026-02-01&to=2026-01-01",
        "?currency=EUR&from=2026-1-1",
        "?currency=EUR&granularity=year",
        "?currency=EUR&from=2000-01-01&to=2026-01-01",
    ):
        result = api.get(f"/v1/stats/revenue{query}", role="admin")
        assert_problem(result, 422, "validation_error")


def test_revenue_to_the_first_day_there_is_reads_from_that_day(api: Api) -> None:
    # the default window reaches before year 1: it starts at the first day there is
    result = api.get("/v1/stats/revenue?currency=EUR&to=0001-01-01", role="admin")
    assert result.status_code == 200, result.text
    assert result.json["currency"] == "EUR"
