"""Typed settings, built once from a mapping (the environment) and validated at start."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from payments.adapters.stripe_gateway import check_stripe_keys, payment_methods_param_for
from payments.domain.errors import ConfigurationError
from payments.domain.routing import RoutingTable

DEFAULT_DATABASE_URL = "sqlite:///payments.db"
SANDBOX_SECRET = "sandbox_whsec_not_a_real_secret"  # noqa: S105 - sandbox only, documented


@dataclass(frozen=True, slots=True)
class StripeSettings:
    """Stripe's settings; ``webhook_secrets`` is every valid endpoint secret (several while
    rotating), each stripped, none empty."""

    secret_key: str | None
    webhook_secrets: tuple[str, ...]
    api_base: str | None
    publishable_key: str | None
    api_version: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads from its environment (DESIGN §7)."""

    mode: str
    database_url: str
    routing: RoutingTable
    routing_text: str
    public_base_url: str
    sandbox_secret: str
    stripe: StripeSettings
    idempotency_ttl: timedelta
    payment_window: timedelta
    log_format: str
    redis_url: str | None
    internal_base_url: str | None = None
    """Where this process reaches its own endpoints (sandbox simulators and webhooks), when
    that is not ``public_base_url``: ``payments serve`` points it at a private loopback port."""

    @property
    def sandbox(self) -> bool:
        return self.mode == "sandbox"

    @property
    def self_base_url(self) -> str:
        """The base URL this process calls itself at; payer-facing links use the public one."""
        return self.internal_base_url or self.public_base_url

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read ``PAYMENTS_*`` settings; raise ``ConfigurationError`` naming what is wrong."""

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"PAYMENTS_{name}")
            return value.strip() if value and value.strip() else default

        mode = (get("MODE", "sandbox") or "sandbox").lower()
        if mode not in ("sandbox", "live"):
            raise ConfigurationError("PAYMENTS_MODE must be 'sandbox' or 'live'.")
        stripe = StripeSettings(
            secret_key=get("STRIPE_SECRET_KEY"),
            webhook_secrets=webhook_secrets(get("STRIPE_WEBHOOK_SECRET")),
            api_base=get("STRIPE_API_BASE"),
            publishable_key=get("STRIPE_PUBLISHABLE_KEY"),
            api_version=get("STRIPE_API_VERSION"),
        )
        payment_methods_param_for(stripe.api_version)  # refuses a malformed version at start
        check_stripe_keys(mode, stripe.secret_key, stripe.webhook_secrets)
        if mode == "live" and not stripe.secret_key:
            raise ConfigurationError("Live mode needs a gateway: set PAYMENTS_STRIPE_SECRET_KEY.")
        default_routing = "*: stripe" if stripe.secret_key else "*: sandbox"
        routing_text = get("ROUTING", default_routing) or default_routing
        routing = _routing(routing_text)
        log_format = (get("LOG_FORMAT", "console") or "console").lower()
        if log_format not in ("json", "console"):
            raise ConfigurationError("PAYMENTS_LOG_FORMAT must be 'json' or 'console'.")
        return cls(
            mode=mode,
            database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL,
            routing=routing,
            routing_text=routing_text,
            public_base_url=(get("PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            sandbox_secret=get("SANDBOX_SECRET", SANDBOX_SECRET) or SANDBOX_SECRET,
            stripe=stripe,
            idempotency_ttl=timedelta(hours=_hours(get, "IDEMPOTENCY_TTL_HOURS")),
            payment_window=timedelta(hours=_hours(get, "PAYMENT_WINDOW_HOURS")),
            log_format=log_format,
            redis_url=get("REDIS_URL"),
        )


def webhook_secrets(text: str | None) -> tuple[str, ...]:
    """The comma-separated ``PAYMENTS_STRIPE_WEBHOOK_SECRET`` as secrets, each stripped (a space
    after a comma is not part of the secret), empty items dropped."""
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _routing(text: str) -> RoutingTable:
    """``PAYMENTS_ROUTING`` parsed; a refusal names the variable, never the rule it holds."""
    try:
        return RoutingTable.parse(text)
    except ConfigurationError:
        # The parser's message quotes the rule; settings messages never echo a value.
        raise ConfigurationError(
            "PAYMENTS_ROUTING is malformed: rules look like 'CO: wompi, payu' or "
            "'CO+cash: efecty' (a two-letter country or *, an optional known payment method, "
            "then gateways), separated by ';', each market at most once."
        ) from None


def _hours(get: Callable[[str, str], str | None], name: str, default: str = "24") -> int:
    """A positive whole number of hours from ``PAYMENTS_<name>``; refusals name the variable."""
    value = get(name, default) or default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"PAYMENTS_{name} must be a whole number of hours.") from None
    if number <= 0:
        raise ConfigurationError(f"PAYMENTS_{name} must be a positive number of hours.")
    return number
