"""Hypothesis strategies for snapshots, from small pools so that sides often agree or clash, and
the small Outlook series the stateful test creates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from calsync.graph.models import PatternedRecurrence
from calsync.graph.models import RecurrencePattern as GraphPattern
from calsync.graph.models import RecurrenceRange as GraphRange
from calsync.sync.fields import AllDaySpan, EventSnapshot, ShowAs, SyncedAttendee, TimedSpan
from calsync.sync.recurrence import (
    PatternType,
    RangeType,
    Recurrence,
    RecurrencePattern,
    RecurrenceRange,
    Weekday,
)

SUBJECTS = ("Annual review", "Onboarding call", "Tax planning")
BODIES = ("", "Bring statements", "Agenda:\nRebalancing")
LOCATIONS = ("", "Harbor Wealth, 4th floor", "Teams")
TIMINGS = (
    TimedSpan(datetime(2027, 3, 15, 14, tzinfo=UTC), datetime(2027, 3, 15, 15, tzinfo=UTC)),
    TimedSpan(datetime(2027, 3, 16, 9, tzinfo=UTC), datetime(2027, 3, 16, 10, tzinfo=UTC)),
    AllDaySpan(date(2027, 3, 17), date(2027, 3, 18)),
)
ADDRESSES = ("maria@gmail.example", "p.okafor@okafor-cpa.example", "li.chen@harborwealth.example")
RECURRENCES = (
    None,
    Recurrence(
        RecurrencePattern(PatternType.WEEKLY, 1, frozenset({Weekday.MONDAY})),
        RecurrenceRange(RangeType.NO_END, date(2027, 3, 15)),
    ),
    Recurrence(
        RecurrencePattern(PatternType.DAILY, 2),
        RecurrenceRange(RangeType.NUMBERED, date(2027, 3, 15), number_of_occurrences=10),
    ),
)

snapshots = st.builds(
    EventSnapshot,
    subject=st.sampled_from(SUBJECTS),
    timing=st.sampled_from(TIMINGS),
    body=st.sampled_from(BODIES),
    location=st.sampled_from(LOCATIONS),
    show_as=st.sampled_from([ShowAs.BUSY, ShowAs.FREE, ShowAs.TENTATIVE]),
    is_private=st.booleans(),
    is_teams_meeting=st.booleans(),
    attendees=st.frozensets(st.sampled_from(ADDRESSES).map(SyncedAttendee)),
    recurrence=st.sampled_from(RECURRENCES),
)


@dataclass(frozen=True)
class SeriesShape:
    """A small Outlook series for the stateful test: its Graph rule, the occurrences the rule must
    give and the "Recurring in Microsoft 365" summary the CRM must show, each written out here
    independently of the code under test. Kept to a handful of occurrences so that expanding the
    series in every window stays cheap."""

    pattern: str
    """`daily` or `weekly` (weekly repeats on the first day and, with `two_days`, the next)."""
    interval: int
    range: str
    """`numbered` (`length` occurrences) or `endDate` (`length` days after the first)."""
    length: int
    two_days: bool = False

    def weekdays(self, first: date) -> list[str]:
        days = [first.weekday()] + ([(first.weekday() + 1) % 7] if self.two_days else [])
        return [_WEEKDAY_NAMES[day] for day in days]

    def end_date(self, first: date) -> date:
        return first + timedelta(days=self.length)

    def recurrence(self, first: date) -> PatternedRecurrence:
        pattern = GraphPattern(type=self.pattern, interval=self.interval)
        if self.pattern == "weekly":
            pattern = GraphPattern(
                type="weekly",
                interval=self.interval,
                days_of_week=self.weekdays(first),
                first_day_of_week="sunday",
            )
        if self.range == "numbered":
            range_ = GraphRange(
                type="numbered", start_date=first, number_of_occurrences=self.length
            )
        else:
            range_ = GraphRange(type="endDate", start_date=first, end_date=self.end_date(first))
        return PatternedRecurrence(pattern=pattern, range=range_)

    def first_days(self, first: date) -> list[date]:
        """The dates the series occurs on, by walking the calendar the way Outlook would."""
        if self.pattern == "daily":
            candidates = (first + timedelta(days=self.interval * n) for n in range(400))
        else:
            offsets = (0, 1) if self.two_days else (0,)
            candidates = (
                first + timedelta(weeks=self.interval * week, days=offset)
                for week in range(60)
                for offset in offsets
            )
        days: list[date] = []
        for day in candidates:
            if self.range == "numbered" and len(days) == self.length:
                break
            if self.range == "endDate" and day > self.end_date(first):
                break
            days.append(day)
        return days

    def summary(self, first: date) -> str:
        if self.pattern == "daily":
            phrase = "Every day" if self.interval == 1 else f"Every {self.interval} days"
        else:
            order = [_WEEKDAY_NAMES[(day + 6) % 7] for day in range(7)]  # Sunday first
            names = sorted(self.weekdays(first), key=order.index)
            every = "Every week" if self.interval == 1 else f"Every {self.interval} weeks"
            phrase = f"{every} on {' and '.join(name.capitalize() for name in names)}"
        if self.range == "numbered":
            return f"{phrase}, {self.length} times"
        end = self.end_date(first)
        return f"{phrase}, until {end.day} {end.strftime('%B')} {end.year}"


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

SERIES_SHAPES = (
    SeriesShape("daily", 1, "numbered", 3),
    SeriesShape("daily", 2, "endDate", 5),
    SeriesShape("weekly", 1, "numbered", 3),
    SeriesShape("weekly", 1, "endDate", 9, two_days=True),
    SeriesShape("weekly", 2, "numbered", 2),
)
"""Daily and weekly rules with numbered and end-date ranges, two to four occurrences each."""
