"""Signing secrets sealed with Fernet (AES-128-CBC and HMAC-SHA256), several keys for rotation."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from payments.domain.errors import ConfigurationError
from payments.domain.webhook_ports import SecretBox


class FernetSecretBox(SecretBox):
    """Seals with the first key, opens with any (``PAYMENTS_WEBHOOK_SECRETS_KEY``: the new key
    first while rotating)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str) or not keys:
            raise ConfigurationError("Sealing webhook secrets needs at least one key.")
        try:
            self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])
        except (ValueError, UnicodeEncodeError) as error:
            raise ConfigurationError(
                "PAYMENTS_WEBHOOK_SECRETS_KEY holds a key that is not a Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from error

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as error:
            raise ConfigurationError(
                "A webhook endpoint's secret cannot be opened with the configured "
                "PAYMENTS_WEBHOOK_SECRETS_KEY (was the old key removed too early?)."
            ) from error


class NoSecretBox(SecretBox):
    """Live mode without ``PAYMENTS_WEBHOOK_SECRETS_KEY``: no secret can be sealed or opened,
    so no webhook endpoint can be created (the rest of the service runs)."""

    def seal(self, secret: str) -> str:
        raise ConfigurationError(_NO_KEY)

    def open(self, sealed: str) -> str:
        raise ConfigurationError(_NO_KEY)


_NO_KEY = "Set PAYMENTS_WEBHOOK_SECRETS_KEY (a Fernet key) to use merchant webhooks in live mode."


def secret_box_for(keys: Sequence[str]) -> SecretBox:
    """A Fernet box on ``keys``, or the box that refuses everything when there are none."""
    return FernetSecretBox(keys) if keys else NoSecretBox()
