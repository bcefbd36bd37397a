"""Dates on web pages as their readers read them.

Thai staff read Thai month names and Buddhist-era years (``5 ธ.ค. 2569 19:25``),
English readers ``5 Dec 2026 19:25``; both in the organisation's time zone.
Babel knows the month names but counts years only in the Gregorian era, so the
Buddhist era (the Gregorian year + 543) is added here. Exports keep real Excel
dates and ISO text: this is for pages only.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date

BUDDHIST_ERA_OFFSET = 543


def shown_time(value: datetime | None, language: str, time_zone: str, with_seconds: bool = False) -> str:
    """``value`` as a person reading ``language`` in ``time_zone`` reads it; empty for no value."""
    if value is None:
        return ""
    local = value.astimezone(_zone(time_zone))
    day_and_month = format_date(local, "d MMM", locale=language)
    year = local.year + BUDDHIST_ERA_OFFSET if language == "th" else local.year
    clock = local.strftime("%H:%M:%S" if with_seconds else "%H:%M")
    return f"{day_and_month} {year} {clock}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
