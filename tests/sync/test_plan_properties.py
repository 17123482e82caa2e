"""Properties of the per-event plan: applying a plan converges, and nothing echoes or duplicates."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.sync.actions import (
    CreateInCrm,
    CreateInGraph,
    EventPlan,
    SaveLink,
    UpdateInCrm,
    UpdateInGraph,
)
from calsync.sync.fields import EventSnapshot
from calsync.sync.plan import plan_event
from calsync.sync.state import CrmEvent, EventState, GraphEvent, SyncLink
from tests.sync.events import crm_event, graph_event, link_for
from tests.sync.strategies import snapshots


def apply(
    plan: EventPlan, link: SyncLink, crm: CrmEvent, graph: GraphEvent
) -> tuple[SyncLink, CrmEvent, GraphEvent]:
    """Apply a plan the way a runner must: writes first, then the link with the write results."""
    for action in plan.actions:
        if isinstance(action, UpdateInCrm):
            values = {name: getattr(action.snapshot, name) for name in action.fields}
            crm = replace(crm, snapshot=replace(crm.snapshot, **values), version=crm.version + 1)
        elif isinstance(action, UpdateInGraph):
            assert action.if_match == graph.change_key
            values = {name: getattr(action.snapshot, name) for name in action.fields}
            graph = replace(
                graph,
                snapshot=replace(graph.snapshot, **values),
                change_key=f"{graph.change_key}+",
            )
    if isinstance(plan.link, SaveLink):
        link = replace(
            link,
            base=plan.link.base,
            change_key=graph.change_key,
            crm_version=crm.version,
        )
    return link, crm, graph


@settings(max_examples=300, deadline=None)
@given(
    base=snapshots,
    crm_now=snapshots,
    graph_now=snapshots,
    is_organizer=st.booleans(),
)
def test_after_applying_a_plan_the_next_run_writes_nothing(
    base: EventSnapshot, crm_now: EventSnapshot, graph_now: EventSnapshot, is_organizer: bool
) -> None:
    link = link_for(base, is_organizer=is_organizer)
    crm = crm_event(crm_now)
    graph = graph_event(graph_now, change_key="CK-2", is_organizer=is_organizer)
    plan = plan_event(EventState(link=link, crm=crm, graph=graph))
    assert not any(isinstance(action, CreateInCrm | CreateInGraph) for action in plan.actions)
    link, crm, graph = apply(plan, link, crm, graph)
    again = plan_event(EventState(link=link, crm=crm, graph=graph))
    assert again.writes_nothing, again


@settings(max_examples=300, deadline=None)
@given(base=snapshots, crm_now=snapshots, graph_now=snapshots)
def test_organizer_copies_agree_after_one_plan(
    base: EventSnapshot, crm_now: EventSnapshot, graph_now: EventSnapshot
) -> None:
    link = link_for(base)
    plan = plan_event(
        EventState(link=link, crm=crm_event(crm_now), graph=graph_event(graph_now, change_key="K"))
    )
    _, crm, graph = apply(plan, link, crm_event(crm_now), graph_event(graph_now, change_key="K"))
    assert crm.snapshot == graph.snapshot


@settings(max_examples=200, deadline=None)
@given(base=snapshots, graph_now=snapshots)
def test_a_change_pulled_from_outlook_is_never_written_back_to_outlook(
    base: EventSnapshot, graph_now: EventSnapshot
) -> None:
    plan = plan_event(
        EventState(link=link_for(base), crm=crm_event(base), graph=graph_event(graph_now))
    )
    assert not any(isinstance(action, UpdateInGraph) for action in plan.actions)


@settings(max_examples=200, deadline=None)
@given(base=snapshots, crm_now=snapshots)
def test_a_crm_change_is_never_written_back_to_the_crm_unless_refused(
    base: EventSnapshot, crm_now: EventSnapshot
) -> None:
    plan = plan_event(
        EventState(link=link_for(base), crm=crm_event(crm_now), graph=graph_event(base))
    )
    for action in plan.actions:
        if isinstance(action, UpdateInCrm):
            assert set(action.fields) <= {"recurrence", "is_teams_meeting"}
            assert {notice.field for notice in plan.notices} >= set(action.fields)
