"""How values read on a page: dates and times in the viewer's time zone, enum values in words."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment


def local_datetime(value: datetime | None, zone: str) -> str:
    """`Tue 3 Mar 2027, 10:00` in `zone`; empty for no value. A naive value (SQLite gives those
    back) is UTC, as everything CalSync stores is."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def long_date(value: date | None) -> str:
    """`Tue 3 Mar 2027`."""
    if value is None:
        return ""
    return f"{value:%a} {value.day} {value:%b %Y}"


def register_filters(env: Environment) -> None:
    """Make the formatters available to every template."""
    env.filters["local_datetime"] = local_datetime
    env.filters["long_date"] = long_date
