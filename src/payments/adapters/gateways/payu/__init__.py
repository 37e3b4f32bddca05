"""PayU Latam's pure translations: amount text, signatures, confirmation page and refusals.

``PayUGateway`` (``gateway``) talks to PayU over ``requests`` with the command bodies of
``params`` and reads its answers with ``answers``; everything else here is pure, and the
simulator is built on the same functions.
The three signature strings are in ``signatures`` (request, confirmation page, response page);
the confirmation page's form body becomes a ``Notification`` in ``events``.
"""

from payments.adapters.gateways.payu.amounts import (
    from_payu_value,
    payu_amount_steps,
    to_payu_amount,
)
from payments.adapters.gateways.payu.errors import error_for_answer
from payments.adapters.gateways.payu.events import (
    confirmation_event_id,
    confirmation_fields,
    notification_from_body,
    notification_from_confirmation,
    outcome_from_state_pol,
    outcome_from_transaction_state,
    verified_notification,
)
from payments.adapters.gateways.payu.gateway import PayUGateway
from payments.adapters.gateways.payu.params import Merchant
from payments.adapters.gateways.payu.settings import (
    GATEWAY_NAME,
    SignatureAlgorithm,
    signature_algorithm_from_setting,
)
from payments.adapters.gateways.payu.signatures import (
    confirmation_new_value,
    confirmation_signature,
    request_signature,
    response_page_new_value,
    response_page_signature,
    verify_confirmation_signature,
)

__all__ = [
    "GATEWAY_NAME",
    "Merchant",
    "PayUGateway",
    "SignatureAlgorithm",
    "confirmation_event_id",
    "confirmation_fields",
    "confirmation_new_value",
    "confirmation_signature",
    "error_for_answer",
    "from_payu_value",
    "notification_from_body",
    "notification_from_confirmation",
    "outcome_from_state_pol",
    "outcome_from_transaction_state",
    "payu_amount_steps",
    "request_signature",
    "response_page_new_value",
    "response_page_signature",
    "signature_algorithm_from_setting",
    "to_payu_amount",
    "verified_notification",
    "verify_confirmation_signature",
]
