"""PayU Latam's sandbox, simulated: orders, card tokens, PSE banks and signed confirmations."""

from payments.sandbox.payu_simulator.objects import WEBHOOK_PATH, SimulatedOrder
from payments.sandbox.payu_simulator.simulator import PayUSimulator

__all__ = ["WEBHOOK_PATH", "PayUSimulator", "SimulatedOrder"]
