"""The gateways this deployment can use, by name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from payments.domain.errors import NotFoundError
from payments.domain.gateway import GatewayCapabilities
from payments.domain.ports import PaymentGateway


class GatewayRegistry(Mapping[str, PaymentGateway]):
    """Configured gateways by name; asking for another is a ``NotFoundError``."""

    def __init__(self, gateways: list[PaymentGateway] | tuple[PaymentGateway, ...]) -> None:
        self._by_name = {g.name: g for g in gateways}

    def __getitem__(self, name: str) -> PaymentGateway:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFoundError(f"No gateway named {name!r} is configured.") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def capabilities(self) -> dict[str, GatewayCapabilities]:
        """Each configured gateway's capabilities, for routing."""
        return {name: g.capabilities for name, g in self._by_name.items()}
