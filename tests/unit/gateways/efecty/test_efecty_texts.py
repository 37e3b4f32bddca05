"""What the payer reads (Colombian Spanish, by Babel), the settlement file's strict reading, and
Efecty's settings refused by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments.adapters.gateways.efecty import colombian_amount, payer_instructions
from payments.config import Settings
from payments.domain.cash_settlement import parse_settlement
from payments.domain.errors import ConfigurationError, ValidationError
from payments.domain.money import Money

HEADER = "code,amount,currency,receipt_number,paid_at\n"


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        ("50000", "$50.000"),
        ("50000.00", "$50.000"),
        ("6000000", "$6.000.000"),
        ("20000", "$20.000"),
        ("999", "$999"),
        ("50000.50", "$50.000,50"),
    ],
)
def test_amounts_are_written_as_colombians_write_them(amount: str, written: str) -> None:
    assert colombian_amount(Money(amount, "COP")) == written


def test_instructions_name_amount_code_and_deadline_in_colombian_time() -> None:
    text = payer_instructions(
        "EFY-48210937552106", Money("50000", "COP"), datetime(2026, 12, 9, 19, 0, tzinfo=UTC)
    )
    assert "Paga $50.000 COP en efectivo" in text
    assert "EFY-48210937552106" in text
    assert "9 de diciembre de 2026 a las 2:00" in text  # 19:00 UTC is 14:00 in Bogotá
    assert "hora de Colombia" in text


def test_a_settlement_file_is_read_row_by_row_with_line_numbers() -> None:
    rows = parse_settlement(
        "paid_at,code,amount,currency,receipt_number\r\n"
        "2026-12-06T10:30:00-05:00,efy-12345678901234,50000.00,cop,A 1\r\n"
        "\r\n"
        "2026-12-06T15:30:00+00:00,EFY-22345678901234,20000,COP,A-2\r\n"
    )
    assert [(row.line, row.code, row.receipt_number) for row in rows] == [
        (2, "EFY-12345678901234", "A 1"),
        (4, "EFY-22345678901234", "A-2"),
    ]
    assert rows[0].amount == Money("50000", "COP")
    assert rows[0].paid_at == datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
    assert rows[1].paid_at - rows[0].paid_at == timedelta(0)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "line 1"),
        ("code,amount\nEFY-1,2\n", "line 1"),
        (HEADER + "EFY-12345678901234,-5,COP,R,2026-12-06T10:30:00-05:00\n", "line 2"),
        (HEADER + "EFY-12345678901234,5e4,COP,R,2026-12-06T10:30:00-05:00\n", "line 2"),
        (HEADER + "EFY-12345678901234,50000,XXX,R,2026-12-06T10:30:00-05:00\n", "line 2"),
        (HEADER + "EFY-12345678901234,50000,COP,,2026-12-06T10:30:00-05:00\n", "line 2"),
        (HEADER + "EFY-12345678901234,50000,COP,R,2026-12-06T10:30:00\n", "line 2"),
        (HEADER + "EFY-12345678901234,50000,COP,R\n", "line 2"),
        (HEADER + "DROP TABLE;,50000,COP,R,2026-12-06T10:30:00-05:00\n", "line 2"),
        (HEADER + 'EFY-12345678901234,"50000,COP,R,2026-12-06\n', "line 2"),
        (HEADER + "EFY-1234\x00,50000,COP,R,2026-12-06T10:30:00-05:00\n", "line 2"),
    ],
)
def test_a_malformed_file_is_refused_whole_naming_the_line(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_settlement(text)
    assert refused.value.errors[0].field == field


def test_a_file_over_the_row_limit_is_refused() -> None:
    row = "EFY-12345678901234,50000,COP,R,2026-12-06T10:30:00-05:00\n"
    with pytest.raises(ValidationError, match="at most 10000 rows"):
        parse_settlement(HEADER + row * 10_001)


def test_efecty_settings_have_documented_defaults() -> None:
    efecty = Settings.from_env({}).efecty
    assert efecty.code_prefix == "EFY"
    assert efecty.expiry == timedelta(hours=72)
    assert (efecty.minimum, efecty.maximum) == (Money("20000", "COP"), Money("6000000", "COP"))
    assert (
        "efecty" in Settings.from_env({"PAYMENTS_ROUTING": "CO+cash: efecty; *: stripe"}).gateways
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PAYMENTS_EFECTY_EXPIRY_HOURS", "169"),
        ("PAYMENTS_EFECTY_EXPIRY_HOURS", "0"),
        ("PAYMENTS_EFECTY_EXPIRY_HOURS", "three days"),
        ("PAYMENTS_EFECTY_CODE_PREFIX", "efy"),
        ("PAYMENTS_EFECTY_CODE_PREFIX", "TOOLONG"),
        ("PAYMENTS_EFECTY_MIN_AMOUNT", "20000.50"),
        ("PAYMENTS_EFECTY_MAX_AMOUNT", "0"),
        ("PAYMENTS_EFECTY_MAX_AMOUNT", "1000"),
        ("PAYMENTS_EFECTY_ENABLED", "sometimes"),
    ],
)
def test_bad_efecty_settings_are_refused_in_one_line_naming_the_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({variable: value})
    message = refused.value.message
    assert variable in message
    assert "\n" not in message


def test_a_week_is_the_longest_validity() -> None:
    settings = Settings.from_env({"PAYMENTS_EFECTY_EXPIRY_HOURS": "168"})
    assert settings.efecty.expiry == timedelta(days=7)
