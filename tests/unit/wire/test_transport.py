"""The transport module against real sockets: what proves a request never left, and retries."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
import stripe
import urllib3
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from payments.adapters.wire.transport import (
    backoff_delay,
    error_for_transport,
    never_sent,
    retry_unsent,
)
from payments.domain.errors import GatewayConfigurationError, GatewayUnavailableError
from tests.contract.loopback import serving

TIMEOUT = (0.5, 0.5)


def highest(low: float, high: float) -> float:
    """A jitter that always draws its upper bound, so delays are exact."""
    return high


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def raw_server(answer: bytes | None) -> Iterator[int]:
    """A TCP server that reads what it is sent, then writes ``answer`` and hangs up (``None``:
    keeps the connection open and silent until the test ends)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    done = threading.Event()

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            if answer is None:
                done.wait(5)
            else:
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        done.set()
        listener.close()
        thread.join(timeout=5)


@contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose listener never accepts and whose backlog is full: a connect times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    queued: list[socket.socket] = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.settimeout(0.2)
            queued.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except OSError:
                break
        yield port
    finally:
        for filler in queued:
            filler.close()
        listener.close()


def failure_of(url: str, *, session: requests.Session | None = None) -> requests.RequestException:
    """The exception ``requests`` raises for a GET of ``url``."""
    with pytest.raises(requests.RequestException) as caught:
        (session or requests.Session()).get(url, timeout=TIMEOUT)
    return caught.value


# -- never sent ------------------------------------------------------------------------------------


def test_refused_connection_proves_nothing_was_sent() -> None:
    failure = failure_of(f"http://127.0.0.1:{closed_port()}/v1/payments")
    assert never_sent(failure)
    error = error_for_transport("wompi", failure)
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is False


def test_connect_timeout_proves_nothing_was_sent() -> None:
    with full_backlog() as port:
        failure = failure_of(f"http://127.0.0.1:{port}/v1/payments")
    assert isinstance(failure, requests.exceptions.ConnectTimeout)
    assert never_sent(failure)
    error = error_for_transport("wompi", failure)
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is False


def test_unresolvable_host_proves_nothing_was_sent() -> None:
    failure = failure_of("http://payments-provider.invalid/v1/payments")
    assert never_sent(failure)


def test_failed_tls_handshake_proves_nothing_was_sent() -> None:
    with raw_server(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port:
        failure = failure_of(f"https://127.0.0.1:{port}/v1/payments")
    assert isinstance(failure, requests.exceptions.SSLError)
    assert never_sent(failure)


def test_closed_pool_proves_nothing_was_sent() -> None:
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") as port:
        pool = urllib3.HTTPConnectionPool("127.0.0.1", port)
        pool.close()
        with pytest.raises(urllib3.exceptions.ClosedPoolError) as caught:
            pool.urlopen("GET", "/v1/payments")
    assert never_sent(caught.value)


def test_read_timeout_after_sending_proves_nothing() -> None:
    with raw_server(None) as port:
        failure = failure_of(f"http://127.0.0.1:{port}/v1/payments")
    assert isinstance(failure, requests.exceptions.ReadTimeout)
    assert not never_sent(failure)
    error = error_for_transport("wompi", failure)
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is True


def test_connection_dropped_after_sending_proves_nothing() -> None:
    with raw_server(b"") as port:
        failure = failure_of(f"http://127.0.0.1:{port}/v1/payments")
    assert isinstance(failure, requests.ConnectionError)
    assert not never_sent(failure)
    error = error_for_transport("wompi", failure)
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is True


def test_stripe_sdk_connection_error_is_seen_through() -> None:
    client = stripe.StripeClient(
        "sk_test_offline",
        base_addresses={"api": f"http://127.0.0.1:{closed_port()}"},
        max_network_retries=0,
    )
    with pytest.raises(stripe.APIConnectionError) as caught:
        client.v1.payment_intents.retrieve("pi_1")
    assert never_sent(caught.value)


def test_error_names_the_provider() -> None:
    failure = failure_of(f"http://127.0.0.1:{closed_port()}/")
    assert "payu" in error_for_transport("payu", failure).message


# -- the domain errors, from hand-built exceptions ------------------------------------------------


def test_connection_refused_proves_nothing_was_charged() -> None:
    refused = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    error = error_for_transport(
        "wompi",
        requests.ConnectionError(MaxRetryError(None, "/v1/payments", refused)),  # type: ignore[arg-type]
    )
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is False


def test_connect_timeout_proves_nothing_was_charged() -> None:
    error = error_for_transport("wompi", requests.exceptions.ConnectTimeout())
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is False


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ReadTimeout(),
        requests.ConnectionError(ProtocolError("Connection aborted.")),
        requests.exceptions.ChunkedEncodingError(),
    ],
)
def test_failure_after_sending_may_have_charged(failure: requests.RequestException) -> None:
    error = error_for_transport("wompi", failure)
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is True


def test_bad_url_is_a_configuration_error() -> None:
    assert isinstance(
        error_for_transport("wompi", requests.exceptions.MissingSchema()),
        GatewayConfigurationError,
    )


# -- retries ---------------------------------------------------------------------------------------


def test_backoff_doubles_with_each_attempt_and_jitters_below_the_ceiling() -> None:
    assert [backoff_delay(n, 0.2, highest) for n in (1, 2, 3)] == [0.2, 0.4, 0.8]
    assert backoff_delay(3, 0.2, lambda low, high: low) == 0.4


def test_unsent_requests_are_retried_with_backoff_until_one_is_answered() -> None:
    slept: list[float] = []
    urls = [f"http://127.0.0.1:{closed_port()}/", f"http://127.0.0.1:{closed_port()}/"]

    def app(environ: object, start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"answered"]

    with serving(app) as live:
        urls.append(live + "/")
        answers = iter(urls)
        response = retry_unsent(
            lambda: requests.get(next(answers), timeout=TIMEOUT),
            attempts=3,
            backoff=0.1,
            sleep=slept.append,
            jitter=highest,
        )
    assert response.text == "answered"
    assert slept == [0.1, 0.2]


def test_unsent_requests_give_up_with_the_last_error_unchanged() -> None:
    slept: list[float] = []
    url = f"http://127.0.0.1:{closed_port()}/"
    with pytest.raises(requests.ConnectionError) as caught:
        retry_unsent(
            lambda: requests.get(url, timeout=TIMEOUT),
            attempts=3,
            backoff=0.1,
            sleep=slept.append,
            jitter=highest,
        )
    assert never_sent(caught.value)
    assert len(slept) == 2


def test_a_request_that_may_have_been_sent_is_never_retried_unsent() -> None:
    calls = 0

    def call() -> requests.Response:
        nonlocal calls
        calls += 1
        return requests.get(f"http://127.0.0.1:{port}/", timeout=TIMEOUT)

    with raw_server(None) as port, pytest.raises(requests.exceptions.ReadTimeout):
        retry_unsent(call, attempts=3, backoff=0.0, sleep=lambda _: None)
    assert calls == 1


def test_a_call_safe_to_repeat_is_also_retried_on_what_it_accepts_and_nothing_else() -> None:
    seen: list[int] = []

    def call() -> int:
        seen.append(len(seen))
        if len(seen) < 3:
            raise ValueError("again")
        return len(seen)

    def worth_repeating(error: Exception) -> bool:
        return isinstance(error, ValueError)

    assert (
        retry_unsent(call, attempts=5, backoff=0.0, sleep=lambda _: None, also=worth_repeating) == 3
    )
    with pytest.raises(KeyError):
        retry_unsent(
            lambda: {}["x"], attempts=5, backoff=0.0, sleep=lambda _: None, also=worth_repeating
        )


def test_retry_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="attempt"):
        retry_unsent(lambda: None, attempts=0, backoff=0.1)
