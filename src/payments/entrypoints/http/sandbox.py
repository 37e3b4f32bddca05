"""The sandbox port of the HTTP API: a simulator approves, declines or expires a payment."""

from __future__ import annotations

from typing import Protocol

from payments.domain.purchase import Purchase

SANDBOX_ACTIONS = frozenset({"approve", "decline", "expire"})


class SandboxController(Protocol):
    """Drives the simulator behind a purchase's gateway (sandbox mode only)."""

    def act(self, purchase: Purchase, action: str) -> dict[str, object]:
        """Make the simulator ``approve``, ``decline`` or ``expire`` the purchase's payment and
        deliver the resulting signed notification; returns a JSON-able summary (such as the
        webhook answer). Raises ``NotFoundError`` when the purchase's gateway has no simulator."""
        ...
