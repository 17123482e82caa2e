"""The CRM's own recurrence for series created in the CRM (SPEC §5), on python-dateutil's rrule.

A rule is one RFC 5545 RRULE line such as `FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20270630`.
Occurrences keep the wall-clock time of the first one in the event's own time zone, so a 10:00
meeting in New York stays at 10:00 across daylight-saving changes. Such series are not synced to
Microsoft 365; the series of Microsoft 365 are stored occurrence by occurrence by the sync engine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from calsync.crm.errors import InvalidInputError

FIELD = "recurrence_rule"
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# A finite series longer than this is almost certainly a mistake (and would be slow to list).
MAX_OCCURRENCES = 10_000
# Meetings are planned for this millennium; later dates overflow date arithmetic downstream.
LAST_YEAR = 2999


@dataclass(frozen=True)
class CheckedRule:
    """A rule that parsed and yields occurrences, in canonical text, with its last start if any."""

    text: str
    last_start: datetime | None


def _parts(text: str) -> list[tuple[str, str]]:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body or "\n" in body or "\r" in body:
        raise InvalidInputError(
            "give one RRULE line such as FREQ=WEEKLY;BYDAY=MO (no DTSTART, RDATE or EXDATE)",
            field=FIELD,
        )
    parts: list[tuple[str, str]] = []
    for piece in body.split(";"):
        name, separator, value = piece.partition("=")
        if not separator or not name.strip() or not value.strip():
            raise InvalidInputError(f"'{piece}' is not NAME=VALUE", field=FIELD)
        parts.append((name.strip().upper(), value.strip().upper()))
    return parts


def _runs_too_long() -> InvalidInputError:
    return InvalidInputError(f"the rule runs past the year {LAST_YEAR}; end it sooner", field=FIELD)


def _until_in_utc(value: str, zone: ZoneInfo) -> str:
    """UNTIL as the UTC instant dateutil needs; dates and local times are read in the event zone."""
    if value[:4].isdigit() and int(value[:4]) > LAST_YEAR:
        raise _runs_too_long()
    try:
        if value.endswith("Z"):
            return value
        if "T" in value:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        else:
            day = datetime.strptime(value, "%Y%m%d").date()
            local = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
    except ValueError:
        raise InvalidInputError(
            f"UNTIL '{value}' is not a date (YYYYMMDD) or time (YYYYMMDDTHHMMSS[Z])", field=FIELD
        ) from None
    return local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _build(text: str, first_start: datetime) -> rrule:
    try:
        built = rrulestr(text, dtstart=first_start)
    except (ValueError, TypeError, IndexError) as error:
        raise InvalidInputError(f"not a valid recurrence rule: {error}", field=FIELD) from None
    if not isinstance(built, rrule):
        raise InvalidInputError("give a single RRULE", field=FIELD)
    return built


def check_rule(text: str, first_start: datetime) -> CheckedRule:
    """Validate `text` for a series whose first occurrence starts at `first_start`.

    `first_start` must be aware and in the event's own zone. Raises InvalidInputError naming
    `recurrence_rule` when the rule is malformed, repeats more often than daily, gives no
    occurrence, or gives more than MAX_OCCURRENCES.
    """
    if not isinstance(first_start.tzinfo, ZoneInfo):
        raise ValueError("first_start must carry the event's ZoneInfo")
    parts = _parts(text)
    names = [name for name, _ in parts]
    if len(set(names)) != len(names):
        raise InvalidInputError("a rule part is given twice", field=FIELD)
    values = dict(parts)
    if values.get("FREQ") not in ALLOWED_FREQUENCIES:
        raise InvalidInputError(
            "FREQ must be one of " + ", ".join(ALLOWED_FREQUENCIES), field=FIELD
        )
    if "COUNT" in values and "UNTIL" in values:
        raise InvalidInputError("give COUNT or UNTIL, not both", field=FIELD)
    if "UNTIL" in values:
        values["UNTIL"] = _until_in_utc(values["UNTIL"], first_start.tzinfo)
    canonical = ";".join(f"{name}={values[name]}" for name in names)
    built = _build(canonical, first_start)
    try:
        first = built.after(first_start - timedelta(seconds=1))
    except (ValueError, IndexError):
        first = None
    if first is None:
        raise InvalidInputError("the rule gives no occurrences after the start", field=FIELD)
    last_start: datetime | None = None
    if "COUNT" in values or "UNTIL" in values:
        try:
            starts = list(itertools.islice(built, MAX_OCCURRENCES + 1))
        except (ValueError, OverflowError):  # dateutil stepping past datetime's year 9999
            raise _runs_too_long() from None
        if len(starts) > MAX_OCCURRENCES:
            raise InvalidInputError(
                f"the rule gives more than {MAX_OCCURRENCES} occurrences; end it sooner",
                field=FIELD,
            )
        last_start = starts[-1]
        if last_start.year > LAST_YEAR:
            raise _runs_too_long()
    return CheckedRule(text=canonical, last_start=last_start)


def occurrence_starts(
    text: str,
    first_start: datetime,
    duration: timedelta,
    window_start: datetime,
    window_end: datetime,
) -> list[datetime]:
    """Starts (in the event's zone) of the occurrences that overlap [window_start, window_end).

    An occurrence of zero length overlaps when it starts inside the window.
    """
    built = _build(text, first_start)
    candidates = built.between(window_start - duration, window_end, inc=True)
    return [
        start
        for start in candidates
        if start < window_end and (start + duration > window_start or start >= window_start)
    ]
