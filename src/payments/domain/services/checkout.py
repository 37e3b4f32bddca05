"""Checkout: create a purchase at the catalog price and start it at a gateway (safe failover)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from payments.domain.access import Principal, Role
from payments.domain.catalog import ProductKind
from payments.domain.customer import (
    Customer,
    check_customer_id,
    clean_name,
    found_or_added,
    normalise_email,
)
from payments.domain.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    NotFoundError,
    PaymentDeclinedError,
    ValidationError,
    with_details,
)
from payments.domain.gateway import Payer, PayerDetails, PaymentRequest, PaymentStart
from payments.domain.idempotency import KEY_LIFETIME, ClaimedKey, OutcomeKind, UnknownOutcome
from payments.domain.ports import PaymentGateway, UnitOfWork
from payments.domain.provider_strings import admit_start
from payments.domain.purchase import GatewayObservation, Purchase
from payments.domain.routing import RoutingTable, country_code
from payments.domain.services.guest_checkout import GuestCheckoutGate
from payments.domain.services.records import locked_purchase
from payments.domain.services.settlement import Posting, settle_payment
from payments.domain.services.use_case import GatewayUseCase, GatewayWiring

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CreatePurchase:
    """A request to buy one product. There is deliberately no amount: the catalog sets it."""

    product_id: str
    country: str
    customer_id: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    payment_method: str | None = None
    gateway: str | None = None
    return_url: str | None = None
    payer: PayerDetails | None = None
    bank_code: str | None = None
    payment_token: str | None = None
    """The provider's token of the payer's card (Wompi ``tok_...``, PayU ``creditCardTokenId``),
    made by the payer's browser or app with the provider; sent once, never stored."""
    client_address: str | None = None
    """Where the request came from (never a body's claim): guest checkouts are counted by it."""
    idempotency: ClaimedKey | None = None
    """The Idempotency-Key the request claimed: it is made to name the purchase (see
    ``ClaimedKey``), so a retry after a crash answers that purchase instead of making another."""


def customer_by_id(uow: UnitOfWork, customer_id: str, now: datetime) -> Customer:
    """The customer our caller names, created on its first purchase."""
    return uow.customers.stored_or_added(Customer(customer_id, None, None, now))


def payment_request(
    purchase: Purchase,
    payer: Payer,
    attempt: int,
    bank_code: str | None = None,
    payment_token: str | None = None,
) -> PaymentRequest:
    """What gateway ``attempt`` (its index in the purchase's routing chain) is asked to start.

    Everything but the payer's extra details, the bank and the card token comes from what the
    purchase (and its customer) stores, so reconciliation rebuilds the same request under the
    same idempotency key (``{purchase id}:start:{attempt}``) to recover a start whose answer was
    lost. A gateway that cannot be searched by our reference (``authoritative_lookup``) is sent
    none of those extras, so its request can be rebuilt exactly; Stripe, the one such gateway,
    sends none anyway.
    """
    return PaymentRequest(
        purchase_id=purchase.id,
        reference=purchase.reference,
        amount=purchase.amount,
        description=f"Purchase {purchase.id}",
        payer=payer,
        country=purchase.country,
        payment_method=purchase.payment_method,
        idempotency_key=f"{purchase.id}:start:{attempt}",
        return_url=purchase.return_url,
        metadata={"purchase_id": purchase.id, "purchase_reference": purchase.reference},
        bank_code=bank_code,
        payment_token=payment_token,
    )


def _payer(customer: Customer, details: PayerDetails) -> Payer:
    """What a gateway is told of the payer: the customer, and the details sent with the request."""
    return Payer(
        customer.id,
        customer.email,
        customer.name,
        phone=details.phone,
        document_type=details.document_type,
        document_number=details.document_number,
        person_type=details.person_type,
        ip_address=details.ip_address,
    )


class Checkout(GatewayUseCase):
    """Creates purchases and starts them at their gateways."""

    def __init__(
        self,
        wiring: GatewayWiring,
        routing: RoutingTable,
        *,
        guests: GuestCheckoutGate | None = None,
        single_statements: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        """``guests`` limits checkouts by publishable keys; without it guests are not limited.
        ``single_statements`` makes units of work whose statements each stand alone (no
        transaction around them; the wiring's units when not given): a start is recorded on
        one when a single statement does it (``_record_first_start``)."""
        super().__init__(wiring)
        self._routing = routing
        self._guests = guests
        self._single = single_statements or wiring.uow

    def create(self, command: CreatePurchase, principal: Principal) -> Purchase:
        """Create a purchase at the catalog price, route it and start it at the first gateway.

        The purchase is committed before any provider call, and the provider call is made outside
        any transaction. Failover to the next gateway happens only when the error proves nothing
        was charged. A decline leaves the purchase ``failed`` (returned, not raised). A guest
        (publishable key) over its checkout limits gets ``RateLimitedError``.
        """
        if principal.role is Role.PUBLIC and self._guests is not None:
            self._guests.admit(command.client_address, command.customer_email)
        if command.payer is not None:
            command.payer.check()
        if command.bank_code is not None and not (
            isinstance(command.bank_code, str) and 1 <= len(command.bank_code) <= 32
        ):
            raise ValidationError(
                "The bank code is invalid.",
                errors=[FieldError("bank_code", "must be a code from GET /v1/pse/banks")],
            )
        if command.payment_token is not None and not (
            isinstance(command.payment_token, str) and 1 <= len(command.payment_token) <= 255
        ):
            raise ValidationError(
                "The payment token is invalid.",
                errors=[FieldError("payment_token", "must be the provider's card token")],
            )
        purchase, customer = self._create_pending(command, principal)
        extras = (command.bank_code, command.payment_token)
        return self._start(purchase, customer, command.payer or PayerDetails(), extras)

    def _create_pending(
        self, command: CreatePurchase, principal: Principal
    ) -> tuple[Purchase, Customer]:
        """The purchase, committed ``pending``, and its customer as stored (customers never
        change once stored, so the gateway's payer is made from it without reading it again)."""
        now = self._clock.now()
        country = country_code(command.country)
        with self._uow() as uow:
            product = uow.products.get(command.product_id)
            if product is None or not product.active:
                raise NotFoundError(f"Product {command.product_id!r} does not exist.")
            if product.kind is ProductKind.PLAN:
                raise ValidationError(
                    "A plan is sold as a subscription: POST /v1/subscriptions.",
                    errors=[FieldError("product_id", "a plan: subscribe to it instead")],
                    details={"subscribe_at": "/v1/subscriptions"},
                )
            customer = self._resolve_customer(uow, command, principal, now)
            routing = self._routing.route(
                country=country,
                amount=product.price,
                payment_method=command.payment_method,
                capabilities=self._gateways.capabilities(),
                requested=command.gateway,
            )
            purchase = Purchase.create(
                id=self._ids.new("pur"),
                reference=self._ids.new("ref"),
                customer_id=customer.id,
                product_id=product.id,
                amount=product.price,
                credits=product.credits,
                validity_days=product.validity_days,
                country=country,
                payment_method=command.payment_method,
                routing=routing,
                now=now,
                return_url=command.return_url,
                actor=principal.key_id or principal.role.value,
            )
            uow.purchases.add(purchase)
            if command.idempotency is not None:
                uow.idempotency.name_outcome(
                    command.idempotency.scope,
                    command.idempotency.key,
                    UnknownOutcome(OutcomeKind.PURCHASE, purchase.id),
                    held_until=now + KEY_LIFETIME,
                )
            uow.commit()
        return purchase, customer

    def _resolve_customer(
        self,
        uow: UnitOfWork,
        command: CreatePurchase,
        principal: Principal,
        now: datetime,
    ) -> Customer:
        if principal.role is Role.CUSTOMER:
            if command.customer_id not in (None, principal.customer_id) or command.customer_email:
                raise ForbiddenError("A customer key buys only for its own customer.")
            if principal.customer_id is None:
                raise ForbiddenError("This customer key names no customer.")
            return customer_by_id(uow, principal.customer_id, now)
        if command.customer_id is not None:
            if principal.role is Role.PUBLIC:
                raise ForbiddenError("A publishable key buys as a guest: send customer.email.")
            if command.customer_email is not None:
                raise ValidationError(
                    "Send customer_id or customer, not both.",
                    errors=[FieldError("customer", "not allowed with customer_id")],
                )
            return customer_by_id(uow, check_customer_id(command.customer_id), now)
        if command.customer_email is None:
            raise ValidationError(
                "Say who is buying.",
                errors=[FieldError("customer_id", "send customer_id or customer.email")],
            )
        email = normalise_email(command.customer_email)
        name = clean_name(command.customer_name) if command.customer_name is not None else None
        return found_or_added(  # a guest, by e-mail
            lambda: uow.customers.get_by_email(email),
            lambda: Customer(self._ids.new("cus"), email, name, now),
            uow.customers.add,
        )

    def _start(
        self,
        purchase: Purchase,
        customer: Customer,
        details: PayerDetails,
        extras: tuple[str | None, str | None],
    ) -> Purchase:
        """Ask each gateway of the routing chain in turn for the purchase of ``customer``;
        ``extras`` are the PSE bank and the card token, sent only where they can be (see
        ``payment_request``)."""
        chain = purchase.routing.chain
        for attempt, gateway_name in enumerate(chain):
            gateway = self._gateways[gateway_name]
            if attempt > 0:
                self._reroute(purchase.id, gateway_name)
            sent_details, sent_extras = details, extras
            if not gateway.capabilities.authoritative_lookup:
                # Only what the purchase stores: reconciliation may have to send it again as is.
                sent_details, sent_extras = PayerDetails(), (None, None)
            payer = _payer(customer, sent_details)
            request = payment_request(purchase, payer, attempt, *sent_extras)
            last = attempt == len(chain) - 1
            try:
                start = admit_start(gateway_name, gateway.start_payment(request))
            except PaymentDeclinedError as declined:
                return self._fail_at_start(
                    purchase.id, gateway_name, declined.provider_code, declined.message
                )
            except ValidationError as refused:  # refused as asked: provably nothing charged
                log.warning("gateway %s refused %s: %s", gateway_name, purchase.id, refused)
                if not last:
                    continue
                self._fail_at_start(purchase.id, gateway_name, refused.code, refused.message)
                raise with_details(refused, purchase_id=purchase.id) from refused
            except (GatewayUnavailableError, GatewayConfigurationError) as error:
                provably_uncharged = isinstance(error, GatewayConfigurationError) or (
                    not error.charged_possible
                )
                log.warning("gateway %s failed for %s: %s", gateway_name, purchase.id, error)
                if provably_uncharged and not last:
                    continue
                raise with_details(error, purchase_id=purchase.id) from error
            return self._record_first_start(purchase, gateway_name, start)
        raise AssertionError("a routing decision always has at least one gateway")

    def resend_start(self, purchase: Purchase, gateway: PaymentGateway) -> Purchase:
        """Send the purchase's start again, rebuilt from what it stores under the same provider
        idempotency key, and record the answer as the first start records one.

        The provider answers the payment it already made (Stripe replays its first answer for
        24 hours) or, if the first request never reached it, makes it now; either way there is
        one. A decline is recorded as at checkout; any other error is raised for the sweep.
        """
        chain = purchase.routing.chain
        if purchase.gateway not in chain:  # no attempt of its chain: no key to rebuild
            return purchase
        attempt = chain.index(purchase.gateway)
        payer = self._stored_payer(purchase.customer_id)
        try:
            request = payment_request(purchase, payer, attempt)
            start = admit_start(gateway.name, gateway.start_payment(request))
        except PaymentDeclinedError as declined:
            return self._fail_at_start(
                purchase.id, gateway.name, declined.provider_code, declined.message
            )
        log.info("recovered the lost start of %s at %s", purchase.id, gateway.name)
        return self._record_start(purchase.id, gateway.name, start)

    def _fail_at_start(
        self, purchase_id: str, gateway_name: str, code: str | None, message: str
    ) -> Purchase:
        """The provider's answer to the start says no: the purchase fails with its code."""
        return self.observe(purchase_id, GatewayObservation.declined(gateway_name, code, message))

    def _stored_payer(self, customer_id: str) -> Payer:
        """The payer the stored customer ``customer_id`` is (its id alone if there is none)."""
        with self._uow() as uow:
            customer = uow.customers.get(customer_id)
        if customer is None:
            return Payer(customer_id, None, None)
        return _payer(customer, PayerDetails())

    def _reroute(self, purchase_id: str, gateway_name: str) -> None:
        with self._uow() as uow:
            purchase = locked_purchase(uow, purchase_id)
            purchase.gateway = gateway_name
            purchase.updated_at = self._clock.now()
            uow.purchases.save(purchase)
            uow.commit()

    def _record_first_start(
        self, purchase: Purchase, gateway_name: str, start: PaymentStart
    ) -> Purchase:
        """``_record_start`` for the purchase this checkout made, as the checkout holds it.

        A start that brings no observation changes the purchase's gateway, reference and next
        action only (no event, no audit record): that is one UPDATE, made on a single-statement
        unit if the purchase's version is still the one held, i.e. nobody changed it since (no
        read under the row lock, no transaction: three round trips fewer). If it changed (a
        notification came first, a failover rerouted it) the start is recorded as
        ``_record_start`` records it, on the purchase as stored.
        """
        if start.observation is None:
            now = self._clock.now()
            purchase.start_at_gateway(gateway_name, start.gateway_reference, start.next_action, now)
            if not purchase.events and not purchase.pending_audit:
                try:
                    with self._single() as uow:
                        uow.purchases.save(purchase)  # ConflictError if its version moved
                        uow.commit()
                    return purchase
                except ConflictError:
                    pass  # this copy is stale: record the start on the purchase as stored
        return self._record_start(purchase.id, gateway_name, start)

    def _record_start(self, purchase_id: str, gateway_name: str, start: PaymentStart) -> Purchase:
        now = self._clock.now()
        with self._uow() as uow:
            purchase = locked_purchase(uow, purchase_id)
            purchase.start_at_gateway(gateway_name, start.gateway_reference, start.next_action, now)
            if start.observation is not None:
                posting = Posting(now, gateway_name, self._ids)
                settle_payment(uow, purchase, start.observation, posting, self._invoicing)
            uow.purchases.save(purchase)
            uow.commit()
        return purchase

    def observe(self, purchase_id: str, observation: GatewayObservation) -> Purchase:
        """Apply a provider's answer about a purchase through the one apply step, as the
        provider's own word (its name is the actor)."""
        now = self._clock.now()
        with self._uow() as uow:
            purchase = locked_purchase(uow, purchase_id)
            posting = Posting(now, observation.gateway, self._ids)
            settle_payment(uow, purchase, observation, posting, self._invoicing)
            uow.commit()
        return purchase
