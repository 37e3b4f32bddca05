"""Typed settings, built once from a mapping (the environment) and validated at start."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from payments.adapters.deferred import parse_redis_url
from payments.adapters.gateways.stripe import check_stripe_keys, payment_methods_param_for
from payments.domain.errors import ConfigurationError
from payments.domain.invoice import DEFAULT_SERIES, InvoicePolicy, parse_tax_rates
from payments.domain.routing import RoutingTable
from payments.domain.subscription import DEFAULT_DUNNING_SCHEDULE
from payments.provider_config import EfectySettings as EfectySettings  # noqa: PLC0414 - re-export
from payments.provider_config import PayUSettings as PayUSettings  # noqa: PLC0414 - re-export
from payments.provider_config import WompiSettings as WompiSettings  # noqa: PLC0414 - re-export
from payments.provider_config import read_efecty, read_payu, read_wompi
from payments.setting_values import flag, whole_number

DEFAULT_DATABASE_URL = "sqlite:///payments.db"
SANDBOX_SECRET = "sandbox_whsec_not_a_real_secret"  # noqa: S105 - sandbox only, documented
KNOWN_GATEWAYS = frozenset({"stripe", "payu", "wompi", "efecty"})
"""Gateway names DESIGN.md knows; only these are ever quoted back in a settings message."""
SANDBOX_ROUTING = "CO+cash: efecty; CO: wompi, payu; *: stripe"
"""Sandbox mode's default ``PAYMENTS_ROUTING``: every market to a real adapter, each against its
built-in simulator (decision 0040). The one place a new simulated provider joins the default."""
_DATABASE_DRIVERS = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
)
_NATS_SCHEMES = frozenset({"nats", "tls"})
_STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SUBJECT_PREFIX = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
SANDBOX_WEBHOOK_SECRETS_KEY = "c2FuZGJveC1vbmx5LXdlYmhvb2stc2VjcmV0cy1rZXk="
"""Seals merchant webhook secrets in sandbox mode when no key is set; live mode refuses it."""


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
class NatsSettings:
    """The NATS JetStream relay's settings (docs/configuration.md)."""

    url: str = field(repr=False)  # may hold credentials
    stream: str = "PAYMENTS"
    subject_prefix: str = "payments"
    timeout_seconds: int = 5


METRICS_MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's own variable: the directory of a multiprocess server's metric files."""


NOTIFICATION_MODES = ("apply", "ingest")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


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
    log_level: str = "INFO"
    """``PAYMENTS_LOG_LEVEL``: the least severe log records written (``debug`` ... ``error``)."""
    internal_base_url: str | None = None
    """Where this process reaches its own endpoints (sandbox simulators and webhooks), when
    that is not ``public_base_url``: ``payments serve`` points it at a private loopback port."""
    trust_forwarded_for: bool = False
    """The API runs behind our own proxy: the last ``X-Forwarded-For`` hop is the client."""
    guest_checkouts_per_ip_hour: int = 10
    guest_checkouts_per_email_hour: int = 5
    nats: NatsSettings | None = None
    """Where the worker publishes the outbox's events; None: they stay in the outbox."""
    wompi: WompiSettings = field(default_factory=WompiSettings)
    payu: PayUSettings = field(default_factory=PayUSettings)
    metrics_token: str | None = None
    """``PAYMENTS_METRICS_TOKEN``: callers off loopback may read ``/metrics`` with it as a bearer
    token; without it ``/metrics`` answers loopback callers only."""
    metrics_multiprocess_dir: str | None = None
    """``PROMETHEUS_MULTIPROC_DIR``: where gunicorn's workers keep their metric files (``payments
    serve`` sets it); None outside gunicorn, where a process serves its own metrics."""
    invoicing: InvoicePolicy = field(default_factory=InvoicePolicy)
    """The invoice number series and the tax rates included in prices, per country."""
    webhook_secrets_keys: tuple[str, ...] = field(default=(), repr=False)
    """Fernet keys sealing merchant webhook secrets (the first seals, any opens); none: live
    mode cannot create webhook endpoints."""
    efecty: EfectySettings = field(default_factory=EfectySettings)
    dunning_schedule: tuple[timedelta, ...] = DEFAULT_DUNNING_SCHEDULE
    """When a declined subscription charge is tried again, counted from its first decline."""
    notification_batch: int = 32
    """``PAYMENTS_NOTIFICATION_BATCH``: the most provider notifications one process applies in
    one transaction when they arrive together (group commit, decision 0041); 1 turns it off."""
    notification_mode: str = "apply"
    """``PAYMENTS_NOTIFICATION_MODE``: ``apply`` (each delivery is applied before it is answered)
    or ``ingest`` (stored and answered; ``payments worker`` applies it, decision 0042)."""

    @property
    def sandbox(self) -> bool:
        return self.mode == "sandbox"

    @property
    def ingest_notifications(self) -> bool:
        """Whether deliveries are stored and answered, and applied by the worker."""
        return self.notification_mode == "ingest"

    @property
    def gateways(self) -> frozenset[str]:
        """The gateways these settings configure, the only ones routing may name: Stripe with a
        secret key, Wompi with its keys and PayU with its credentials (in sandbox mode each of
        them otherwise against its built-in simulator), and Efecty when enabled (our own voucher
        book)."""
        return configured_gateways(self.mode, self.stripe, self.wompi, self.payu, self.efecty)

    @property
    def rate_limit_store(self) -> str:
        """Where guest-checkout counts live: ``redis`` (shared by every worker) when a Redis URL
        is set, else ``memory`` (one process's own)."""
        return "redis" if self.redis_url else "memory"

    @property
    def event_publishing(self) -> str:
        """``nats`` when ``PAYMENTS_NATS_URL`` is set (the worker publishes the outbox), else
        ``off``."""
        return "nats" if self.nats is not None else "off"

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
        _check_publishable_key(mode, stripe.publishable_key)
        wompi = read_wompi(get, mode)
        payu = read_payu(get, mode)
        efecty = read_efecty(get, mode)
        default_routing = SANDBOX_ROUTING if mode == "sandbox" else "*: stripe"
        routing_text = get("ROUTING", default_routing) or default_routing
        routing = _routing(routing_text)
        configured = configured_gateways(mode, stripe, wompi, payu, efecty)
        default = None if get("ROUTING") else default_routing
        check_routed_gateways(routing, configured, mode, default=default)
        log_format = (get("LOG_FORMAT", "console") or "console").lower()
        if log_format not in ("json", "console"):
            raise ConfigurationError("PAYMENTS_LOG_FORMAT must be 'json' or 'console'.")
        log_level = (get("LOG_LEVEL", "info") or "info").strip().upper()
        if log_level not in LOG_LEVELS:
            raise ConfigurationError(
                "PAYMENTS_LOG_LEVEL must be one of " + ", ".join(LOG_LEVELS).lower() + "."
            )
        database_url = get("DATABASE_URL", DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL
        _check_database_url(database_url)
        redis_url = get("REDIS_URL")
        if redis_url is not None:
            _check_redis_url(redis_url)
        return cls(
            invoicing=_invoicing(get),
            webhook_secrets_keys=_webhook_secrets_keys(get("WEBHOOK_SECRETS_KEY"), mode),
            dunning_schedule=_dunning(get("DUNNING_SCHEDULE", "1,3,5") or "1,3,5"),
            nats=_nats(get),
            wompi=wompi,
            payu=payu,
            efecty=efecty,
            mode=mode,
            database_url=database_url,
            routing=routing,
            routing_text=routing_text,
            public_base_url=(get("PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            sandbox_secret=get("SANDBOX_SECRET", SANDBOX_SECRET) or SANDBOX_SECRET,
            stripe=stripe,
            idempotency_ttl=timedelta(
                hours=whole_number(get, "IDEMPOTENCY_TTL_HOURS", "24", "hours")
            ),
            payment_window=timedelta(
                hours=whole_number(get, "PAYMENT_WINDOW_HOURS", "24", "hours")
            ),
            log_format=log_format,
            log_level=log_level,
            redis_url=redis_url,
            trust_forwarded_for=flag(get, "TRUST_FORWARDED_FOR"),
            metrics_token=get("METRICS_TOKEN"),
            metrics_multiprocess_dir=(env.get(METRICS_MULTIPROCESS_DIR) or "").strip() or None,
            guest_checkouts_per_ip_hour=whole_number(
                get, "GUEST_CHECKOUTS_PER_IP_HOUR", "10", "checkouts"
            ),
            guest_checkouts_per_email_hour=whole_number(
                get, "GUEST_CHECKOUTS_PER_EMAIL_HOUR", "5", "checkouts"
            ),
            notification_batch=whole_number(get, "NOTIFICATION_BATCH", "32", "notifications"),
            notification_mode=_notification_mode(get("NOTIFICATION_MODE", "apply")),
        )


def _notification_mode(text: str | None) -> str:
    mode = (text or "apply").strip().lower()
    if mode not in NOTIFICATION_MODES:
        raise ConfigurationError("PAYMENTS_NOTIFICATION_MODE must be 'apply' or 'ingest'.")
    return mode


def configured_gateways(
    mode: str,
    stripe: StripeSettings,
    wompi: WompiSettings | None = None,
    payu: PayUSettings | None = None,
    efecty: EfectySettings | None = None,
) -> frozenset[str]:
    """The gateways ``mode`` and the provider settings enable (what
    ``payments.gateway_assembly.build_gateways`` builds)."""
    cash = {"efecty"} if efecty is not None and efecty.enabled else set()
    if mode == "sandbox":
        return frozenset({"stripe", "wompi", "payu", *cash})
    live = {"stripe", *cash} if stripe.secret_key else cash
    if wompi is not None and wompi.has_keys:
        live.add("wompi")
    if payu is not None and payu.has_credentials:
        live.add("payu")
    return frozenset(live)


def check_routed_gateways(
    routing: RoutingTable, configured: frozenset[str], mode: str, *, default: str | None = None
) -> None:
    """Refuse a routing table naming a gateway that is not configured: a market routed to it
    would silently fall through to the next rule's gateway, or fail every checkout. ``default``:
    the mode's default table, when ``PAYMENTS_ROUTING`` is unset (the message says so)."""
    missing = routing.gateways() - configured
    if not missing:
        return
    # Known names are quoted to say what to configure; anything else may be a typo of a
    # secret pasted in the wrong variable, so it is only counted.
    known = sorted(missing & KNOWN_GATEWAYS)
    unknown = len(missing) - len(known)
    named = ", ".join(known + ([f"{unknown} unknown gateway name(s)"] if unknown else []))
    available = ", ".join(sorted(configured)) or "none"
    variable = "PAYMENTS_ROUTING"
    if default is not None:
        variable = f"PAYMENTS_ROUTING (unset, so {mode} mode's default '{default}')"
    raise ConfigurationError(
        f"{variable} names gateways that are not configured in {mode} mode: {named} "
        f"(configured: {available})."
    )


def _check_publishable_key(mode: str, key: str | None) -> None:
    """A publishable key goes to browsers: it must be one, and of the mode's kind."""
    if key is None:
        return
    if not key.startswith("pk_"):
        raise ConfigurationError(
            "PAYMENTS_STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_...): it is sent "
            "to payers' browsers."
        )
    if mode == "live" and key.startswith("pk_test_"):
        raise ConfigurationError(
            "Live mode refuses a Stripe test publishable key: set PAYMENTS_STRIPE_PUBLISHABLE_KEY "
            "to the live one (pk_live_...)."
        )
    if mode == "sandbox" and key.startswith("pk_live_"):
        raise ConfigurationError(
            "Sandbox mode refuses a live Stripe publishable key in PAYMENTS_STRIPE_PUBLISHABLE_KEY."
        )


def _check_database_url(url: str) -> None:
    """A URL the engine can use: SQLite or PostgreSQL (psycopg), well formed. The message never
    quotes the URL: it may hold a password."""
    try:
        parsed = make_url(url)
        _ = parsed.port  # a non-numeric port fails here
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is None or parsed.drivername not in _DATABASE_DRIVERS:
        raise ConfigurationError(
            "PAYMENTS_DATABASE_URL is malformed: use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user:password@host:5432/database."
        )


def _check_redis_url(url: str) -> None:
    """A ``redis://``, ``rediss://`` or ``unix://`` URL; the message never quotes it."""
    try:
        parse_redis_url(url)  # parses only: nothing connects until a command
    except ValueError:
        raise ConfigurationError(
            "PAYMENTS_REDIS_URL is malformed: use redis://host:6379/0 (or rediss://, unix://)."
        ) from None


def _nats(get: Callable[[str, str], str | None]) -> NatsSettings | None:
    """The relay's settings when ``PAYMENTS_NATS_URL`` is set; refusals never quote the URL."""
    url = get("NATS_URL", "")
    if not url:
        return None
    parts = urlsplit(url)
    try:
        _ = parts.port  # a non-numeric port fails here
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in _NATS_SCHEMES or not parts.hostname:
        raise ConfigurationError(
            "PAYMENTS_NATS_URL is malformed: use nats://host:4222 (or tls://host:4222)."
        )
    stream = get("NATS_STREAM", "PAYMENTS") or "PAYMENTS"
    if not _STREAM_NAME.fullmatch(stream):
        raise ConfigurationError(
            "PAYMENTS_NATS_STREAM must be a JetStream stream name: letters, digits, '-' and '_'."
        )
    prefix = get("NATS_SUBJECT_PREFIX", "payments") or "payments"
    if not _SUBJECT_PREFIX.fullmatch(prefix):
        raise ConfigurationError(
            "PAYMENTS_NATS_SUBJECT_PREFIX must be subject tokens (letters, digits, '-', '_') "
            "separated by dots, without wildcards: payments or acme.payments."
        )
    timeout = whole_number(get, "NATS_TIMEOUT_SECONDS", "5", "seconds")
    return NatsSettings(url, stream, prefix, timeout)


def webhook_secrets(text: str | None) -> tuple[str, ...]:
    """The comma-separated ``PAYMENTS_STRIPE_WEBHOOK_SECRET`` as secrets, each stripped (a space
    after a comma is not part of the secret), empty items dropped."""
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _invoicing(get: Callable[[str, str], str | None]) -> InvoicePolicy:
    """``PAYMENTS_INVOICE_SERIES`` and ``PAYMENTS_TAX_RATES``; refusals name the variable."""
    series = (get("INVOICE_SERIES", DEFAULT_SERIES) or DEFAULT_SERIES).upper()
    try:
        return InvoicePolicy(series, parse_tax_rates(get("TAX_RATES", "") or ""))
    except ConfigurationError as error:
        raise ConfigurationError(
            f"PAYMENTS_INVOICE_SERIES or PAYMENTS_TAX_RATES is malformed: {error}"
        ) from None


def _webhook_secrets_keys(text: str | None, mode: str) -> tuple[str, ...]:
    """``PAYMENTS_WEBHOOK_SECRETS_KEY``: Fernet keys (32 url-safe base64 bytes), comma-separated,
    the newest first; the documented sandbox key by default in sandbox mode only."""
    if text is None:
        return (SANDBOX_WEBHOOK_SECRETS_KEY,) if mode == "sandbox" else ()
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    for key in keys:
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise ConfigurationError(
                "PAYMENTS_WEBHOOK_SECRETS_KEY must hold Fernet keys (32 url-safe base64-encoded "
                "bytes each, comma-separated)."
            )
    if mode == "live" and SANDBOX_WEBHOOK_SECRETS_KEY in keys:
        raise ConfigurationError("Live mode refuses the sandbox PAYMENTS_WEBHOOK_SECRETS_KEY.")
    return keys


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


def _dunning(text: str) -> tuple[timedelta, ...]:
    """``PAYMENTS_DUNNING_SCHEDULE``: days after a subscription's first declined charge when it
    is tried again, rising (``1,3,5``); the last retry's decline cancels it."""
    try:
        days = [int(part) for part in text.split(",")]
    except ValueError:
        days = []
    if not days or len(days) > 10 or days[0] <= 0 or days != sorted(set(days)) or days[-1] > 60:
        raise ConfigurationError(
            "PAYMENTS_DUNNING_SCHEDULE must be 1 to 10 rising whole numbers of days, at most "
            "60, separated by commas (such as 1,3,5)."
        )
    return tuple(timedelta(days=d) for d in days)
