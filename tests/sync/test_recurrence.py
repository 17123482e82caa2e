"""Graph recurrence rules: read, validated with the field at fault named, compared by meaning."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.sync.errors import InvalidRecurrence
from calsync.sync.recurrence import (
    PatternType,
    RangeType,
    Recurrence,
    RecurrencePattern,
    RecurrenceRange,
    Weekday,
    WeekIndex,
)
from calsync.sync.recurrence_summary import summarize_recurrence

WEEKLY = {
    "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["Monday", "Wednesday"]},
    "range": {"type": "endDate", "startDate": "2027-01-04", "endDate": "2027-06-30"},
}


def test_a_graph_rule_is_read_with_its_doc_spelling_of_days() -> None:
    rule = Recurrence.from_graph(WEEKLY)
    assert rule.pattern.type is PatternType.WEEKLY
    assert rule.pattern.days_of_week == frozenset({Weekday.MONDAY, Weekday.WEDNESDAY})
    assert rule.range.end_date == date(2027, 6, 30)


def test_a_rule_round_trips_through_the_graph_json() -> None:
    rule = Recurrence.from_graph(WEEKLY)
    assert Recurrence.from_graph(rule.to_graph()) == rule
    assert rule.to_graph()["pattern"]["daysOfWeek"] == ["monday", "wednesday"]


def test_fields_the_pattern_ignores_do_not_make_two_rules_differ() -> None:
    noisy = {
        "pattern": {
            "type": "daily",
            "interval": 1,
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": [],
            "firstDayOfWeek": "monday",
            "index": "first",
        },
        "range": {
            "type": "noEnd",
            "startDate": "2027-01-04",
            "endDate": "0001-01-01",
            "numberOfOccurrences": 0,
            "recurrenceTimeZone": "Eastern Standard Time",
        },
    }
    clean = {
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "noEnd", "startDate": "2027-01-04"},
    }
    assert Recurrence.from_graph(noisy) == Recurrence.from_graph(clean)
    assert "firstDayOfWeek" not in Recurrence.from_graph(noisy).to_graph()["pattern"]


def test_a_changed_interval_is_a_different_rule() -> None:
    changed = {**WEEKLY, "pattern": {**WEEKLY["pattern"], "interval": 1}}
    assert Recurrence.from_graph(changed) != Recurrence.from_graph(WEEKLY)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"range": WEEKLY["range"]}, "recurrence.pattern"),
        ({"pattern": WEEKLY["pattern"]}, "recurrence.range"),
        ({**WEEKLY, "pattern": {"type": "hourly", "interval": 1}}, "recurrence.pattern.type"),
        ({**WEEKLY, "pattern": {"type": "daily", "interval": 0}}, "recurrence.pattern.interval"),
        ({**WEEKLY, "pattern": {"type": "weekly", "interval": 1}}, "recurrence.pattern.daysOfWeek"),
        (
            {**WEEKLY, "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["Funday"]}},
            "recurrence.pattern.daysOfWeek",
        ),
        (
            {**WEEKLY, "pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 32}},
            "recurrence.pattern.dayOfMonth",
        ),
        (
            {**WEEKLY, "pattern": {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 4}},
            "recurrence.pattern.month",
        ),
        (
            {**WEEKLY, "range": {"type": "endDate", "startDate": "2027-01-04"}},
            "recurrence.range.endDate",
        ),
        (
            {
                **WEEKLY,
                "range": {"type": "endDate", "startDate": "2027-01-04", "endDate": "2026-12-31"},
            },
            "recurrence.range.endDate",
        ),
        (
            {**WEEKLY, "range": {"type": "numbered", "startDate": "2027-01-04"}},
            "recurrence.range.numberOfOccurrences",
        ),
        ({**WEEKLY, "range": {"type": "noEnd", "startDate": "soon"}}, "recurrence.range.startDate"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRecurrence) as error:
        Recurrence.from_graph(payload)
    assert error.value.field == field
    assert error.value.code == "invalid_recurrence"


def test_relative_patterns_keep_their_index_and_others_drop_it() -> None:
    relative = RecurrencePattern(
        PatternType.RELATIVE_MONTHLY, 1, frozenset({Weekday.FRIDAY}), index=WeekIndex.LAST
    )
    assert relative.index is WeekIndex.LAST
    weekly = RecurrencePattern(
        PatternType.WEEKLY, 1, frozenset({Weekday.FRIDAY}), index=WeekIndex.LAST
    )
    assert weekly.index is WeekIndex.FIRST


def test_a_numbered_range_needs_at_least_one_occurrence() -> None:
    with pytest.raises(InvalidRecurrence):
        RecurrenceRange(RangeType.NUMBERED, date(2027, 1, 4), number_of_occurrences=0)


# Properties ---------------------------------------------------------------------------------

patterns = st.one_of(
    st.builds(RecurrencePattern, st.just(PatternType.DAILY), st.integers(1, 5)),
    st.builds(
        RecurrencePattern,
        st.just(PatternType.WEEKLY),
        st.integers(1, 5),
        st.frozensets(st.sampled_from(Weekday), min_size=1),
        first_day_of_week=st.sampled_from(Weekday),
    ),
    st.builds(
        RecurrencePattern,
        st.just(PatternType.ABSOLUTE_MONTHLY),
        st.integers(1, 12),
        day_of_month=st.integers(1, 31),
    ),
    st.builds(
        RecurrencePattern,
        st.just(PatternType.RELATIVE_MONTHLY),
        st.integers(1, 12),
        st.frozensets(st.sampled_from(Weekday), min_size=1),
        index=st.sampled_from(WeekIndex),
    ),
    st.builds(
        RecurrencePattern,
        st.just(PatternType.ABSOLUTE_YEARLY),
        st.integers(1, 3),
        day_of_month=st.integers(1, 31),
        month=st.integers(1, 12),
    ),
    st.builds(
        RecurrencePattern,
        st.just(PatternType.RELATIVE_YEARLY),
        st.integers(1, 3),
        st.frozensets(st.sampled_from(Weekday), min_size=1),
        month=st.integers(1, 12),
        index=st.sampled_from(WeekIndex),
    ),
)
ranges = st.one_of(
    st.builds(RecurrenceRange, st.just(RangeType.NO_END), st.dates()),
    st.dates(max_value=date(9000, 1, 1)).flatmap(
        lambda start: st.builds(
            RecurrenceRange,
            st.just(RangeType.END_DATE),
            st.just(start),
            end_date=st.dates(min_value=start),
        )
    ),
    st.builds(
        RecurrenceRange,
        st.just(RangeType.NUMBERED),
        st.dates(),
        number_of_occurrences=st.integers(1, 999),
    ),
)


@settings(max_examples=300, deadline=None)
@given(pattern=patterns, range_=ranges)
def test_every_rule_round_trips_through_graph_json_and_has_a_summary(
    pattern: RecurrencePattern, range_: RecurrenceRange
) -> None:
    rule = Recurrence(pattern, range_)
    assert Recurrence.from_graph(rule.to_graph()) == rule
    summary = summarize_recurrence(rule)
    assert summary[0].isupper()
    assert "None" not in summary
