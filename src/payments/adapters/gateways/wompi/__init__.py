"""Wompi's pure translations: ``amount_in_cents``, integrity signature, event checksum, events.

No I/O here: the adapter that talks to Wompi (and the simulator) are built on these functions.
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
