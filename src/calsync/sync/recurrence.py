"""A series' recurrence, as Microsoft 365 defines it (Graph `patternedRecurrence`, GRAPH.md §1.2).

The recurrence of a synced series is owned by Microsoft 365 (SPEC §5): the CRM only shows it, as a
summary. So the core keeps Graph's own model rather than translating to RRULE: what is compared,
stored as the merge base and summarised is exactly what Graph said. Construction validates the
fields each pattern type needs and drops the ones it ignores, so two spellings of the same rule
compare equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from calsync.sync.errors import InvalidRecurrence


class PatternType(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    ABSOLUTE_MONTHLY = "absoluteMonthly"
    RELATIVE_MONTHLY = "relativeMonthly"
    ABSOLUTE_YEARLY = "absoluteYearly"
    RELATIVE_YEARLY = "relativeYearly"


class RangeType(StrEnum):
    END_DATE = "endDate"
    NO_END = "noEnd"
    NUMBERED = "numbered"


class Weekday(StrEnum):
    SUNDAY = "sunday"
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"


class WeekIndex(StrEnum):
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    FOURTH = "fourth"
    LAST = "last"


_NEEDS_DAYS = frozenset(
    {PatternType.WEEKLY, PatternType.RELATIVE_MONTHLY, PatternType.RELATIVE_YEARLY}
)
_NEEDS_DAY_OF_MONTH = frozenset({PatternType.ABSOLUTE_MONTHLY, PatternType.ABSOLUTE_YEARLY})
_NEEDS_MONTH = frozenset({PatternType.ABSOLUTE_YEARLY, PatternType.RELATIVE_YEARLY})
_USES_INDEX = frozenset({PatternType.RELATIVE_MONTHLY, PatternType.RELATIVE_YEARLY})


E = TypeVar("E", bound=StrEnum)


def _enum_value(kind: type[E], raw: object, field_name: str) -> E:
    if isinstance(raw, kind):
        return raw
    if isinstance(raw, str):
        wanted = raw.strip().lower()
        for member in kind:
            if member.value.lower() == wanted:
                return member
    allowed = ", ".join(member.value for member in kind)
    raise InvalidRecurrence(f"'{raw}' is not allowed here; use one of {allowed}", field=field_name)


@dataclass(frozen=True, slots=True)
class RecurrencePattern:
    """How often a series repeats. Fields the `type` ignores are reset to their defaults."""

    type: PatternType
    interval: int = 1
    days_of_week: frozenset[Weekday] = frozenset()
    day_of_month: int | None = None
    month: int | None = None
    index: WeekIndex = WeekIndex.FIRST
    first_day_of_week: Weekday = Weekday.SUNDAY

    def __post_init__(self) -> None:
        kind = _enum_value(PatternType, self.type, "recurrence.pattern.type")
        object.__setattr__(self, "type", kind)
        if (
            isinstance(self.interval, bool)
            or not isinstance(self.interval, int)
            or self.interval < 1
        ):
            raise InvalidRecurrence(
                "interval must be a whole number of at least 1", field="recurrence.pattern.interval"
            )
        days = frozenset(
            _enum_value(Weekday, day, "recurrence.pattern.daysOfWeek") for day in self.days_of_week
        )
        if kind in _NEEDS_DAYS and not days:
            raise InvalidRecurrence(
                f"a {kind.value} pattern needs at least one day of the week",
                field="recurrence.pattern.daysOfWeek",
            )
        object.__setattr__(self, "days_of_week", days if kind in _NEEDS_DAYS else frozenset())
        if kind in _NEEDS_DAY_OF_MONTH:
            if self.day_of_month is None or not 1 <= self.day_of_month <= 31:
                raise InvalidRecurrence(
                    f"a {kind.value} pattern needs a day of the month from 1 to 31",
                    field="recurrence.pattern.dayOfMonth",
                )
        else:
            object.__setattr__(self, "day_of_month", None)
        if kind in _NEEDS_MONTH:
            if self.month is None or not 1 <= self.month <= 12:
                raise InvalidRecurrence(
                    f"a {kind.value} pattern needs a month from 1 to 12",
                    field="recurrence.pattern.month",
                )
        else:
            object.__setattr__(self, "month", None)
        index = _enum_value(WeekIndex, self.index, "recurrence.pattern.index")
        object.__setattr__(self, "index", index if kind in _USES_INDEX else WeekIndex.FIRST)
        first_day = _enum_value(
            Weekday, self.first_day_of_week, "recurrence.pattern.firstDayOfWeek"
        )
        object.__setattr__(
            self, "first_day_of_week", first_day if kind is PatternType.WEEKLY else Weekday.SUNDAY
        )


@dataclass(frozen=True, slots=True)
class RecurrenceRange:
    """When a series repeats. `start_date` is the date of the series' first start (Graph's rule)."""

    type: RangeType
    start_date: date
    end_date: date | None = None
    number_of_occurrences: int | None = None
    recurrence_time_zone: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        kind = _enum_value(RangeType, self.type, "recurrence.range.type")
        object.__setattr__(self, "type", kind)
        if not isinstance(self.start_date, date):
            raise InvalidRecurrence("a start date is required", field="recurrence.range.startDate")
        if kind is RangeType.END_DATE:
            if self.end_date is None:
                raise InvalidRecurrence(
                    "an endDate range needs an end date", field="recurrence.range.endDate"
                )
            if self.end_date < self.start_date:
                raise InvalidRecurrence(
                    "the end date is before the start date", field="recurrence.range.endDate"
                )
        else:
            object.__setattr__(self, "end_date", None)
        if kind is RangeType.NUMBERED:
            count = self.number_of_occurrences
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise InvalidRecurrence(
                    "a numbered range needs a number of occurrences of at least 1",
                    field="recurrence.range.numberOfOccurrences",
                )
        else:
            object.__setattr__(self, "number_of_occurrences", None)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Graph's `patternedRecurrence`: a pattern and a range."""

    pattern: RecurrencePattern
    range: RecurrenceRange

    @classmethod
    def from_graph(cls, payload: Mapping[str, Any]) -> Recurrence:
        """Read a `patternedRecurrence` JSON object (lowerCamel names), naming a field at fault."""
        pattern = payload.get("pattern")
        range_ = payload.get("range")
        if not isinstance(pattern, Mapping):
            raise InvalidRecurrence("a pattern object is required", field="recurrence.pattern")
        if not isinstance(range_, Mapping):
            raise InvalidRecurrence("a range object is required", field="recurrence.range")
        return cls(
            pattern=RecurrencePattern(
                type=_enum_value(PatternType, pattern.get("type"), "recurrence.pattern.type"),
                interval=_as_int(pattern.get("interval", 1), "recurrence.pattern.interval"),
                days_of_week=frozenset(
                    _enum_value(Weekday, day, "recurrence.pattern.daysOfWeek")
                    for day in pattern.get("daysOfWeek") or ()
                ),
                day_of_month=_optional_int(
                    pattern.get("dayOfMonth"), "recurrence.pattern.dayOfMonth"
                ),
                month=_optional_int(pattern.get("month"), "recurrence.pattern.month"),
                index=_enum_value(
                    WeekIndex, pattern.get("index") or "first", "recurrence.pattern.index"
                ),
                first_day_of_week=_enum_value(
                    Weekday,
                    pattern.get("firstDayOfWeek") or "sunday",
                    "recurrence.pattern.firstDayOfWeek",
                ),
            ),
            range=RecurrenceRange(
                type=_enum_value(RangeType, range_.get("type"), "recurrence.range.type"),
                start_date=_as_date(range_.get("startDate"), "recurrence.range.startDate"),
                end_date=_optional_date(range_.get("endDate"), "recurrence.range.endDate"),
                number_of_occurrences=_optional_int(
                    range_.get("numberOfOccurrences"), "recurrence.range.numberOfOccurrences"
                ),
                recurrence_time_zone=range_.get("recurrenceTimeZone") or None,
            ),
        )

    def to_graph(self) -> dict[str, Any]:
        """The `patternedRecurrence` JSON to write: only the fields the pattern and range use."""
        pattern: dict[str, Any] = {
            "type": self.pattern.type.value,
            "interval": self.pattern.interval,
        }
        if self.pattern.days_of_week:
            pattern["daysOfWeek"] = sorted(
                (day.value for day in self.pattern.days_of_week), key=list(Weekday).index
            )
        if self.pattern.day_of_month is not None:
            pattern["dayOfMonth"] = self.pattern.day_of_month
        if self.pattern.month is not None:
            pattern["month"] = self.pattern.month
        if self.pattern.type in _USES_INDEX:
            pattern["index"] = self.pattern.index.value
        if self.pattern.type is PatternType.WEEKLY:
            pattern["firstDayOfWeek"] = self.pattern.first_day_of_week.value
        range_: dict[str, Any] = {
            "type": self.range.type.value,
            "startDate": self.range.start_date.isoformat(),
        }
        if self.range.end_date is not None:
            range_["endDate"] = self.range.end_date.isoformat()
        if self.range.number_of_occurrences is not None:
            range_["numberOfOccurrences"] = self.range.number_of_occurrences
        if self.range.recurrence_time_zone:
            range_["recurrenceTimeZone"] = self.range.recurrence_time_zone
        return {"pattern": pattern, "range": range_}


def _as_int(raw: object, field_name: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidRecurrence(f"'{raw}' is not a whole number", field=field_name)
    return raw


def _optional_int(raw: object, field_name: str) -> int | None:
    return None if raw is None or raw == 0 else _as_int(raw, field_name)


def _as_date(raw: object, field_name: str) -> date:
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidRecurrence(f"'{raw}' is not a date (YYYY-MM-DD)", field=field_name)


def _optional_date(raw: object, field_name: str) -> date | None:
    if raw is None or raw == "" or raw == "0001-01-01":
        return None
    return _as_date(raw, field_name)
