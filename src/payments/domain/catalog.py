"""The catalog: packages of credits and subscription plans, with the prices we charge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from payments.domain.errors import FieldError, ValidationError
from payments.domain.money import Money


class ProductKind(StrEnum):
    PACKAGE = "package"
    PLAN = "plan"


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "yearly": 12}[self.value]


MAX_VALIDITY_DAYS = 3650
MAX_TRIAL_DAYS = 365
MAX_PRICE = Decimal("999999999999")  # well inside NUMERIC(20, 6), whatever the currency


@dataclass(frozen=True, slots=True)
class Product:
    """Something we sell. The amount charged for a purchase always comes from ``price``."""

    id: str
    name: str
    kind: ProductKind
    price: Money
    credits: Decimal
    validity_days: int | None
    billing_cycle: BillingCycle | None
    trial_days: int
    active: bool
    created_at: datetime

    @classmethod
    def create(
        cls,
        *,
        id: str,
        name: str,
        kind: ProductKind | str,
        price: Money,
        credits: Decimal | int | str,
        created_at: datetime,
        validity_days: int | None = None,
        billing_cycle: BillingCycle | str | None = None,
        trial_days: int = 0,
        active: bool = True,
    ) -> Product:
        """Validate every field and build a product; ``ValidationError`` names each bad field."""
        errors: list[FieldError] = []
        clean_name = name.strip() if isinstance(name, str) else ""
        if not clean_name or len(clean_name) > 200:
            errors.append(FieldError("name", "must be 1 to 200 characters"))
        try:
            product_kind = ProductKind(kind)
        except ValueError:
            errors.append(FieldError("kind", "must be 'package' or 'plan'"))
            product_kind = ProductKind.PACKAGE
        _check_price(price, errors)
        for name_, days in (("validity_days", validity_days), ("trial_days", trial_days)):
            if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
                errors.append(FieldError(name_, "must be a whole number of days"))
        if any(e.field in ("validity_days", "trial_days") for e in errors):
            raise ValidationError("The product is invalid.", errors=errors)
        credit_amount = _parse_credits(credits, errors)
        cycle = _check_terms(product_kind, validity_days, billing_cycle, errors)
        if not 0 <= trial_days <= MAX_TRIAL_DAYS:
            errors.append(FieldError("trial_days", f"must be 0 to {MAX_TRIAL_DAYS}"))
        if errors:
            raise ValidationError("The product is invalid.", errors=errors)
        return cls(
            id=id,
            name=clean_name,
            kind=product_kind,
            price=price,
            credits=credit_amount,
            validity_days=validity_days,
            billing_cycle=cycle,
            trial_days=trial_days,
            active=active,
            created_at=created_at,
        )


def _check_price(price: object, errors: list[FieldError]) -> None:
    if not isinstance(price, Money):
        errors.append(FieldError("price", "must be money: an amount and a currency"))
    elif not price.is_positive or not price.is_exact:
        errors.append(FieldError("price", "must be positive with at most the currency's decimals"))
    elif price.amount > MAX_PRICE:
        errors.append(FieldError("price", f"must be at most {MAX_PRICE}"))


def _check_terms(
    kind: ProductKind,
    validity_days: int | None,
    billing_cycle: BillingCycle | str | None,
    errors: list[FieldError],
) -> BillingCycle | None:
    """A package's validity (and no cycle), or a plan's billing cycle; returns the cycle."""
    if kind is ProductKind.PACKAGE:
        if validity_days is None or not 1 <= validity_days <= MAX_VALIDITY_DAYS:
            errors.append(
                FieldError("validity_days", f"a package needs 1 to {MAX_VALIDITY_DAYS} days")
            )
        if billing_cycle is not None:
            errors.append(FieldError("billing_cycle", "only plans have a billing cycle"))
        return None
    cycle: BillingCycle | None = None
    try:
        cycle = BillingCycle(billing_cycle or "")
    except ValueError:
        errors.append(
            FieldError("billing_cycle", "a plan needs 'monthly', 'quarterly' or 'yearly'")
        )
    if validity_days is not None and not 1 <= validity_days <= MAX_VALIDITY_DAYS:
        errors.append(FieldError("validity_days", f"must be 1 to {MAX_VALIDITY_DAYS}"))
    return cycle


def _parse_credits(value: Decimal | int | str, errors: list[FieldError]) -> Decimal:
    if isinstance(value, (bool, float)):
        errors.append(FieldError("credits", 'must be a decimal string such as "8"'))
        return Decimal(0)
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        errors.append(FieldError("credits", 'must be a decimal string such as "8"'))
        return Decimal(0)
    if not amount.is_finite() or amount < 0 or amount > Decimal("1000000"):
        errors.append(FieldError("credits", "must be between 0 and 1000000"))
        return Decimal(0)
    if amount != amount.quantize(Decimal("0.01")):
        errors.append(FieldError("credits", "at most two decimals"))
    return amount
