"""A push's write in flight: what the push commits before sending, and how the next run tells its
own unrecorded write from an Outlook edit (the crash between a Graph write and its record)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from calsync.sync.actions import (
    CreateInGraph,
    DeleteInGraph,
    DeleteMethod,
    NoticeCode,
    SaveLink,
    UpdateInCrm,
    UpdateInGraph,
)
from calsync.sync.errors import InconsistentSyncState
from calsync.sync.fields import ShowAs
from calsync.sync.plan import (
    pending_write_of,
    plan_event,
    plan_push,
    settle_pending_write,
    transaction_id_for,
)
from calsync.sync.state import CrmDeleted, EventState, PendingWrite
from tests.sync.events import at, crm_event, graph_event, link_for, review_meeting

BASE = review_meeting()
SENT = review_meeting(subject="Review moved to Friday", timing=at(14))
"""What the crashed push sent: the CRM at version 4."""
NEWER = review_meeting(subject="Review on Friday with the accountant", timing=at(14))
"""What the CRM holds now, version 5: edited again after the crash."""
WRITTEN = "CQAAABYAAAB2"
"""Graph's change key after our unrecorded write."""


def test_a_crm_edit_made_after_our_unrecorded_write_wins_and_nothing_echoes() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    plan = plan_event(
        EventState(
            link=link,
            crm=crm_event(NEWER, version=5),
            graph=graph_event(SENT, change_key=WRITTEN),
        )
    )
    [update] = plan.actions
    assert isinstance(update, UpdateInGraph)
    assert update.fields == ("subject",)
    assert update.snapshot.subject == NEWER.subject
    assert update.if_match == WRITTEN
    assert plan.conflicts == ()
    assert isinstance(plan.link, SaveLink)
    assert plan.link.base == NEWER


def test_our_unrecorded_write_alone_writes_nothing_but_saves_the_link() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    plan = plan_event(
        EventState(
            link=link,
            crm=crm_event(SENT, version=4),
            graph=graph_event(SENT, change_key=WRITTEN),
        )
    )
    assert plan.actions == ()
    assert plan.notices == ()
    assert isinstance(plan.link, SaveLink)
    assert (plan.link.base, plan.link.change_key) == (SENT, WRITTEN)


def test_a_write_that_never_arrived_is_merged_against_the_recorded_base() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    plan = plan_event(
        EventState(link=link, crm=crm_event(NEWER, version=5), graph=graph_event(BASE))
    )
    [update] = plan.actions
    assert isinstance(update, UpdateInGraph)
    assert update.fields == ("subject", "timing")
    assert isinstance(plan.link, SaveLink)  # saved, which clears the write in flight


def test_an_outlook_edit_after_our_unrecorded_write_wins_its_field_without_a_conflict() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    outlook = replace(SENT, location="Conference room B")
    plan = plan_event(
        EventState(
            link=link, crm=crm_event(NEWER, version=5), graph=graph_event(outlook, change_key="k3")
        )
    )
    [to_graph] = [action for action in plan.actions if isinstance(action, UpdateInGraph)]
    [to_crm] = [action for action in plan.actions if isinstance(action, UpdateInCrm)]
    assert (to_graph.fields, to_crm.fields) == (("subject",), ("location",))
    assert plan.conflicts == ()


def test_a_crm_deletion_after_our_unrecorded_write_cancels_instead_of_restoring() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    plan = plan_event(
        EventState(
            link=link, crm=CrmDeleted("evt-1001"), graph=graph_event(SENT, change_key=WRITTEN)
        )
    )
    [cancel] = plan.actions
    assert isinstance(cancel, DeleteInGraph)
    assert cancel.method is DeleteMethod.CANCEL
    assert all(notice.code is not NoticeCode.RESTORED_BY_OUTLOOK_EDIT for notice in plan.notices)


def test_planning_again_after_the_settled_link_is_saved_writes_nothing() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    graph = graph_event(SENT, change_key=WRITTEN)
    save = plan_event(EventState(link=link, crm=crm_event(SENT, version=4), graph=graph)).link
    assert isinstance(save, SaveLink)
    saved = link_for(save.base, change_key=save.change_key, crm_version=4)
    again = plan_event(EventState(link=saved, crm=crm_event(SENT, version=4), graph=graph))
    assert again.writes_nothing
    assert again.link is None


# The push: settle first, then If-Match on the version read ----------------------------------


def test_the_push_refuses_a_link_whose_last_write_is_unsettled() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    with pytest.raises(InconsistentSyncState) as raised:
        plan_push(link, crm_event(NEWER, version=5))
    assert raised.value.field == "pending"


def test_settling_our_write_makes_it_the_base_and_the_push_patches_on_top() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    settled = settle_pending_write(link, graph_event(SENT, change_key=WRITTEN))
    assert settled is not None
    assert (settled.base, settled.change_key, settled.crm_version) == (SENT, WRITTEN, 4)
    assert settled.pending is None
    [update] = plan_push(settled, crm_event(NEWER, version=5)).actions
    assert isinstance(update, UpdateInGraph)
    assert (update.fields, update.if_match) == (("subject",), WRITTEN)


def test_settling_a_write_that_never_arrived_keeps_the_base_with_the_new_change_key() -> None:
    """An attendee's reply changes the change key but no synced field."""
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    settled = settle_pending_write(link, graph_event(BASE, change_key="k-reply"))
    assert settled is not None
    assert (settled.base, settled.change_key, settled.crm_version) == (BASE, "k-reply", 3)


def test_an_event_also_changed_in_outlook_cannot_be_settled_by_the_push() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    outlook = replace(SENT, show_as=ShowAs.FREE)
    assert settle_pending_write(link, graph_event(outlook, change_key="k3")) is None


def test_settling_a_link_without_a_write_in_flight_changes_nothing() -> None:
    link = link_for(BASE)
    assert settle_pending_write(link, graph_event(SENT, change_key=WRITTEN)) is link


def test_settling_against_another_event_is_refused() -> None:
    link = link_for(BASE, pending=PendingWrite(SENT, crm_version=4))
    with pytest.raises(InconsistentSyncState):
        settle_pending_write(link, graph_event(SENT, graph_id="AAMkOTHER="))


# What the push commits before sending ---------------------------------------------------------


def test_an_update_commits_what_the_event_will_hold_in_graph() -> None:
    plan = plan_push(link_for(BASE), crm_event(SENT, version=4))
    assert pending_write_of(plan, 4) == PendingWrite(SENT, 4)


def test_an_attendees_update_commits_the_organizers_fields_as_graph_keeps_them() -> None:
    link = link_for(BASE, is_organizer=False)
    crm = crm_event(review_meeting(subject="My own title", show_as=ShowAs.FREE), version=4)
    plan = plan_push(link, crm)
    pending = pending_write_of(plan, 4)
    assert pending is not None
    assert (pending.snapshot.subject, pending.snapshot.show_as) == (BASE.subject, ShowAs.FREE)


def test_a_create_commits_its_snapshot_and_transaction_id() -> None:
    plan = plan_push(None, crm_event(SENT, version=4), outbox_entry_id="outbox-7")
    assert pending_write_of(plan, 4) == PendingWrite(
        SENT, 4, transaction_id_for("outbox-7", "evt-1001")
    )


def test_a_deletion_commits_nothing() -> None:
    plan = plan_push(link_for(BASE), CrmDeleted("evt-1001"))
    assert pending_write_of(plan, 3) is None


# Creates ---------------------------------------------------------------------------------------


def test_a_retried_create_sends_exactly_what_the_first_attempt_sent() -> None:
    transaction_id = transaction_id_for("outbox-7", "evt-1001")
    crm = crm_event(NEWER, version=5, pending_create=PendingWrite(SENT, 4, transaction_id))
    plan = plan_push(None, crm, outbox_entry_id="outbox-7")
    [create] = plan.actions
    assert isinstance(create, CreateInGraph)
    assert (create.snapshot, create.transaction_id) == (SENT, transaction_id)
    assert isinstance(plan.link, SaveLink)
    assert (plan.link.base, plan.link.crm_version) == (SENT, 4)


def test_a_create_committed_under_another_transaction_id_is_refused() -> None:
    other = transaction_id_for("outbox-6", "evt-1001")
    crm = crm_event(NEWER, version=5, pending_create=PendingWrite(SENT, 4, other))
    with pytest.raises(InconsistentSyncState) as raised:
        plan_push(None, crm, outbox_entry_id="outbox-7")
    assert raised.value.field == "pending_create"


def test_relinking_our_crashed_create_keeps_the_newer_crm_edit_and_sends_it() -> None:
    transaction_id = transaction_id_for("outbox-7", "evt-1001")
    crm = crm_event(NEWER, version=5, pending_create=PendingWrite(SENT, 4, transaction_id))
    graph = graph_event(SENT, change_key=WRITTEN, transaction_id=transaction_id)
    plan = plan_event(EventState(crm=crm, graph=graph))
    [update] = plan.actions
    assert isinstance(update, UpdateInGraph)
    assert (update.fields, update.if_match) == (("subject",), WRITTEN)
    assert plan.conflicts == ()
    assert plan.notices[0].code is NoticeCode.RELINKED
    assert isinstance(plan.link, SaveLink)
    assert (plan.link.graph_id, plan.link.base) == (graph.graph_id, NEWER)


def test_relinking_without_our_create_in_flight_still_lets_microsoft_365_win() -> None:
    other = transaction_id_for("outbox-6", "evt-1001")
    crm = crm_event(NEWER, version=5, pending_create=PendingWrite(SENT, 4, other))
    graph = graph_event(SENT, transaction_id=transaction_id_for("outbox-7", "evt-1001"))
    plan = plan_event(EventState(crm=crm, graph=graph))
    assert not any(isinstance(action, UpdateInGraph) for action in plan.actions)
    assert [conflict.field for conflict in plan.conflicts] == ["subject"]
