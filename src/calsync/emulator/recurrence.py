"""Graph's patternedRecurrence: validation as strict as Graph, expansion through dateutil's rrule.

Patterns map onto RFC 5545 rules (GRAPH.md §1.2):
daily → DAILY; weekly → WEEKLY with BYDAY and WKST; absoluteMonthly → MONTHLY BYMONTHDAY;
relativeMonthly → MONTHLY BYDAY BYSETPOS (so "first of several days" picks the first day that fits);
absoluteYearly → YEARLY BYMONTH BYMONTHDAY; relativeYearly → YEARLY BYMONTH BYDAY BYSETPOS.
EMULATOR CHOICE: a dayOfMonth a month lacks (31 in April) skips that month, as RFC 5545 does.
Expansion works on wall-clock times in the series' zone, so DST shifts keep the local time fixed.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from dateutil import rrule

from calsync.emulator.errors import invalid_request
from calsync.emulator.timezones import resolve_zone

PATTERN_TYPES = (
    "daily",
    "weekly",
    "absoluteMonthly",
    "relativeMonthly",
    "absoluteYearly",
    "relativeYearly",
)
RANGE_TYPES = ("endDate", "noEnd", "numbered")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
INDEXES = ("first", "second", "third", "fourth", "last")
_RRULE_DAYS = {
    "sunday": rrule.SU,
    "monday": rrule.MO,
    "tuesday": rrule.TU,
    "wednesday": rrule.WE,
    "thursday": rrule.TH,
    "friday": rrule.FR,
    "saturday": rrule.SA,
}
_SETPOS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_FREQ = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "absoluteMonthly": rrule.MONTHLY,
    "relativeMonthly": rrule.MONTHLY,
    "absoluteYearly": rrule.YEARLY,
    "relativeYearly": rrule.YEARLY,
}
_NEEDS_DAYS = ("weekly", "relativeMonthly", "relativeYearly")
_NEEDS_DAY_OF_MONTH = ("absoluteMonthly", "absoluteYearly")
_NEEDS_MONTH = ("absoluteYearly", "relativeYearly")
_NULL_DATE = "0001-01-01"


def _int_field(obj: dict[str, Any], name: str, path: str, low: int, high: int) -> int:
    value = obj.get(name, 0)
    if value is None:
        value = 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request(f"{path}.{name} must be an integer.")
    if value != 0 and not low <= value <= high:
        raise invalid_request(f"{path}.{name} must be between {low} and {high}, got {value}.")
    return value


def _enum_field(obj: dict[str, Any], name: str, path: str, allowed: tuple[str, ...]) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_request(f"{path}.{name} must be a string.")
    for option in allowed:
        if option.lower() == value.lower():
            return option
    raise invalid_request(f"{path}.{name} {value!r} is not one of {', '.join(allowed)}.")


def _date_field(obj: dict[str, Any], name: str, path: str) -> date | None:
    value = obj.get(name)
    if value is None or value == _NULL_DATE:
        return None
    if not isinstance(value, str):
        raise invalid_request(f"{path}.{name} must be a date such as 2024-05-01.")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise invalid_request(f"{path}.{name} {value!r} is not a date such as 2024-05-01.") from exc


def normalize_recurrence(value: Any, start_date: date) -> dict[str, Any]:
    """Check a patternedRecurrence against the event's start date; return Graph's full form."""
    if not isinstance(value, dict):
        raise invalid_request("recurrence must be an object with pattern and range.")
    pattern, rng = value.get("pattern"), value.get("range")
    if not isinstance(pattern, dict):
        raise invalid_request("recurrence.pattern is required.")
    if not isinstance(rng, dict):
        raise invalid_request("recurrence.range is required.")
    p = "recurrence.pattern"
    kind = _enum_field(pattern, "type", p, PATTERN_TYPES)
    if kind is None:
        raise invalid_request(f"{p}.type is required.")
    interval = _int_field(pattern, "interval", p, 1, 999)
    if interval == 0:
        raise invalid_request(f"{p}.interval is required and must be at least 1.")
    month = _int_field(pattern, "month", p, 1, 12)
    day_of_month = _int_field(pattern, "dayOfMonth", p, 1, 31)
    raw_days = pattern.get("daysOfWeek") or []
    if not isinstance(raw_days, list):
        raise invalid_request(f"{p}.daysOfWeek must be a list of day names.")
    days = [_enum_field({"day": d}, "day", f"{p}.daysOfWeek", WEEKDAYS) for d in raw_days]
    first_day = _enum_field(pattern, "firstDayOfWeek", p, WEEKDAYS) or "sunday"
    index = _enum_field(pattern, "index", p, INDEXES) or "first"
    if kind in _NEEDS_DAYS and not days:
        raise invalid_request(f"{p}.daysOfWeek is required for a {kind} pattern.")
    if kind in _NEEDS_DAY_OF_MONTH and day_of_month == 0:
        raise invalid_request(f"{p}.dayOfMonth is required for a {kind} pattern.")
    if kind in _NEEDS_MONTH and month == 0:
        raise invalid_request(f"{p}.month is required for a {kind} pattern.")

    r = "recurrence.range"
    range_type = _enum_field(rng, "type", r, RANGE_TYPES)
    if range_type is None:
        raise invalid_request(f"{r}.type is required.")
    range_start = _date_field(rng, "startDate", r)
    if range_start is None:
        raise invalid_request(f"{r}.startDate is required.")
    if range_start != start_date:
        raise invalid_request(
            f"{r}.startDate {range_start.isoformat()} must equal the date of start "
            f"({start_date.isoformat()})."
        )
    end_date = _date_field(rng, "endDate", r)
    count = _int_field(rng, "numberOfOccurrences", r, 1, 999)
    if range_type == "endDate":
        if end_date is None:
            raise invalid_request(f"{r}.endDate is required for an endDate range.")
        if end_date < range_start:
            raise invalid_request(f"{r}.endDate must not be before startDate.")
    if range_type == "numbered" and count <= 0:
        raise invalid_request(
            f"{r}.numberOfOccurrences must be greater than 0 for a numbered range."
        )
    zone = rng.get("recurrenceTimeZone")
    if zone is not None:
        if not isinstance(zone, str):
            raise invalid_request(f"{r}.recurrenceTimeZone must be a time zone name.")
        resolve_zone(zone)
    return {
        "pattern": {
            "type": kind,
            "interval": interval,
            "month": month,
            "dayOfMonth": day_of_month,
            "daysOfWeek": [d for d in days if d is not None],
            "firstDayOfWeek": first_day,
            "index": index,
        },
        "range": {
            "type": range_type,
            "startDate": range_start.isoformat(),
            "endDate": end_date.isoformat() if range_type == "endDate" and end_date else _NULL_DATE,
            "recurrenceTimeZone": zone,
            "numberOfOccurrences": count if range_type == "numbered" else 0,
        },
    }


def build_rule(recurrence: dict[str, Any], first_start: datetime) -> rrule.rrule:
    """The rrule behind a normalized recurrence; `first_start` is the naive wall-clock start."""
    pattern, rng = recurrence["pattern"], recurrence["range"]
    kind = pattern["type"]
    options: dict[str, Any] = {"dtstart": first_start, "interval": pattern["interval"]}
    days = [_RRULE_DAYS[d] for d in pattern["daysOfWeek"]]
    if kind == "weekly":
        options["byweekday"] = days
        options["wkst"] = _RRULE_DAYS[pattern["firstDayOfWeek"]]
    elif kind in ("relativeMonthly", "relativeYearly"):
        options["byweekday"] = days
        options["bysetpos"] = _SETPOS[pattern["index"]]
    elif kind in ("absoluteMonthly", "absoluteYearly"):
        options["bymonthday"] = pattern["dayOfMonth"]
    if kind in ("absoluteYearly", "relativeYearly"):
        options["bymonth"] = pattern["month"]
    if rng["type"] == "endDate":
        options["until"] = datetime.combine(date.fromisoformat(rng["endDate"]), time.max)
    elif rng["type"] == "numbered":
        options["count"] = rng["numberOfOccurrences"]
    frequency: Any = _FREQ[kind]
    return rrule.rrule(frequency, cache=False, **options)


def starts_between(rule: rrule.rrule, after: datetime, before: datetime) -> list[datetime]:
    """Naive occurrence starts with after <= start < before."""
    return [s for s in rule.between(after, before, inc=True) if s < before]


def last_start(rule: rrule.rrule, recurrence: dict[str, Any]) -> datetime | None:
    """The final occurrence of a bounded series (None for noEnd or an empty series)."""
    if not is_bounded(recurrence):
        return None
    last: datetime | None = None
    for last in rule:  # noqa: B007 - bounded by numberOfOccurrences or endDate
        pass
    return last


def is_bounded(recurrence: dict[str, Any]) -> bool:
    return bool(recurrence["range"]["type"] != "noEnd")


def recurrence_zone_name(recurrence: dict[str, Any], start_zone: str) -> str:
    zone = recurrence["range"].get("recurrenceTimeZone")
    return zone if isinstance(zone, str) and zone else start_zone
