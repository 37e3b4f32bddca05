"""The real servers as processes: ``payments serve`` and ``gunicorn payments.wsgi:application``.

Sandbox mode under concurrency, request bodies sent with ``Transfer-Encoding: chunked``, and
the first requests on a fresh SQLite file.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from payments.adapters.gateways.stripe import sign_payload
from payments.config import SANDBOX_SECRET
from tests.integration.service import (
    free_port,
    payments_env,
    payments_serve,
    run_payments,
    served,
)

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}
CONCURRENT_CHECKOUTS = 24
# The stall this guards against held each call for the gateway's timeouts (3 x 5 s).
PROMPT_SECONDS = 5.0


def _admin_key(database_url: str) -> str:
    done = run_payments("api-keys", "create", "--role", "admin", env=payments_env(database_url))
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@dataclass(frozen=True)
class Served:
    base_url: str
    key: str


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One ``payments serve`` for this module, on a fresh SQLite file it migrates itself."""
    folder = tmp_path_factory.mktemp("serve")
    database_url = f"sqlite:///{folder / 'served.db'}"
    with payments_serve(database_url, folder) as base_url:
        yield Served(base_url, _admin_key(database_url))


def _post(base_url: str, path: str, key: str, body: object) -> requests.Response:
    return requests.post(
        base_url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def _all_at_once(count: int, call: object) -> list[tuple[requests.Response, float]]:
    """Run ``call(i)`` from ``count`` threads released together; each answer and its time."""
    barrier = threading.Barrier(count)

    def timed(index: int) -> tuple[requests.Response, float]:
        barrier.wait()
        started = time.monotonic()
        answer = call(index)  # type: ignore[operator]
        return answer, time.monotonic() - started

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(timed, range(count)))


def test_concurrent_sandbox_checkouts_and_approvals_all_answer_promptly(serve: Served) -> None:
    key = serve.key
    product = _post(serve.base_url, "/v1/products", key, PACKAGE).json()

    checkouts = _all_at_once(
        CONCURRENT_CHECKOUTS,
        lambda i: _post(
            serve.base_url,
            "/v1/purchases",
            key,
            {"product_id": product["id"], "customer_id": f"cus_{i}", "country": "PT"},
        ),
    )
    assert [answer.status_code for answer, _ in checkouts] == [201] * CONCURRENT_CHECKOUTS, [
        answer.text for answer, _ in checkouts if answer.status_code != 201
    ]
    assert max(seconds for _, seconds in checkouts) < PROMPT_SECONDS
    ids = [answer.json()["id"] for answer, _ in checkouts]

    approvals = _all_at_once(
        CONCURRENT_CHECKOUTS,
        lambda i: _post(serve.base_url, f"/v1/sandbox/purchases/{ids[i]}/approve", key, None),
    )
    assert [answer.status_code for answer, _ in approvals] == [200] * CONCURRENT_CHECKOUTS
    assert max(seconds for _, seconds in approvals) < PROMPT_SECONDS
    assert {answer.json()["result"]["delivered_status"] for answer, _ in approvals} == {200}
    assert {answer.json()["purchase"]["status"] for answer, _ in approvals} == {"completed"}
    pending = requests.get(
        serve.base_url + "/v1/purchases",
        params={"status": "pending"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()
    assert pending["data"] == []


def test_a_sandbox_redirect_sends_the_payer_to_the_public_address(serve: Served) -> None:
    cop = {**PACKAGE, "price": {"amount": "50000.00", "currency": "COP"}}
    product = _post(serve.base_url, "/v1/products", serve.key, cop).json()
    purchase = _post(
        serve.base_url,
        "/v1/purchases",
        serve.key,
        {
            "product_id": product["id"],
            "customer": {"email": "ana@example.com", "name": "Ana"},
            "country": "CO",
            "payment_method": "pse",
            "bank_code": "1",
            "payer": {
                "document_type": "CC",
                "document_number": "1020304050",
                "person_type": "natural",
            },
        },
    ).json()
    assert purchase["gateway"] == "wompi", purchase
    url = purchase["next_action"]["url"]
    assert url.startswith(serve.base_url + "/sandbox/wompi/pay/")  # not a private port
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


def _post_chunked(
    base_url: str, path: str, chunks: Iterable[bytes], headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    """POST with ``Transfer-Encoding: chunked`` and no Content-Length, as http.client frames it.

    The body is sent from another thread while this one reads the answer: a server may answer
    (413) and close before the whole body is sent, and the sender's broken pipe is expected.
    """
    address = urlsplit(base_url)
    assert address.hostname is not None and address.port is not None
    head = "".join(
        f"{name}: {value}\r\n"
        for name, value in {
            "Host": address.netloc,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            **headers,
        }.items()
    )
    framed = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks if chunk]
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:

        def send() -> None:
            try:
                sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode())
                for piece in framed:
                    sock.sendall(piece)
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered early and closed: its answer is what we check

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        status, body = answer.status, json.loads(answer.read())
        sender.join(timeout=30)
    assert isinstance(body, dict)
    return status, body


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_chunked_product_body_is_read(serve: Served) -> None:
    status, product = _post_chunked(
        serve.base_url,
        "/v1/products",
        _pieces(json.dumps(PACKAGE).encode(), 17),
        {"Authorization": f"Bearer {serve.key}"},
    )

    assert status == 201, product
    assert product["name"] == PACKAGE["name"]
    assert product["price"] == PACKAGE["price"]


def test_chunked_body_over_one_mebibyte_is_413(serve: Served) -> None:
    huge = json.dumps({**PACKAGE, "name": "x" * (2 * 1024 * 1024)}).encode()
    before = requests.get(serve.base_url + "/v1/products", timeout=30).json()

    status, problem = _post_chunked(
        serve.base_url,
        "/v1/products",
        _pieces(huge, 64 * 1024),
        {"Authorization": f"Bearer {serve.key}"},
    )

    assert status == 413, problem
    assert problem["code"] == "payload_too_large"
    assert requests.get(serve.base_url + "/v1/products", timeout=30).json() == before


def test_chunked_webhook_is_verified_on_its_whole_body(serve: Served) -> None:
    event = {"id": "evt_chunked_1", "object": "event", "type": "customer.created"}
    body = json.dumps({**event, "data": {"object": {"id": "cus_1"}}}).encode()
    signature = sign_payload(body, [SANDBOX_SECRET], int(time.time()))

    status, answer = _post_chunked(
        serve.base_url, "/v1/webhooks/stripe", _pieces(body, 10), {"Stripe-Signature": signature}
    )

    assert status == 200, answer
    assert answer == {"status": "ignored"}


def test_plain_gunicorn_on_a_fresh_sqlite_file_migrates_and_serves_the_sandbox(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--threads",
        "8",
        "payments.wsgi:application",
    ]
    env = payments_env(database_url)
    with served(command, env, port, tmp_path / "gunicorn.log") as base_url:
        listed = _all_at_once(8, lambda _: requests.get(base_url + "/v1/products", timeout=30))
        assert [answer.status_code for answer, _ in listed] == [200] * 8
        key = _admin_key(database_url)
        product = _post(base_url, "/v1/products", key, PACKAGE).json()
        purchase = _post(
            base_url,
            "/v1/purchases",
            key,
            {"product_id": product["id"], "customer_id": "cus_ana", "country": "PT"},
        )
        assert purchase.status_code == 201, purchase.text
        approved = _post(
            base_url, f"/v1/sandbox/purchases/{purchase.json()['id']}/approve", key, {}
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["purchase"]["status"] == "completed"
