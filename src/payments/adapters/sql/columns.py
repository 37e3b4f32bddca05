"""The schema's building blocks: the metadata and its naming convention, exact amount and UTC
time column types, and the column groups every table repeats (ids, money, timestamps).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Numeric(20, 6): 14 integer digits and 6 decimals, enough for any ISO 4217 exponent (at most 4).
AMOUNT_PRECISION = 20
AMOUNT_SCALE = 6
# SQLite keeps a NUMERIC value as a REAL, which holds 15 significant digits exactly and no more.
SQLITE_EXACT_DIGITS = 15
_AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_PRECISION - AMOUNT_SCALE)
_AMOUNT_QUANTUM = Decimal(1).scaleb(-AMOUNT_SCALE)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend; naive datetimes are refused.

    PostgreSQL stores ``timestamptz``; SQLite stores the UTC wall time as text, and the UTC zone
    is put back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"Refusing to store a naive datetime: {value!r}.")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def bind_processor(self, dialect: Dialect) -> Any:
        """``process_bind_param`` with no wrapper where the driver takes the aware datetime as
        it is (PostgreSQL): a UTC datetime, the usual value, is sent at once (``astimezone``
        would return it unchanged)."""
        general = super().bind_processor(dialect)
        if dialect.name == "sqlite" or self.impl_instance.bind_processor(dialect) is not None:
            return general
        full = cast(Any, general)

        def process(value: datetime | None) -> datetime | None:
            if value is None or value.tzinfo is UTC:
                return value
            return cast(datetime | None, full(value))

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _SqliteNumeric(UserDefinedType[Any]):
    """NUMERIC(20, 6) on SQLite without SQLAlchemy's float conversions (ExactDecimal does them)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return f"NUMERIC({AMOUNT_PRECISION}, {AMOUNT_SCALE})"


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as NUMERIC(20, 6), never through a Python float.

    A value that the column cannot hold exactly (more than 6 decimals, 14 integer digits, or on
    SQLite more than 15 significant digits) is refused instead of being rounded silently.
    """

    impl = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteNumeric())
        return dialect.type_descriptor(Numeric(AMOUNT_PRECISION, AMOUNT_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"An amount is stored from a finite Decimal, not {value!r}.")
        if abs(value) >= _AMOUNT_LIMIT or value != value.quantize(_AMOUNT_QUANTUM):
            raise ValueError(f"{value} does not fit NUMERIC(20, 6) exactly.")
        if dialect.name == "sqlite":
            plain = value.normalize() if value else Decimal(0)
            if len(plain.as_tuple().digits) > SQLITE_EXACT_DIGITS:
                raise ValueError(f"{value} has more digits than SQLite stores exactly.")
            # Text, so that SQLite parses the exact decimal itself (NUMERIC affinity).
            return format(plain, "f")
        return value

    def bind_processor(self, dialect: Dialect) -> Any:
        """``process_bind_param`` with no wrapper where the driver takes the Decimal as it is
        (PostgreSQL): the same checks, made inline."""
        general = super().bind_processor(dialect)
        if dialect.name == "sqlite" or self.impl_instance.bind_processor(dialect) is not None:
            return general
        full = cast(Any, general)

        def process(value: Decimal | None) -> Decimal | None:
            if (
                value.__class__ is Decimal
                and value.is_finite()
                and -_AMOUNT_LIMIT < value < _AMOUNT_LIMIT
                and value == value.quantize(_AMOUNT_QUANTUM)
            ):
                return value
            return cast(Decimal | None, full(value))  # None, or the error the value gets

        return process

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            # repr() is the shortest text that reads back as this double: the decimal we stored.
            return Decimal(repr(value))
        return Decimal(str(value))


def id_column(name: str = "id", *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(64), *args, **kw)


def time_column(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


def amount_column(name: str = "amount", nullable: bool = False) -> Column[Decimal]:
    return Column(name, ExactDecimal(), nullable=nullable)


def money_columns(amount: str = "amount") -> tuple[Column[Decimal], Column[str]]:
    """An amount and its ISO 4217 currency code, side by side."""
    return amount_column(amount), Column("currency", String(3), nullable=False)


def at_gateway(*, nullable: bool) -> tuple[Column[str], Column[str]]:
    """The gateway that holds a payment or refund, and its id there (unknown until it answers)."""
    return (
        Column("gateway", String(32), nullable=nullable),
        Column("gateway_reference", String(255), nullable=True),
    )


def timestamps() -> tuple[Column[datetime], Column[datetime]]:
    """When a row was created and last changed."""
    return time_column("created_at"), time_column("updated_at")


def entity(name: str, *items: SchemaItem) -> Table:
    """The table of an entity that our string id (``pur_...``, ``cus_...``) keys."""
    return Table(name, metadata, id_column(primary_key=True), *items)


def serial() -> Column[int]:
    # BIGINT identity on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    return Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
