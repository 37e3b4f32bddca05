"""The Wompi simulator: transactions in memory, the payer's outcomes, events with checksums."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Final

import falcon

from payments.adapters.gateways.wompi.events import event_from_body
from payments.adapters.gateways.wompi.settings import (
    SANDBOX_PSE_BANKS,
    TRANSACTION_UPDATED,
)
from payments.adapters.gateways.wompi.signatures import event_checksum
from payments.adapters.wire.digests import hex_digest
from payments.domain.errors import ConfigurationError, MalformedNotificationError, NotFoundError
from payments.domain.money import Money
from payments.sandbox.delivery import Deliver, SignedEvents
from payments.sandbox.provider import SimulatedProvider, require_status
from payments.sandbox.wompi_simulator.app import wompi_simulator_app
from payments.sandbox.wompi_simulator.objects import (
    WEBHOOK_PATH,
    WOMPI_EVENTS,
    CardToken,
    SimulatedTransaction,
    encode,
    iso_time,
    validation_error,
)
from payments.sandbox.wompi_simulator.operations import check_transaction, not_found

__all__ = ["SIGNED_PROPERTIES", "WompiSimulator", "body_checksum"]

SIGNED_PROPERTIES: Final = ("transaction.id", "transaction.status", "transaction.amount_in_cents")
"""What the simulator's events sign, as the documented example does (reference §3.5)."""

_PENDING: Final = frozenset({"PENDING"})
_REDIRECTED: Final = frozenset({"PSE", "BANCOLOMBIA_TRANSFER"})
_DECLINE_MESSAGES: Final[Mapping[str, str]] = {
    "DECLINED": "Transacción declinada por el sandbox",
    "ERROR": "Error en la transacción del sandbox",
}


def body_checksum(body: bytes, events_secret: str) -> str:
    """The checksum Wompi would send with an event body (what ``X-Event-Checksum`` carries):
    its properties, timestamp and the events secret; for a body that is not an event, a digest
    that matches nothing."""
    try:
        event = event_from_body(body)
        signature = event.get("signature")
        properties = signature.get("properties") if isinstance(signature, Mapping) else None
        data = event.get("data")
        timestamp = event.get("timestamp")
        if (
            isinstance(properties, list)
            and isinstance(data, Mapping)
            and isinstance(timestamp, int)
        ):
            return event_checksum(data, properties, timestamp, events_secret)
    except MalformedNotificationError:
        pass
    return hex_digest("sha256", f"not an event{events_secret}")


class _ChecksumEvents(SignedEvents):
    """Events signed the Wompi way: the checksum is in the body, repeated in the header."""

    def __init__(
        self,
        events_secret: str,
        deliver: Deliver | None,
        *,
        webhook_path: str,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(
            WOMPI_EVENTS, [events_secret], deliver, webhook_path=webhook_path, clock=clock
        )
        self._events_secret = events_secret

    def sign(self, timestamp: int, body: bytes) -> str:
        return body_checksum(body, self._events_secret)


class WompiSimulator(SimulatedProvider):
    """Plays Wompi's sandbox, in memory and thread-safe (``wsgi_app()`` serves it over HTTP).

    Transactions start ``PENDING``. ``complete`` gives one the final status its documented test
    data leads to (card 4242... APPROVED, 4111... DECLINED, any other ERROR; Nequi 3991111111
    APPROVED, 3992222222 DECLINED, any other ERROR; PSE bank "1" APPROVED, "2" DECLINED, "3"
    ERROR); ``approve``, ``decline`` and ``expire`` (Wompi has no expired status: ``ERROR``)
    are the sandbox controller's actions. Each change sends a ``transaction.updated`` event,
    checksummed with the events secret, to ``deliver`` outside the lock, never from inside an
    HTTP request to the simulator. A void is answered but not notified.
    """

    def __init__(
        self,
        *,
        public_key: str,
        private_key: str,
        integrity_secret: str,
        events_secret: str,
        deliver: Deliver | None = None,
        payer_base: str | None = None,
        clock: Callable[[], float] = time.time,
        webhook_path: str = WEBHOOK_PATH,
    ) -> None:
        if not all((public_key, private_key, integrity_secret, events_secret)):
            raise ConfigurationError("The Wompi simulator needs its four keys.")
        super().__init__(
            WOMPI_EVENTS, events_secret, deliver, webhook_path=webhook_path, clock=clock
        )
        self._events = _ChecksumEvents(
            events_secret, deliver, webhook_path=webhook_path, clock=clock
        )
        self.public_key = public_key
        self.private_key = private_key
        self._integrity_secret = integrity_secret
        self._events_secret = events_secret
        self._payer_base = payer_base.rstrip("/") if payer_base else None
        self.acceptance_token = f"eyJ.sandbox-policy.{secrets.token_hex(8)}"
        self.personal_data_token = f"eyJ.sandbox-personal-data.{secrets.token_hex(8)}"
        self.tokens: dict[str, CardToken] = {}
        self.transactions: dict[str, SimulatedTransaction] = {}
        self._payer_urls: dict[str, str] = {}

    # -- the payer's and the network's side ----------------------------------------------------

    def complete(self, transaction_id: str) -> dict[str, object]:
        """The payer finished: the status the sandbox test data leads to (APPROVED when the
        payer chooses it, as on the Bancolombia transfer page)."""
        with self._lock:
            planned = self._transaction(transaction_id).planned or "APPROVED"
        return self._finish(transaction_id, planned)

    def approve(self, transaction_id: str) -> dict[str, object]:
        """The payer paid: ``APPROVED``."""
        return self._finish(transaction_id, "APPROVED")

    def decline(self, transaction_id: str, code: str = "51") -> dict[str, object]:
        """The payment was refused: ``DECLINED`` (a card carries processor ``code``)."""
        return self._finish(transaction_id, "DECLINED", code=code)

    def expire(self, transaction_id: str) -> dict[str, object]:
        """The payer never finished: Wompi has no expired status, so ``ERROR``."""
        return self._finish(
            transaction_id, "ERROR", message="La transacción expiró sin completarse"
        )

    def refunded(self, transaction_id: str) -> Money:
        """What a void has given back of a transaction."""
        with self._lock:
            transaction = self._transaction(transaction_id)
            cents = transaction.amount_in_cents if transaction.status == "VOIDED" else 0
            return Money.from_minor_units(cents, transaction.currency)

    def _finish(
        self,
        transaction_id: str,
        status: str,
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> dict[str, object]:
        with self._lock:
            transaction = self._transaction(transaction_id)
            require_status(
                transaction.status,
                _PENDING,
                f"The Wompi transaction is {transaction.status}: it cannot become {status}.",
            )
            if status != "APPROVED":
                message = message or _DECLINE_MESSAGES.get(status)
                code = code if transaction.method_type == "CARD" else None
            transaction.finish(status, self._clock(), message, code)
            event = self._event(transaction)
        return self._events.send(*event)

    def _event(self, transaction: SimulatedTransaction) -> tuple[str, str, bytes]:
        data: dict[str, object] = {"transaction": transaction.to_wire()}
        timestamp = self._now()
        checksum = event_checksum(data, SIGNED_PROPERTIES, timestamp, self._events_secret)
        body = encode(
            {
                "event": TRANSACTION_UPDATED,
                "data": data,
                "environment": "test",
                "signature": {"properties": list(SIGNED_PROPERTIES), "checksum": checksum},
                "timestamp": timestamp,
                "sent_at": iso_time(self._clock()),
            }
        )
        event_id = f"{transaction.id}:{transaction.status}"
        self._events.keep(event_id, TRANSACTION_UPDATED, body)
        return event_id, TRANSACTION_UPDATED, body

    def _transaction(self, transaction_id: str) -> SimulatedTransaction:
        transaction = self.transactions.get(transaction_id)
        if transaction is None:
            raise NotFoundError(f"The Wompi simulator has no transaction {transaction_id!r}.")
        return transaction

    # -- the API -------------------------------------------------------------------------------

    def wsgi_app(self) -> falcon.App[falcon.Request, falcon.Response]:
        """A Falcon WSGI app serving Wompi's wire format, to mount under any path prefix (the
        gateway's base URL is the mount plus ``/v1``)."""
        return wompi_simulator_app(self)

    def merchant(self, public_key: str) -> dict[str, object]:
        """``GET /merchants/{public_key}``: the acceptance tokens (reference §3.2)."""
        if public_key != self.public_key:
            raise not_found()
        return {
            "data": {
                "id": 1,
                "name": "Payments sandbox",
                "public_key": self.public_key,
                "presigned_acceptance": {
                    "acceptance_token": self.acceptance_token,
                    "permalink": "https://wompi.co/terminos-sandbox.pdf",
                    "type": "END_USER_POLICY",
                },
                "presigned_personal_data_auth": {
                    "acceptance_token": self.personal_data_token,
                    "permalink": "https://wompi.co/datos-sandbox.pdf",
                    "type": "PERSONAL_DATA_AUTH",
                },
            },
            "meta": {},
        }

    def tokenize_card(self, body: Mapping[str, object]) -> dict[str, object]:
        """``POST /tokens/cards``: a token for a card number (any future expiry, 3-digit CVC)."""
        number = body.get("number")
        if not isinstance(number, str) or not number.isdigit() or not 12 <= len(number) <= 19:
            raise validation_error("number", "Número de tarjeta inválido")
        cvc = body.get("cvc")
        if not isinstance(cvc, str) or not cvc.isdigit() or len(cvc) != 3:
            raise validation_error("cvc", "Debe tener 3 dígitos")
        brand = "VISA" if number.startswith("4") else "MASTERCARD"
        token = CardToken(f"tok_test_{secrets.token_hex(10)}", number, brand)
        with self._lock:
            self.tokens[token.id] = token
        return {
            "status": "CREATED",
            "data": {
                "id": token.id,
                "created_at": iso_time(self._clock()),
                "brand": brand,
                "name": f"{brand}-{token.last_four}",
                "last_four": token.last_four,
                "bin": number[:6],
                "exp_year": body.get("exp_year"),
                "exp_month": body.get("exp_month"),
                "card_holder": body.get("card_holder"),
            },
        }

    def create_transaction(self, body: Mapping[str, object], prefix: str) -> dict[str, object]:
        """``POST /transactions``: a PENDING transaction; 422 for a reused reference."""
        with self._lock:
            reference, cents, currency, email, method, planned = check_transaction(
                body,
                integrity_secret=self._integrity_secret,
                acceptance_token=self.acceptance_token,
                tokens=self.tokens,
            )
            if any(t.reference == reference for t in self.transactions.values()):
                raise validation_error("reference", "La referencia ya ha sido usada")
            now = self._clock()
            transaction_id = (
                f"{len(self.transactions) + 1}-{int(now)}-{secrets.randbelow(90000) + 10000}"
            )
            extra: dict[str, object] = {}
            if method["type"] == "CARD":
                token = self.tokens[str(method["token"])]
                extra = {"brand": token.brand, "last_four": token.last_four}
            redirect = body.get("redirect_url")
            transaction = SimulatedTransaction(
                id=transaction_id,
                reference=reference,
                amount_in_cents=cents,
                currency=currency,
                customer_email=email,
                method=method,
                redirect_url=redirect if isinstance(redirect, str) else None,
                created=now,
                planned=planned,
                extra=extra,
            )
            self.transactions[transaction_id] = transaction
            self._payer_urls[transaction_id] = f"{self._payer_base or prefix}/pay/{transaction_id}"
            return {"data": transaction.to_wire(), "meta": {}}

    def transaction(self, transaction_id: str) -> dict[str, object]:
        """``GET /transactions/{id}``; a PSE or transfer payer's URL shows from the first read
        on, as Wompi makes it a moment after the transaction (reference §3.3)."""
        with self._lock:
            transaction = self.transactions.get(transaction_id)
            if transaction is None:
                raise not_found()
            if transaction.method_type in _REDIRECTED and transaction.payer_url is None:
                transaction.payer_url = self._payer_urls.get(transaction_id)
            return {"data": transaction.to_wire(), "meta": {}}

    def transactions_under(self, reference: str) -> dict[str, object]:
        """``GET /transactions?reference=``: the transactions under our reference."""
        with self._lock:
            data = [t.to_wire() for t in self.transactions.values() if t.reference == reference]
        return {"data": data, "meta": {}}

    def void(self, transaction_id: str) -> dict[str, object]:
        """``POST /transactions/{id}/void``: an approved card transaction becomes VOIDED."""
        with self._lock:
            transaction = self.transactions.get(transaction_id)
            if transaction is None:
                raise not_found()
            if transaction.method_type != "CARD" or transaction.status != "APPROVED":
                raise validation_error(
                    "transaction", "Solo se anulan transacciones aprobadas con tarjeta"
                )
            transaction.status = "VOIDED"
            transaction.finalized = self._clock()
            return {
                "data": {"status": "APPROVED", "transaction": transaction.to_wire()},
                "meta": {},
            }

    @staticmethod
    def banks() -> dict[str, object]:
        """``GET /pse/financial_institutions`` (reference §3.6)."""
        data = [
            {"financial_institution_code": code, "financial_institution_name": name}
            for code, name in SANDBOX_PSE_BANKS.items()
        ]
        return {"data": data, "meta": {}}

    def payer_page(self, transaction_id: str) -> tuple[str, int, str]:
        """What the payer's page shows: reference, cents and status; ``ApiError`` 404."""
        with self._lock:
            transaction = self.transactions.get(transaction_id)
            if transaction is None:
                raise not_found()
            return transaction.reference, transaction.amount_in_cents, transaction.status
