"""Per-field three-way merge and the delete-versus-edit rules of SPEC §2."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.sync.fields import SYNCED_FIELDS, EventSnapshot, ShowAs
from calsync.sync.merge import (
    base_with_write_in_flight,
    changed_fields,
    merge_fields,
    resolve_deleted_in_crm,
    resolve_deleted_in_outlook,
)
from tests.sync.events import at, review_meeting
from tests.sync.strategies import snapshots

BASE = review_meeting()


def test_no_change_on_either_side_writes_nothing() -> None:
    result = merge_fields(BASE, review_meeting(), review_meeting())
    assert result.writes_nothing
    assert result.conflicts == ()
    assert result.merged == BASE


def test_a_field_changed_only_in_the_crm_is_written_to_microsoft_365() -> None:
    crm = review_meeting(location="Client's home office")
    result = merge_fields(BASE, crm, BASE)
    assert result.merged.location == "Client's home office"
    assert result.write_to_graph == ("location",)
    assert result.write_to_crm == ()


def test_a_field_changed_only_in_outlook_is_written_to_the_crm() -> None:
    graph = review_meeting(timing=at(14))
    result = merge_fields(BASE, BASE, graph)
    assert result.merged.timing == at(14)
    assert result.write_to_crm == ("timing",)
    assert result.write_to_graph == ()


def test_outlook_change_wins_a_field_changed_on_both_sides() -> None:
    crm = review_meeting(subject="Review – moved to Zoom")
    graph = review_meeting(subject="Review – Gonzalez (rescheduled)")
    result = merge_fields(BASE, crm, graph)
    assert result.merged.subject == "Review – Gonzalez (rescheduled)"
    assert result.write_to_crm == ("subject",)
    assert result.write_to_graph == ()
    [conflict] = result.conflicts
    assert conflict.field == "subject"
    assert conflict.base == BASE.subject
    assert conflict.crm_value == "Review – moved to Zoom"
    assert conflict.microsoft365_value == "Review – Gonzalez (rescheduled)"
    assert "kept the Microsoft 365 value" in conflict.describe()


def test_different_fields_changed_on_each_side_both_survive_without_conflict() -> None:
    crm = review_meeting(location="Client's home office")
    graph = review_meeting(timing=at(14))
    result = merge_fields(BASE, crm, graph)
    assert result.merged.location == "Client's home office"
    assert result.merged.timing == at(14)
    assert result.write_to_graph == ("location",)
    assert result.write_to_crm == ("timing",)
    assert result.conflicts == ()


def test_the_same_change_made_on_both_sides_is_not_a_conflict() -> None:
    both = review_meeting(show_as=ShowAs.TENTATIVE)
    result = merge_fields(BASE, both, both)
    assert result.conflicts == ()
    assert result.writes_nothing


def test_a_read_only_field_changed_in_the_crm_is_reverted_not_pushed() -> None:
    crm = review_meeting(is_teams_meeting=False)
    base = review_meeting(is_teams_meeting=True)
    result = merge_fields(base, crm, base, crm_read_only=frozenset({"is_teams_meeting"}))
    assert result.merged.is_teams_meeting is True
    assert result.write_to_crm == ("is_teams_meeting",)
    assert result.write_to_graph == ()
    assert result.refused_crm_changes == ("is_teams_meeting",)
    assert result.conflicts == ()


def test_without_a_base_every_difference_is_a_conflict_microsoft_365_wins() -> None:
    crm = review_meeting(subject="Review (CRM)")
    result = merge_fields(None, crm, BASE)
    assert result.merged == BASE
    assert result.write_to_graph == ()
    assert result.write_to_crm == ("subject",)
    assert [conflict.field for conflict in result.conflicts] == ["subject"]
    assert result.conflicts[0].base is None


def test_an_outlook_deletion_removes_the_crm_event_and_reports_the_lost_crm_edit() -> None:
    resolution = resolve_deleted_in_outlook(BASE, review_meeting(location="Zoom"))
    assert resolution.propagate
    assert resolution.lost_crm_edits == ("location",)


def test_an_outlook_deletion_of_an_unedited_event_loses_nothing() -> None:
    resolution = resolve_deleted_in_outlook(BASE, review_meeting())
    assert resolution.propagate
    assert resolution.lost_crm_edits == ()


def test_an_outlook_edit_of_an_event_deleted_in_the_crm_brings_it_back() -> None:
    resolution = resolve_deleted_in_crm(BASE, review_meeting(timing=at(15)))
    assert not resolution.propagate
    assert resolution.restoring_outlook_edits == ("timing",)


def test_a_crm_deletion_of_an_event_unchanged_in_outlook_is_propagated() -> None:
    assert resolve_deleted_in_crm(BASE, review_meeting()).propagate


def test_changed_fields_lists_fields_in_a_stable_order() -> None:
    after = review_meeting(subject="New", attendees=frozenset(), timing=at(12))
    assert changed_fields(BASE, after) == ("subject", "timing", "attendees")


# Properties ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(base=snapshots, crm=snapshots, graph=snapshots)
def test_merging_the_merged_result_again_writes_nothing(
    base: EventSnapshot, crm: EventSnapshot, graph: EventSnapshot
) -> None:
    merged = merge_fields(base, crm, graph).merged
    again = merge_fields(merged, merged, merged)
    assert again.writes_nothing
    assert again.merged == merged


@settings(max_examples=300, deadline=None)
@given(base=snapshots, crm=snapshots, graph=snapshots)
def test_applying_the_writes_makes_both_sides_equal_the_merged_snapshot(
    base: EventSnapshot, crm: EventSnapshot, graph: EventSnapshot
) -> None:
    result = merge_fields(base, crm, graph)
    new_crm = replace(crm, **{name: getattr(result.merged, name) for name in result.write_to_crm})
    new_graph = replace(
        graph, **{name: getattr(result.merged, name) for name in result.write_to_graph}
    )
    assert new_crm == result.merged
    assert new_graph == result.merged
    assert merge_fields(result.merged, new_crm, new_graph).writes_nothing


@settings(max_examples=300, deadline=None)
@given(base=snapshots, crm=snapshots, graph=snapshots)
def test_a_field_changed_only_in_the_crm_always_survives(
    base: EventSnapshot, crm: EventSnapshot, graph: EventSnapshot
) -> None:
    result = merge_fields(base, crm, graph)
    for name in SYNCED_FIELDS:
        if getattr(crm, name) != getattr(base, name) and getattr(graph, name) == getattr(
            base, name
        ):
            assert getattr(result.merged, name) == getattr(crm, name)
            assert name in result.write_to_graph
            assert name not in result.write_to_crm


@settings(max_examples=300, deadline=None)
@given(base=snapshots, crm=snapshots, graph=snapshots)
def test_microsoft_365_always_wins_a_double_change(
    base: EventSnapshot, crm: EventSnapshot, graph: EventSnapshot
) -> None:
    result = merge_fields(base, crm, graph)
    conflicted = {conflict.field for conflict in result.conflicts}
    for name in SYNCED_FIELDS:
        crm_changed = getattr(crm, name) != getattr(base, name)
        graph_changed = getattr(graph, name) != getattr(base, name)
        if crm_changed and graph_changed:
            assert getattr(result.merged, name) == getattr(graph, name)
            assert name not in result.write_to_graph
            assert (name in conflicted) == (getattr(crm, name) != getattr(graph, name))
        else:
            assert name not in conflicted


@settings(max_examples=200, deadline=None)
@given(base=snapshots, side=snapshots)
def test_a_change_never_echoes_back_to_the_side_it_came_from(
    base: EventSnapshot, side: EventSnapshot
) -> None:
    from_crm = merge_fields(base, side, base)
    assert from_crm.write_to_crm == ()
    from_graph = merge_fields(base, base, side)
    assert from_graph.write_to_graph == ()


@settings(max_examples=200, deadline=None)
@given(base=snapshots)
def test_merging_with_no_change_produces_no_writes(base: EventSnapshot) -> None:
    result = merge_fields(base, base, base)
    assert result.writes_nothing
    assert result.conflicts == ()


@settings(max_examples=300, deadline=None)
@given(base=snapshots, crm=snapshots, graph=snapshots)
def test_the_result_never_contains_a_value_that_appears_on_neither_side(
    base: EventSnapshot, crm: EventSnapshot, graph: EventSnapshot
) -> None:
    result = merge_fields(base, crm, graph)
    for name in SYNCED_FIELDS:
        assert getattr(result.merged, name) in (getattr(crm, name), getattr(graph, name))


@settings(max_examples=200, deadline=None)
@given(
    base=snapshots,
    crm=snapshots,
    graph=snapshots,
    read_only=st.sets(st.sampled_from(SYNCED_FIELDS)),
)
def test_a_refused_crm_change_never_reaches_microsoft_365(
    base: EventSnapshot,
    crm: EventSnapshot,
    graph: EventSnapshot,
    read_only: set[str],
) -> None:
    result = merge_fields(base, crm, graph, crm_read_only=frozenset(read_only))
    for name in read_only:
        assert name not in result.write_to_graph
        assert getattr(result.merged, name) == getattr(graph, name)


def test_conflicts_describe_values_as_a_person_reads_them() -> None:
    from datetime import date

    from calsync.sync.fields import AllDaySpan
    from calsync.sync.merge import describe_value

    assert describe_value(at(14)) == "2027-03-15 14:00–15:00 (America/New_York)"
    assert describe_value(AllDaySpan(date(2027, 7, 4), date(2027, 7, 5))) == "2027-07-04 all day"
    assert describe_value(AllDaySpan(date(2027, 7, 4), date(2027, 7, 7))) == (
        "2027-07-04 to 2027-07-06 all day"
    )
    assert describe_value(ShowAs.TENTATIVE) == "tentative"
    assert describe_value(True) == "yes"
    assert describe_value(None) == "none"
    assert (
        describe_value(BASE.attendees)
        == "{maria.gonzalez@gmail.example, p.okafor@okafor-cpa.example}"
    )
    assert len(describe_value("x" * 500)) == 120


# A write of ours in flight (sent, not recorded: a crash in between) ---------------------------


def test_a_value_we_sent_and_microsoft_365_holds_becomes_the_base() -> None:
    sent = review_meeting(subject="Review moved to Friday", location="Room 2")
    assert base_with_write_in_flight(BASE, sent, sent) == sent


def test_a_write_that_never_arrived_leaves_the_recorded_base() -> None:
    sent = review_meeting(subject="Review moved to Friday")
    assert base_with_write_in_flight(BASE, sent, BASE) == BASE


def test_an_outlook_edit_after_our_write_keeps_the_recorded_base_for_that_field() -> None:
    sent = review_meeting(subject="Review moved to Friday", location="Room 2")
    outlook = replace(sent, location="Lobby")
    assert base_with_write_in_flight(BASE, sent, outlook) == review_meeting(
        subject="Review moved to Friday"
    )


def test_a_newer_crm_edit_wins_over_the_value_we_pushed_ourselves_and_nothing_echoes() -> None:
    """The lost-edit sequence: we pushed v1, crashed, the CRM moved on to v2."""
    sent = review_meeting(subject="v1", location="Room 2")
    crm = review_meeting(subject="v2", location="Room 2")
    result = merge_fields(base_with_write_in_flight(BASE, sent, sent), crm, sent)
    assert result.merged.subject == "v2"
    assert result.write_to_graph == ("subject",)
    assert result.write_to_crm == ()
    assert result.conflicts == ()


@settings(max_examples=300, deadline=None)
@given(base=snapshots, sent=snapshots, crm=snapshots)
def test_after_our_unrecorded_write_crm_edits_made_since_always_survive(
    base: EventSnapshot, sent: EventSnapshot, crm: EventSnapshot
) -> None:
    """Microsoft 365 holds exactly what we sent: whatever the CRM holds now wins without a
    conflict, and nothing we sent is written back to the CRM."""
    result = merge_fields(base_with_write_in_flight(base, sent, sent), crm, sent)
    assert result.conflicts == ()
    for name in SYNCED_FIELDS:
        if getattr(crm, name) != getattr(sent, name):
            assert getattr(result.merged, name) == getattr(crm, name)
            assert name in result.write_to_graph
        assert name not in result.write_to_crm


@settings(max_examples=300, deadline=None)
@given(base=snapshots, sent=snapshots, graph=snapshots)
def test_the_base_with_a_write_in_flight_only_takes_values_microsoft_365_holds(
    base: EventSnapshot, sent: EventSnapshot, graph: EventSnapshot
) -> None:
    settled = base_with_write_in_flight(base, sent, graph)
    for name in SYNCED_FIELDS:
        value = getattr(settled, name)
        assert value == getattr(base, name) or value == getattr(graph, name) == getattr(sent, name)
