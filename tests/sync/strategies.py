"""Hypothesis strategies for snapshots, from small pools so that sides often agree or clash."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import strategies as st

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
