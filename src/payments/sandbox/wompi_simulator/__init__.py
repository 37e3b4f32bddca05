"""Wompi's sandbox, simulated: transactions, card tokens, PSE banks and checksummed events."""

from payments.sandbox.wompi_simulator.objects import WEBHOOK_PATH, SimulatedTransaction
from payments.sandbox.wompi_simulator.simulator import (
    SIGNED_PROPERTIES,
    WompiSimulator,
    body_checksum,
)

__all__ = [
    "SIGNED_PROPERTIES",
    "WEBHOOK_PATH",
    "SimulatedTransaction",
    "WompiSimulator",
    "body_checksum",
]
