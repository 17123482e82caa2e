"""One delta round reduced to per-id final states; `@removed` is not proof of deletion."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.sync.delta import (
    DeltaItem,
    DeltaRemoval,
    SyncWindow,
    childless_masters_to_confirm,
    reduce_delta_round,
)
from calsync.sync.errors import InvalidEventData
from calsync.sync.fields import AllDaySpan, EventTiming, TimedSpan
from tests.sync.events import graph_event, review_meeting

WINDOW = SyncWindow(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 7, 1, tzinfo=UTC))
IN_WINDOW = TimedSpan(datetime(2027, 3, 15, 14, tzinfo=UTC), datetime(2027, 3, 15, 15, tzinfo=UTC))
LAST_YEAR = TimedSpan(datetime(2026, 3, 15, 14, tzinfo=UTC), datetime(2026, 3, 15, 15, tzinfo=UTC))


def changed(graph_id: str, subject: str = "Annual review") -> DeltaItem:
    return graph_event(review_meeting(subject=subject), graph_id=graph_id)


def test_a_later_copy_of_an_event_in_the_same_round_wins() -> None:
    result = reduce_delta_round(
        [changed("A", "first"), changed("B"), changed("A", "second")], {}, WINDOW
    )
    assert [(event.graph_id, event.snapshot.subject) for event in result.changed] == [
        ("B", "Annual review"),
        ("A", "second"),
    ]


def test_a_removal_after_a_change_wins() -> None:
    result = reduce_delta_round([changed("A"), DeltaRemoval("A")], {"A": IN_WINDOW}, WINDOW)
    assert result.changed == ()
    assert result.removed == ("A",)


def test_a_change_after_a_removal_wins() -> None:
    result = reduce_delta_round([DeltaRemoval("A"), changed("A")], {"A": IN_WINDOW}, WINDOW)
    assert [event.graph_id for event in result.changed] == ["A"]
    assert result.removed == ()


def test_a_removal_of_an_event_we_never_tracked_is_ignored() -> None:
    result = reduce_delta_round([DeltaRemoval("brand-new-outside-window")], {}, WINDOW)
    assert result.removed == ()
    assert result.ignored_removals == ("brand-new-outside-window",)


def test_a_removal_of_an_event_last_seen_outside_the_window_is_ignored() -> None:
    result = reduce_delta_round([DeltaRemoval("old")], {"old": LAST_YEAR}, WINDOW)
    assert result.removed == ()
    assert result.ignored_removals == ("old",)


def test_a_removal_of_a_tracked_event_in_the_window_is_reported_for_confirmation() -> None:
    result = reduce_delta_round([DeltaRemoval("A")], {"A": IN_WINDOW}, WINDOW)
    assert result.removed == ("A",)


def test_a_cancelled_tracked_event_counts_as_removed() -> None:
    cancelled = graph_event(review_meeting(), graph_id="A", is_cancelled=True)
    result = reduce_delta_round([cancelled], {"A": IN_WINDOW}, WINDOW)
    assert result.changed == ()
    assert result.removed == ("A",)


def test_an_empty_round_changes_nothing() -> None:
    result = reduce_delta_round([], {"A": IN_WINDOW}, WINDOW)
    assert result.changed == result.removed == result.ignored_removals == ()


@pytest.mark.parametrize(
    ("timing", "inside"),
    [
        (IN_WINDOW, True),
        (LAST_YEAR, False),
        (
            TimedSpan(datetime(2026, 12, 31, 23, tzinfo=UTC), datetime(2027, 1, 1, 1, tzinfo=UTC)),
            True,
        ),
        (
            TimedSpan(datetime(2027, 7, 1, tzinfo=UTC), datetime(2027, 7, 1, 1, tzinfo=UTC)),
            False,
        ),
        (TimedSpan(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)), True),
        (AllDaySpan(date(2027, 7, 1), date(2027, 7, 2)), True),
        (AllDaySpan(date(2026, 12, 31), date(2027, 1, 1)), True),
        (AllDaySpan(date(2027, 7, 3), date(2027, 7, 4)), False),
        (AllDaySpan(date(2026, 12, 29), date(2026, 12, 30)), False),
    ],
)
def test_the_window_includes_overlaps_and_widens_all_day_dates(
    timing: EventTiming, inside: bool
) -> None:
    assert WINDOW.may_contain(timing) is inside


def test_a_window_needs_aware_bounds_in_order() -> None:
    with pytest.raises(InvalidEventData) as error:
        SyncWindow(datetime(2027, 1, 1), datetime(2027, 7, 1, tzinfo=UTC))
    assert error.value.field == "window.start"
    with pytest.raises(InvalidEventData) as error:
        SyncWindow(datetime(2027, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert error.value.field == "window.end"


# Properties ---------------------------------------------------------------------------------

IDS = ("A", "B", "C", "D")
items = st.one_of(
    st.builds(changed, st.sampled_from(IDS), st.sampled_from(["v1", "v2", "v3"])),
    st.builds(DeltaRemoval, st.sampled_from(IDS)),
)
tracking = st.dictionaries(st.sampled_from(IDS), st.sampled_from([IN_WINDOW, LAST_YEAR]))


@settings(max_examples=300, deadline=None)
@given(round_items=st.lists(items, max_size=12), tracked=tracking)
def test_each_id_ends_in_exactly_the_state_of_its_last_item(
    round_items: list[DeltaItem], tracked: dict[str, EventTiming]
) -> None:
    result = reduce_delta_round(round_items, tracked, WINDOW)
    last = {item.graph_id: item for item in round_items}
    changed_ids = [event.graph_id for event in result.changed]
    all_ids = changed_ids + list(result.removed) + list(result.ignored_removals)
    assert sorted(all_ids) == sorted(last)
    for event in result.changed:
        assert last[event.graph_id] == event
    for graph_id in (*result.removed, *result.ignored_removals):
        assert isinstance(last[graph_id], DeltaRemoval)


@settings(max_examples=300, deadline=None)
@given(round_items=st.lists(items, max_size=12), tracked=tracking)
def test_a_removal_is_never_a_deletion_unless_tracked_in_the_window(
    round_items: list[DeltaItem], tracked: dict[str, EventTiming]
) -> None:
    result = reduce_delta_round(round_items, tracked, WINDOW)
    for graph_id in result.removed:
        assert tracked.get(graph_id) == IN_WINDOW
    for graph_id in result.ignored_removals:
        assert tracked.get(graph_id) != IN_WINDOW


@settings(max_examples=200, deadline=None)
@given(round_items=st.lists(items, max_size=12), tracked=tracking)
def test_reducing_a_reduced_round_changes_nothing(
    round_items: list[DeltaItem], tracked: dict[str, EventTiming]
) -> None:
    once = reduce_delta_round(round_items, tracked, WINDOW)
    replay: list[DeltaItem] = [*once.changed]
    replay += [DeltaRemoval(graph_id) for graph_id in (*once.removed, *once.ignored_removals)]
    twice = reduce_delta_round(replay, tracked, WINDOW)
    assert set(twice.changed) == set(once.changed)
    assert set(twice.removed) == set(once.removed)
    assert set(twice.ignored_removals) == set(once.ignored_removals)


def test_a_round_that_ignores_a_removal_rechecks_the_series_left_without_occurrences() -> None:
    """A series whose occurrences were all cancelled is deleted: delta names only those untracked
    occurrences, never the master, so the master must be checked with a GET."""
    round_ = reduce_delta_round([DeltaRemoval("cancelled-occurrence")], {}, WINDOW)
    assert childless_masters_to_confirm(
        round_, ["empty-series", "busy-series"], [None, "busy-series"]
    ) == ("empty-series",)


def test_a_quiet_round_rechecks_no_series() -> None:
    round_ = reduce_delta_round([changed("A")], {"A": IN_WINDOW}, WINDOW)
    assert childless_masters_to_confirm(round_, ["empty-series"], []) == ()
