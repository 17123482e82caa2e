"""The core's inputs refuse Graph events that cannot exist, naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from calsync.sync.actions import EventPlan, ForgetLink
from calsync.sync.errors import InvalidEventData
from calsync.sync.recurrence import (
    PatternType,
    RangeType,
    Recurrence,
    RecurrencePattern,
    RecurrenceRange,
)
from calsync.sync.state import GraphEventType
from tests.sync.events import graph_event, review_meeting


def test_an_exception_needs_its_series_master() -> None:
    with pytest.raises(InvalidEventData) as error:
        graph_event(review_meeting(), event_type=GraphEventType.EXCEPTION)
    assert error.value.field == "seriesMasterId"


def test_a_series_master_needs_its_recurrence() -> None:
    with pytest.raises(InvalidEventData) as error:
        graph_event(review_meeting(), event_type=GraphEventType.SERIES_MASTER)
    assert error.value.field == "recurrence"


def test_a_series_master_with_its_rule_is_accepted() -> None:
    rule = Recurrence(
        RecurrencePattern(PatternType.DAILY), RecurrenceRange(RangeType.NO_END, date(2027, 3, 15))
    )
    master = graph_event(review_meeting(recurrence=rule), event_type=GraphEventType.SERIES_MASTER)
    assert master.snapshot.recurrence == rule


def test_an_empty_plan_writes_nothing_but_forgetting_a_link_is_a_write() -> None:
    assert EventPlan().writes_nothing
    assert not EventPlan(link=ForgetLink()).writes_nothing
