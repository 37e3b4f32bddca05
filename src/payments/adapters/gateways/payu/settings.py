"""PayU Latam's names, endpoints, documented sandbox credentials and signature-algorithm values."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from payments.domain.errors import ConfigurationError

__all__ = [
    "ACCEPTED_CURRENCIES",
    "BASE_URL",
    "CONFIRMATION_CONTENT_TYPE",
    "EFECTY_MAXIMUM_COP",
    "EFECTY_MINIMUM_COP",
    "GATEWAY_NAME",
    "PAYMENTS_API_URL",
    "QUERIES_API_URL",
    "SANDBOX_ACCOUNT_IDS",
    "SANDBOX_API_KEY",
    "SANDBOX_API_LOGIN",
    "SANDBOX_BASE_URL",
    "SANDBOX_CARDHOLDER_OUTCOMES",
    "SANDBOX_MANUAL_REVIEW_EMAIL",
    "SANDBOX_MERCHANT_ID",
    "SANDBOX_PAYMENTS_API_URL",
    "SANDBOX_QUERIES_API_URL",
    "SANDBOX_TEST_CARDS_CO",
    "SETTING_NAMES",
    "SIGNATURE_ALGORITHM_SETTING",
    "SignatureAlgorithm",
    "accounts_from_setting",
    "check_payu_credentials",
    "signature_algorithm_from_setting",
]

GATEWAY_NAME: Final = "payu"

# -- endpoints (reference §2.1) -------------------------------------------------------------------
PAYMENTS_API_URL: Final = "https://api.payulatam.com/payments-api/4.0/service.cgi"
SANDBOX_PAYMENTS_API_URL: Final = "https://sandbox.api.payulatam.com/payments-api/4.0/service.cgi"
QUERIES_API_URL: Final = "https://api.payulatam.com/reports-api/4.0/service.cgi"
SANDBOX_QUERIES_API_URL: Final = "https://sandbox.api.payulatam.com/reports-api/4.0/service.cgi"

CONFIRMATION_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
"""How PayU posts the confirmation page (reference §2.6); a JSON body is UNCONFIRMED."""

ACCEPTED_CURRENCIES: Final = frozenset({"ARS", "BRL", "CLP", "COP", "MXN", "PEN", "USD"})
"""The currencies PayU takes (reference §2.3, [PAYU-CODES])."""


# -- the request signature's algorithm (reference §2.5a) ------------------------------------------
class SignatureAlgorithm(StrEnum):
    """The values of ``PAYMENTS_PAYU_SIGNATURE_ALGORITHM``, as PayU names them.

    PayU also documents SHA1 (``SHA`` in the form's ``algorithmSignature``) and HMAC-SHA256
    (reference §2.5a); we offer only the two the issue asks for.
    """

    MD5 = "MD5"
    SHA256 = "SHA256"

    @property
    def hashlib_name(self) -> str:
        """The name ``hashlib`` knows the algorithm by."""
        return self.value.lower()


SIGNATURE_ALGORITHM_SETTING: Final = "PAYMENTS_PAYU_SIGNATURE_ALGORITHM"


def signature_algorithm_from_setting(value: str | None) -> SignatureAlgorithm:
    """The algorithm a setting names (``MD5`` or ``SHA256``, any case; unset means MD5, the one
    every docs example uses). ``ConfigurationError`` naming the variable for anything else."""
    if value is None or not value.strip():
        return SignatureAlgorithm.MD5
    try:
        return SignatureAlgorithm(value.strip().upper())
    except ValueError as error:
        raise ConfigurationError(f"{SIGNATURE_ALGORITHM_SETTING} must be MD5 or SHA256.") from error


# -- the public sandbox merchant of the docs (reference §2.2) -------------------------------------
SANDBOX_MERCHANT_ID: Final = "508029"
SANDBOX_API_KEY: Final = "4Vj8eK4rloUd272L48hsrarnUA"
SANDBOX_API_LOGIN: Final = "pRRXKOl8ikMmt9u"
SANDBOX_ACCOUNT_IDS: Final[Mapping[str, str]] = {
    # Only CO 512321 appears in PayU's own examples; the others come from third-party code and
    # are UNCONFIRMED from PayU directly (reference §2.2).
    "AR": "512322",
    "BR": "512327",
    "CL": "512325",
    "CO": "512321",
    "MX": "512324",
    "PA": "512326",
    "PE": "512323",
}

SANDBOX_TEST_CARDS_CO: Final[Mapping[str, tuple[str, ...]]] = {
    "VISA": ("4097440000000004", "4037997623271984", "4111111111111111"),
    "MASTERCARD": ("5471300000000003", "5120697176068275"),
    "AMEX": ("377813000000001",),
    "DINERS": ("36032400000007",),
    "CODENSA": ("5907120000000009",),
    "VISA_DEBIT": ("4509420000000008",),
}
"""Colombian test cards of [PAYU-TEST] (reference §2.2)."""

SANDBOX_CARDHOLDER_OUTCOMES: Final[Mapping[str, tuple[str, str]]] = {
    "APPROVED": ("APPROVED", "777"),
    "REJECTED": ("DECLINED", "666"),
    "PENDING": ("PENDING", "777"),
}
"""Cardholder name -> (transaction state, CVV) in the sandbox (reference §2.2, §6). Approved
also needs an expiry month before 6; declined one after 6; pending needs ``test=true`` and the
buyer and payer e-mail ``SANDBOX_MANUAL_REVIEW_EMAIL``. AMEX CVVs are 4 digits (7777)."""

SANDBOX_MANUAL_REVIEW_EMAIL: Final = "manual-review-hub@email.com"

# -- Efecty through PayU (reference §4.1) ---------------------------------------------------------
EFECTY_MINIMUM_COP: Final = 20_000
EFECTY_MAXIMUM_COP: Final = 6_000_000
"""PayU's EFECTY limits, whole pesos: "Min: $20.000 COP - Max: $6.000.000 COP"."""


# -- our settings (docs/configuration.md) ---------------------------------------------------------
BASE_URL: Final = "https://api.payulatam.com"
SANDBOX_BASE_URL: Final = "https://sandbox.api.payulatam.com"
"""Where both APIs live (``/payments-api/...`` and ``/reports-api/...``, reference §2.1)."""

SETTING_NAMES: Final[Mapping[str, str]] = {
    name: f"PAYMENTS_PAYU_{name.upper()}"
    for name in ("merchant_id", "account_id", "api_key", "api_login")
}
"""Per credential, the setting that holds it: all four or none."""

_TEST_VALUES: Final[Mapping[str, str]] = {
    "merchant_id": SANDBOX_MERCHANT_ID,
    "api_key": SANDBOX_API_KEY,
    "api_login": SANDBOX_API_LOGIN,
}


def accounts_from_setting(text: str) -> dict[str, str]:
    """``PAYMENTS_PAYU_ACCOUNT_ID``: one account id (Colombia's) or ``CO:512321, MX:512324``,
    a PayU account per country; ``ConfigurationError`` naming the variable otherwise."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) == 1 and parts[0].isdigit():
        return {"CO": parts[0]}
    accounts: dict[str, str] = {}
    for part in parts:
        country, _, account = (piece.strip() for piece in part.partition(":"))
        if not (len(country) == 2 and country.isalpha() and account.isdigit()):
            raise ConfigurationError(
                f"{SETTING_NAMES['account_id']} must be an account id, or country:id pairs "
                "such as CO:512321, MX:512324."
            )
        accounts[country.upper()] = account
    return accounts


def check_payu_credentials(mode: str, values: Mapping[str, str | None]) -> bool:
    """Whether ``values`` (by name, as ``SETTING_NAMES``) configure PayU; ``ConfigurationError``,
    naming the setting and never its value, for credentials that must not start the service:
    some but not all four, or in live mode the public test merchant of PayU's docs."""
    if not any(values.get(name) for name in SETTING_NAMES):
        return False
    for name, variable in SETTING_NAMES.items():
        if not values.get(name):
            raise ConfigurationError(
                f"PayU needs all four credentials: set {variable} too (or none of them)."
            )
    if mode == "live":
        for name, test_value in _TEST_VALUES.items():
            if values.get(name) == test_value:
                raise ConfigurationError(
                    f"Live mode refuses PayU's public test credentials in {SETTING_NAMES[name]}."
                )
    return True
