"""Billing periods by calendar months, and ISO 8601 durations for the sandbox test clock."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from payments.domain.errors import FieldError, ValidationError

__all__ = ["add_months", "parse_duration", "period_bounds"]


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by whole calendar ``months``, the day clamped to the target month's end
    (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year); the time of day is kept."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def period_bounds(
    anchor: datetime, months_per_period: int, index: int
) -> tuple[datetime, datetime]:
    """The start and end of paid period ``index`` (0 is the first) of a subscription whose first
    period starts at ``anchor``.

    Every boundary is counted from the anchor, never from the previous boundary: a subscription
    anchored on Jan 31 renews on Feb 28 (29), then Mar 31, Apr 30, ... and never drifts to the
    28th.
    """
    if index < 0:
        raise ValueError("A period index is 0 or more.")
    return (
        add_months(anchor, months_per_period * index),
        add_months(anchor, months_per_period * (index + 1)),
    )


_DURATION = re.compile(
    r"P(?:(?P<weeks>\d{1,4})W)?(?:(?P<days>\d{1,5})D)?"
    r"(?:T(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,8})M)?(?:(?P<seconds>\d{1,9})S)?)?"
)
MAX_ADVANCE = timedelta(days=3660)


def parse_duration(text: str, field: str = "advance") -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (``P15D``, ``PT36H``,
    ``P1DT12H``, ``P2W``). Years and months are refused: their length depends on where they
    start, so say the days. ``ValidationError`` names ``field`` for anything else."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None or not any(match.groupdict().values()) or text.endswith("T"):
        raise ValidationError(
            "The duration is invalid.",
            errors=[
                FieldError(field, "must be an ISO 8601 duration of W, D, H, M, S such as 'P15D'")
            ],
        )
    parts = {name: int(value or 0) for name, value in match.groupdict().items()}
    duration = timedelta(**parts)
    if duration > MAX_ADVANCE:
        raise ValidationError(
            "The duration is too long.",
            errors=[FieldError(field, "must be at most 3660 days")],
        )
    return duration
