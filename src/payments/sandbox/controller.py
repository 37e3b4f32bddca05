"""Sandbox actions routed by gateway name to the provider simulator that holds the payment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

from payments.domain.errors import FieldError, NotFoundError, ValidationError
from payments.domain.purchase import Purchase

SimulatorAction = Callable[[str, str], dict[str, object]]
"""Acts on one simulated payment: ``(gateway_reference, our reference) -> JSON-able summary``."""

ACTIONS: Final = ("approve", "decline", "expire")
SANDBOX_ACTIONS: Final = frozenset(ACTIONS)
"""The actions ``POST /v1/sandbox/purchases/{id}/{action}`` takes."""


class SandboxController(Protocol):
    """Drives the simulator behind a purchase's gateway (sandbox mode only)."""

    def act(self, purchase: Purchase, action: str) -> dict[str, object]:
        """Make the simulator ``approve``, ``decline`` or ``expire`` the purchase's payment and
        deliver the resulting signed notification; returns a JSON-able summary (such as the
        webhook answer). Raises ``NotFoundError`` when the purchase's gateway has no simulator."""
        ...


class PaymentSimulator(Protocol):
    """A provider simulator (or a sandbox account) that acts on its payments by their id."""

    def approve(self, gateway_reference: str) -> dict[str, object]: ...
    def decline(self, gateway_reference: str) -> dict[str, object]: ...
    def expire(self, gateway_reference: str) -> dict[str, object]: ...


class SimulatorSandbox:
    """Makes the simulator behind a purchase's gateway approve, decline or expire its payment.

    Implements the ``SandboxController`` protocol above.
    Each simulator registers its three actions under its gateway's name at start-up; the
    simulator then delivers the signed notification to our own webhook endpoint, exactly as the
    real provider would.
    """

    def __init__(self) -> None:
        self._simulators: dict[str, dict[str, SimulatorAction]] = {}

    def register(
        self,
        gateway: str,
        *,
        approve: SimulatorAction,
        decline: SimulatorAction,
        expire: SimulatorAction,
    ) -> None:
        """Route the actions on ``gateway``'s purchases to these callables (replacing any)."""
        self._simulators[gateway] = {"approve": approve, "decline": decline, "expire": expire}

    def register_simulator(self, gateway: str, simulator: PaymentSimulator) -> None:
        """Route the actions on ``gateway``'s purchases to ``simulator``'s methods."""
        self.register(
            gateway,
            approve=lambda ref, _our: simulator.approve(ref),
            decline=lambda ref, _our: simulator.decline(ref),
            expire=lambda ref, _our: simulator.expire(ref),
        )

    @property
    def gateways(self) -> frozenset[str]:
        """The gateways that have a simulator."""
        return frozenset(self._simulators)

    def act(self, purchase: Purchase, action: str) -> dict[str, object]:
        """Run ``action`` on the purchase's payment at its simulator; returns its summary.

        Raises ``ValidationError`` for an unknown action or a purchase not started at a gateway,
        ``NotFoundError`` when its gateway has no simulator, and whatever the simulator raises
        (``InvalidTransitionError`` when its payment cannot take that action).
        """
        if action not in ACTIONS:
            raise ValidationError(
                f"There is no sandbox action {action!r}.",
                errors=[FieldError("action", f"must be one of {', '.join(ACTIONS)}")],
            )
        if purchase.gateway is None:
            raise ValidationError("The purchase has not been sent to a gateway.")
        simulator = self._simulators.get(purchase.gateway)
        if simulator is None:
            raise NotFoundError(f"Gateway {purchase.gateway!r} has no sandbox simulator.")
        if purchase.gateway_reference is None:
            raise ValidationError(
                "The purchase has no payment at its gateway yet.",
                details={"gateway": purchase.gateway},
            )
        summary = simulator[action](purchase.gateway_reference, purchase.reference)
        return {
            "purchase_id": purchase.id,
            "gateway": purchase.gateway,
            "gateway_reference": purchase.gateway_reference,
            "action": action,
            **summary,
        }
