"""Routing: a pure choice of the ordered gateways for a market, with the reason recorded."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from payments.domain.errors import (
    ConfigurationError,
    FieldError,
    UnsupportedByGatewayError,
    ValidationError,
)
from payments.domain.gateway import GatewayCapabilities
from payments.domain.money import Money
from payments.domain.purchase import RoutingDecision

PAYMENT_METHODS = frozenset({"card", "pse", "nequi", "bank_transfer", "cash"})
_METHODS_HINT = "one of " + ", ".join(sorted(PAYMENT_METHODS))
ANY = "*"


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """``CO+cash: efecty``: for a country (or ``*``) and optionally a payment method, a chain."""

    country: str
    payment_method: str | None
    chain: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.country + (f"+{self.payment_method}" if self.payment_method else "")

    def matches(self, country: str, payment_method: str | None) -> bool:
        if self.country not in (ANY, country):
            return False
        return self.payment_method is None or self.payment_method == payment_method

    @property
    def specificity(self) -> int:
        return (2 if self.country != ANY else 0) + (1 if self.payment_method else 0)


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """The per-market routing configuration, most specific rule first."""

    rules: tuple[RoutingRule, ...]

    @classmethod
    def parse(cls, text: str) -> RoutingTable:
        """Parse ``"CO: wompi, payu; CO+cash: efecty; MX: payu; *: stripe"`` (``;`` or newlines).

        Raises ``ConfigurationError`` on a malformed rule, an unknown payment method or a repeat.
        """
        rules: list[RoutingRule] = []
        seen: set[str] = set()
        for raw in text.replace("\n", ";").split(";"):
            part = raw.strip()
            if not part:
                continue
            market, sep, chain_text = part.partition(":")
            chain = tuple(g.strip().lower() for g in chain_text.split(",") if g.strip())
            if not sep or not chain:
                raise ConfigurationError(f"Routing rule {part!r} must look like 'CO: wompi, payu'.")
            country, _, method = market.strip().partition("+")
            country = country.strip().upper()
            method_name = method.strip().lower() or None
            if country != ANY and (len(country) != 2 or not country.isalpha()):
                raise ConfigurationError(f"Routing rule {part!r}: {country!r} is not a country.")
            if method_name is not None and method_name not in PAYMENT_METHODS:
                raise ConfigurationError(
                    f"Routing rule {part!r}: unknown payment method {method_name!r}."
                )
            rule = RoutingRule(country, method_name, chain)
            if rule.label in seen:
                raise ConfigurationError(f"Routing rule for {rule.label} is given twice.")
            seen.add(rule.label)
            rules.append(rule)
        if not rules:
            raise ConfigurationError("The routing table has no rules.")
        return cls(tuple(sorted(rules, key=lambda r: -r.specificity)))

    def gateways(self) -> frozenset[str]:
        """Every gateway some rule names."""
        return frozenset(g for rule in self.rules for g in rule.chain)

    def chain_for(self, country: str, payment_method: str | None) -> tuple[str, ...]:
        """The gateways the most specific rule for the market names, in order (none: no rule
        matches)."""
        for rule in self.rules:
            if rule.matches(country, payment_method):
                return rule.chain
        return ()

    def route(
        self,
        *,
        country: str,
        amount: Money,
        payment_method: str | None,
        capabilities: Mapping[str, GatewayCapabilities],
        requested: str | None = None,
    ) -> RoutingDecision:
        """The gateways to try, in order; each must serve the currency, country and method.

        ``requested`` (a caller's explicit gateway) overrides the chain when that gateway serves the
        market. Raises ``UnsupportedByGatewayError`` when no gateway can take the payment.
        """
        if payment_method is not None and payment_method not in PAYMENT_METHODS:
            raise ValidationError(
                f"Unknown payment method {payment_method!r}.",
                errors=[FieldError("payment_method", _METHODS_HINT)],
            )

        def refusal(gateway: str, unconfigured: str) -> str | None:
            caps = capabilities.get(gateway)
            return unconfigured if caps is None else caps.refusal(country, amount, payment_method)

        if requested is not None:
            why = refusal(requested, "it is not configured")
            if why:
                raise UnsupportedByGatewayError(f"Gateway {requested!r} cannot be used: {why}.")
            return RoutingDecision((requested,), f"gateway {requested} requested by the caller")
        for rule in self.rules:
            if not rule.matches(country, payment_method):
                continue
            chain: list[str] = []
            skipped: list[str] = []
            for gateway in rule.chain:
                why = refusal(gateway, "not configured")
                if why:
                    skipped.append(f"{gateway} skipped: {why}")
                else:
                    chain.append(gateway)
            if chain:
                reason = f"rule {rule.label}: {', '.join(rule.chain)}"
                if skipped:
                    reason += " (" + "; ".join(skipped) + ")"
                return RoutingDecision(tuple(chain), reason)
        raise UnsupportedByGatewayError(
            f"No gateway serves {country} in {amount.currency.code}"
            + (f" by {payment_method}" if payment_method else "")
            + "."
        )


_COUNTRY = re.compile(r"[A-Z]{2}")


def country_code(value: object) -> str:
    """An ISO 3166 alpha-2 code, upper-cased (``"co"`` -> ``"CO"``); ``ValidationError``
    naming ``country`` otherwise."""
    country = value.strip().upper() if isinstance(value, str) else ""
    if not _COUNTRY.fullmatch(country):
        raise ValidationError(
            "The country is invalid.",
            errors=[FieldError("country", "must be an ISO 3166 alpha-2 code such as 'CO'")],
        )
    return country
