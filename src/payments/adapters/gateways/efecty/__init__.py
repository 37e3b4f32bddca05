"""Efecty (Colombian cash vouchers): ``EfectyGateway`` and its pure parts (codes, barcodes with
a GS1 check digit, the payer's instructions). See decision record 0027."""

from payments.adapters.gateways.efecty.codes import (
    barcode_data,
    gs1_check_digit,
    has_valid_check_digit,
    new_code,
)
from payments.adapters.gateways.efecty.gateway import EfectyGateway
from payments.adapters.gateways.efecty.instructions import colombian_amount, payer_instructions
from payments.adapters.gateways.efecty.settings import GATEWAY_NAME

__all__ = [
    "GATEWAY_NAME",
    "EfectyGateway",
    "barcode_data",
    "colombian_amount",
    "gs1_check_digit",
    "has_valid_check_digit",
    "new_code",
    "payer_instructions",
]
