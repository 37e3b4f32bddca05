"""The sandbox provider's simulator: an in-memory payments API in the sandbox wire format."""

from __future__ import annotations

from payments.sandbox.delivery import Deliver, Delivery, http_deliverer
from payments.sandbox.gateway_simulator.objects import (
    PAYMENT_METHODS,
    SANDBOX_BANKS,
    SIGNATURE_HEADER,
    WEBHOOK_PATH,
    SimulatedPayment,
    SimulatedRefund,
)
from payments.sandbox.gateway_simulator.simulator import SandboxSimulator

__all__ = [
    "PAYMENT_METHODS",
    "SANDBOX_BANKS",
    "SIGNATURE_HEADER",
    "WEBHOOK_PATH",
    "Deliver",
    "Delivery",
    "SandboxSimulator",
    "SimulatedPayment",
    "SimulatedRefund",
    "http_deliverer",
]
