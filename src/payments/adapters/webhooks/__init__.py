"""Merchant webhooks out: the signed sender over requests, where it may send, and sealed secrets."""

from __future__ import annotations

from payments.adapters.webhooks.destinations import any_http_destination, public_https_only
from payments.adapters.webhooks.secret_box import FernetSecretBox, NoSecretBox, secret_box_for
from payments.adapters.webhooks.sender import SIGNATURE_HEADER, RequestsWebhookSender

__all__ = [
    "SIGNATURE_HEADER",
    "FernetSecretBox",
    "NoSecretBox",
    "RequestsWebhookSender",
    "any_http_destination",
    "public_https_only",
    "secret_box_for",
]
