"""Wompi (Colombia): ``WompiGateway`` and its pure translations (amounts, signatures, events).

Only ``gateway`` does I/O; the simulator in ``payments.sandbox`` is built on the same functions.
"""

from payments.adapters.gateways.wompi.amounts import (
    from_amount_in_cents,
    to_amount_in_cents,
    wompi_amount_steps,
)
from payments.adapters.gateways.wompi.errors import error_for_status
from payments.adapters.gateways.wompi.events import (
    event_from_body,
    notification_from_body,
    notification_from_event,
    observation_from_transaction,
    outcome_from_status,
    verified_notification,
)
from payments.adapters.gateways.wompi.gateway import WompiGateway
from payments.adapters.gateways.wompi.settings import (
    CHECKSUM_HEADER,
    GATEWAY_NAME,
    environment_of_key,
)
from payments.adapters.gateways.wompi.signatures import (
    event_checksum,
    integrity_signature,
    verify_event_checksum,
)

__all__ = [
    "CHECKSUM_HEADER",
    "GATEWAY_NAME",
    "WompiGateway",
    "environment_of_key",
    "error_for_status",
    "event_checksum",
    "event_from_body",
    "from_amount_in_cents",
    "integrity_signature",
    "notification_from_body",
    "notification_from_event",
    "observation_from_transaction",
    "outcome_from_status",
    "to_amount_in_cents",
    "verified_notification",
    "verify_event_checksum",
    "wompi_amount_steps",
]
