"""The settings of the providers configured by variables of their own (Wompi, PayU, Efecty):
what each holds and how it is read from ``PAYMENTS_*``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from payments.adapters.gateways.efecty import settings as efecty_settings
from payments.adapters.gateways.payu import settings as payu_settings
from payments.adapters.gateways.payu.params import Merchant
from payments.adapters.gateways.wompi import settings as wompi_settings
from payments.domain.errors import ConfigurationError, PaymentsError
from payments.domain.money import Money
from payments.setting_values import checked_base_url, flag, whole_number


@dataclass(frozen=True, slots=True)
class WompiSettings:
    """Wompi's keys (all four or none) and API base URL; ``None`` keys in sandbox mode: the
    built-in simulator stands in, with the documented sandbox keys."""

    public_key: str | None = None
    private_key: str | None = field(default=None, repr=False)
    integrity_secret: str | None = field(default=None, repr=False)
    events_secret: str | None = field(default=None, repr=False)
    base_url: str | None = None
    """Where the gateway calls Wompi when keys are set (``PAYMENTS_WOMPI_BASE_URL``)."""

    @property
    def has_keys(self) -> bool:
        return bool(self.public_key)


@dataclass(frozen=True, slots=True)
class PayUSettings:
    """PayU's credentials (all four or none), signature algorithm and API base URL; ``None``
    credentials in sandbox mode: the built-in simulator stands in, with PayU's documented test
    merchant."""

    merchant_id: str | None = None
    accounts: Mapping[str, str] = field(default_factory=dict)
    """PayU's account id per country (``PAYMENTS_PAYU_ACCOUNT_ID``)."""
    api_key: str | None = field(default=None, repr=False)
    api_login: str | None = field(default=None, repr=False)
    algorithm: payu_settings.SignatureAlgorithm = payu_settings.SignatureAlgorithm.MD5
    base_url: str | None = None
    """Where the gateway calls PayU when credentials are set (``PAYMENTS_PAYU_BASE_URL``)."""

    @property
    def has_credentials(self) -> bool:
        return bool(self.merchant_id)

    def merchant(self, *, test: bool) -> Merchant:
        """The credentials as every PayU command carries them (``test`` in sandbox mode)."""
        return Merchant(
            self.api_key or "",
            self.api_login or "",
            self.merchant_id or "",
            dict(self.accounts),
            self.algorithm,
            test,
        )


@dataclass(frozen=True, slots=True)
class EfectySettings:
    """Efecty's cash vouchers: whether they are taken (``PAYMENTS_EFECTY_ENABLED``; on by
    default in sandbox mode, off in live mode), code prefix, validity and the amounts they may
    be issued for."""

    enabled: bool = False
    code_prefix: str = efecty_settings.DEFAULT_CODE_PREFIX
    expiry: timedelta = timedelta(hours=efecty_settings.DEFAULT_EXPIRY_HOURS)
    minimum: Money = efecty_settings.DEFAULT_MINIMUM
    maximum: Money = efecty_settings.DEFAULT_MAXIMUM


def read_wompi(get: Callable[[str], str | None], mode: str) -> WompiSettings:
    """Wompi's settings (``check_wompi_keys`` refuses partial or wrong-environment keys); the
    base URL defaults to Wompi's sandbox in sandbox mode, production in live mode."""
    names = wompi_settings.SETTING_NAMES
    keys = {kind: get(variable.removeprefix("PAYMENTS_")) for kind, variable in names.items()}
    if not wompi_settings.check_wompi_keys(mode, keys):
        return WompiSettings()
    default = wompi_settings.BASE_URL if mode == "live" else wompi_settings.SANDBOX_BASE_URL
    base_url = checked_base_url(
        get("WOMPI_BASE_URL") or default,
        "PAYMENTS_WOMPI_BASE_URL",
        "https://sandbox.wompi.co/v1 (or the /sandbox/wompi/v1 of a running sandbox service)",
    )
    return WompiSettings(
        public_key=keys["public"],
        private_key=keys["private"],
        integrity_secret=keys["integrity"],
        events_secret=keys["events"],
        base_url=base_url,
    )


def read_payu(get: Callable[[str], str | None], mode: str) -> PayUSettings:
    """PayU's settings (``check_payu_credentials`` refuses partial or test credentials in live
    mode); the base URL defaults to PayU's test environment in sandbox mode, production in live
    mode."""
    values = {
        name: get(variable.removeprefix("PAYMENTS_"))
        for name, variable in payu_settings.SETTING_NAMES.items()
    }
    algorithm = payu_settings.signature_algorithm_from_setting(get("PAYU_SIGNATURE_ALGORITHM"))
    if not payu_settings.check_payu_credentials(mode, values):
        return PayUSettings(algorithm=algorithm)
    default = payu_settings.BASE_URL if mode == "live" else payu_settings.SANDBOX_BASE_URL
    base_url = checked_base_url(
        get("PAYU_BASE_URL") or default,
        "PAYMENTS_PAYU_BASE_URL",
        "https://sandbox.api.payulatam.com (or the /sandbox/payu of a running sandbox service)",
    )
    accounts = payu_settings.accounts_from_setting(values["account_id"] or "")
    credentials = (values["merchant_id"], accounts, values["api_key"], values["api_login"])
    return PayUSettings(*credentials, algorithm, base_url)


def read_efecty(get: Callable[[str, str], str | None], mode: str) -> EfectySettings:
    """Efecty's voucher settings; every refusal names its variable in one line."""
    defaults = EfectySettings()
    switch = get("EFECTY_ENABLED", "")
    enabled = flag(get, "EFECTY_ENABLED") if switch else mode == "sandbox"
    prefix = get("EFECTY_CODE_PREFIX", defaults.code_prefix) or defaults.code_prefix
    hours = whole_number(
        get, "EFECTY_EXPIRY_HOURS", str(efecty_settings.DEFAULT_EXPIRY_HOURS), "hours"
    )
    minimum = _cop(get, "EFECTY_MIN_AMOUNT", defaults.minimum)
    maximum = _cop(get, "EFECTY_MAX_AMOUNT", defaults.maximum)
    if maximum < minimum:
        raise ConfigurationError(
            "PAYMENTS_EFECTY_MAX_AMOUNT must not be below PAYMENTS_EFECTY_MIN_AMOUNT."
        )
    return EfectySettings(
        enabled=enabled,
        code_prefix=efecty_settings.check_code_prefix(prefix),
        expiry=efecty_settings.check_expiry_hours(hours),
        minimum=minimum,
        maximum=maximum,
    )


def _cop(get: Callable[[str, str], str | None], name: str, default: Money) -> Money:
    """A positive whole number of Colombian pesos from ``PAYMENTS_<name>``."""
    value = get(name, "") or ""
    if not value:
        return default
    try:
        amount = Money(value, "COP") if value.isascii() and value.isdigit() else None
    except PaymentsError:
        amount = None
    if amount is None or not amount.is_positive:
        raise ConfigurationError(f"PAYMENTS_{name} must be a positive whole number of pesos.")
    return amount
