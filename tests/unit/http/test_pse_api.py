"""PSE over HTTP: the bank list anyone may read, and a checkout that names a bank and a payer."""

from __future__ import annotations

import pytest

from payments.domain.gateway import Bank
from tests.unit.http.conftest import Api, assert_problem


def test_anyone_reads_the_pse_banks_of_the_configured_gateway(api: Api) -> None:
    result = api.get("/v1/pse/banks", role=None, params={"country": "co"})
    assert result.status_code == 200
    assert result.json["country"] == "CO"
    assert result.json["gateway"] == "fake"
    assert result.json["banks"] == [
        {"code": "1", "name": "Banco que aprueba"},
        {"code": "2", "name": "Banco que rechaza"},
    ]
    assert result.json["stale"] is False
    assert result.headers["cache-control"] == "max-age=300"


def test_colombia_is_the_default_country(api: Api) -> None:
    assert api.get("/v1/pse/banks", role="public").json["country"] == "CO"


def test_a_malformed_country_is_422(api: Api) -> None:
    assert_problem(api.get("/v1/pse/banks", params={"country": "COL"}), 422, "validation_error")


def test_a_country_without_banks_is_200_with_an_empty_list_asked_for_once(api: Api) -> None:
    api.gateway.bank_list = []
    for _ in range(5):
        result = api.get("/v1/pse/banks", role=None, params={"country": "AR"})
        assert result.status_code == 200, result.text
        assert (result.json["country"], result.json["banks"]) == ("AR", [])
        assert result.json["stale"] is False
    assert api.gateway.calls.count(("banks", "AR")) == 1


@pytest.mark.parametrize("country", ["", "C", "1A", "CO\n", "C\u00d1", "COL"])
def test_a_country_that_is_not_two_letters_is_422(api: Api, country: str) -> None:
    result = api.get("/v1/pse/banks", role=None, params={"country": country})
    assert_problem(result, 422, "validation_error")


def test_banks_when_the_gateway_is_down_are_the_last_list_or_503(api: Api) -> None:
    api.gateway.banks_unavailable = True
    assert_problem(api.get("/v1/pse/banks"), 503, "gateway_unavailable")
    api.gateway.banks_unavailable = False
    assert api.get("/v1/pse/banks").status_code == 200
    api.gateway.banks_unavailable = True
    api.gateway.bank_list = [Bank("9", "never asked")]
    api.clock.advance(hours=2)
    stale = api.get("/v1/pse/banks")
    assert stale.status_code == 200
    assert stale.json["stale"] is True
    assert [b["code"] for b in stale.json["banks"]] == ["1", "2"]
    assert stale.headers["cache-control"] == "max-age=0"


def test_a_pse_checkout_sends_the_bank_and_payer_details_with_the_callers_address(
    api: Api,
) -> None:
    product_id = api.create_premium()["id"]
    result = api.post(
        "/v1/purchases",
        {
            "product_id": product_id,
            "customer_id": "cus_ana",
            "country": "CO",
            "payment_method": "pse",
            "bank_code": "1",
            "payer": {
                "document_type": "CC",
                "document_number": "1020304050",
                "person_type": "natural",
                "phone": "3001234567",
            },
        },
        remote_addr="203.0.113.7",
    )
    assert result.status_code == 201, result.text
    assert "payer" not in result.json  # passed to the gateway, never stored or echoed
    [request] = api.gateway.payment_requests
    assert request.bank_code == "1"
    payer = request.payer
    assert (payer.document_type, payer.document_number) == ("CC", "1020304050")
    assert (payer.person_type, payer.phone) == ("natural", "3001234567")
    assert payer.ip_address == "203.0.113.7"


def test_bad_payer_details_are_422_naming_each_field(api: Api) -> None:
    product_id = api.create_premium()["id"]
    before = api.snapshot()
    result = api.post(
        "/v1/purchases",
        {
            "product_id": product_id,
            "customer_id": "cus_ana",
            "country": "CO",
            "payer": {"person_type": "company", "document_number": 1020304050},
            "bank_code": "",
        },
    )
    problem = assert_problem(result, 422, "validation_error")
    fields = {e["field"] for e in problem["errors"]}
    assert {"payer.document_number", "bank_code"} <= fields
    assert api.snapshot() == before
