"""Decisions for one event: what is written where, and what the sync log says about it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from calsync.sync.actions import (
    CreateInCrm,
    CreateInGraph,
    DeleteInCrm,
    DeleteInGraph,
    DeleteMethod,
    ForgetLink,
    MarkNotSynced,
    NoticeCode,
    SaveLink,
    SetTeamsJoinUrl,
    Severity,
    UpdateInCrm,
    UpdateInGraph,
)
from calsync.sync.errors import InconsistentSyncState, InvalidEventData
from calsync.sync.fields import ShowAs
from calsync.sync.plan import (
    crm_event_id_from_transaction_id,
    plan_event,
    plan_graph_write_result,
    plan_push,
    transaction_id_for,
)
from calsync.sync.recurrence import (
    PatternType,
    RangeType,
    Recurrence,
    RecurrencePattern,
    RecurrenceRange,
    Weekday,
)
from calsync.sync.state import (
    CrmDeleted,
    EventState,
    GraphDeleted,
    GraphEventType,
    MeetingContext,
    Origin,
)
from tests.sync.events import (
    ADVISOR,
    ASSISTANT,
    at,
    crm_event,
    graph_event,
    link_for,
    review_meeting,
)

BASE = review_meeting()
JOIN_URL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_N2Ji%40thread.v2/0"
WEEKLY_STANDUP = Recurrence(
    RecurrencePattern(PatternType.WEEKLY, 2, frozenset({Weekday.MONDAY, Weekday.WEDNESDAY})),
    RecurrenceRange(RangeType.END_DATE, date(2027, 3, 15), end_date=date(2027, 6, 30)),
)


# CRM-origin creation (SPEC §2) ----------------------------------------------------------------


def test_a_crm_created_event_is_pushed_at_once_with_a_transaction_id_from_its_outbox_entry() -> (
    None
):
    plan = plan_event(EventState(crm=crm_event(BASE), outbox_entry_id="outbox-77"))
    [create] = plan.actions
    assert isinstance(create, CreateInGraph)
    assert create.mailbox == ADVISOR
    assert create.snapshot == BASE
    assert create.transaction_id == transaction_id_for("outbox-77", "evt-1001")
    assert isinstance(plan.link, SaveLink)
    assert plan.link.crm_event_id == "evt-1001"
    assert plan.link.graph_id is None
    assert plan.link.origin is Origin.CRM


def test_a_retried_push_sends_the_same_transaction_id() -> None:
    first = plan_event(EventState(crm=crm_event(BASE), outbox_entry_id="outbox-77"))
    retry = plan_event(EventState(crm=crm_event(BASE), outbox_entry_id="outbox-77"))
    assert first.actions == retry.actions
    other = plan_event(EventState(crm=crm_event(BASE), outbox_entry_id="outbox-78"))
    assert other.actions != first.actions


def test_the_transaction_id_names_the_crm_event_it_was_created_from() -> None:
    transaction_id = transaction_id_for("outbox-77", "evt.with.dots-1001")
    assert crm_event_id_from_transaction_id(transaction_id) == "evt.with.dots-1001"
    assert crm_event_id_from_transaction_id(None) is None
    assert crm_event_id_from_transaction_id("7E163156-7762-4BEB-A1C6-729EA81755A7") is None
    assert crm_event_id_from_transaction_id("calsync.evt-1.not-a-digest") is None


def test_creating_without_an_outbox_entry_is_refused_so_no_retry_can_duplicate() -> None:
    with pytest.raises(InconsistentSyncState) as error:
        plan_event(EventState(crm=crm_event(BASE)))
    assert error.value.field == "outbox_entry_id"


def test_a_crm_recurring_event_is_never_pushed_and_shows_why() -> None:
    plan = plan_event(
        EventState(crm=crm_event(BASE, has_crm_recurrence=True), outbox_entry_id="outbox-9")
    )
    [mark] = plan.actions
    assert isinstance(mark, MarkNotSynced)
    assert mark.reason_code == "crm_recurrence_not_synced"
    assert "not synced to Microsoft 365" in mark.message
    assert plan.link is None


def test_the_read_only_copy_of_a_crm_multi_user_event_is_not_synced() -> None:
    copy = crm_event(
        BASE, event_id="evt-1002", owner_mailbox=ASSISTANT, internal_copy_of="evt-1001"
    )
    assert plan_event(EventState(crm=copy, outbox_entry_id="outbox-9")).writes_nothing


def test_an_unlinked_microsoft_365_event_in_the_crm_is_not_pushed_back() -> None:
    plan = plan_event(
        EventState(crm=crm_event(BASE, origin=Origin.MICROSOFT_365), outbox_entry_id="o-1")
    )
    assert plan.actions == ()
    assert plan.notices[0].code is NoticeCode.UNLINKED_MICROSOFT_365_EVENT


# Microsoft 365-origin import (SPEC §2, §3) ----------------------------------------------------


def test_an_event_created_in_outlook_is_imported_into_the_crm() -> None:
    graph = graph_event(BASE, teams_join_url=JOIN_URL)
    plan = plan_event(EventState(graph=graph))
    [create] = plan.actions
    assert isinstance(create, CreateInCrm)
    assert create.owner_mailbox == ADVISOR
    assert create.origin is Origin.MICROSOFT_365
    assert create.snapshot == BASE
    assert create.teams_join_url == JOIN_URL
    assert isinstance(plan.link, SaveLink)
    assert plan.link.graph_id == graph.graph_id
    assert plan.link.change_key == graph.change_key
    assert plan.link.crm_event_id is None


def test_a_cancelled_outlook_event_that_was_never_synced_is_not_imported() -> None:
    assert plan_event(EventState(graph=graph_event(BASE, is_cancelled=True))).writes_nothing


def test_an_event_calsync_created_that_the_crm_lost_is_recreated_not_deleted() -> None:
    ours = graph_event(BASE, transaction_id=transaction_id_for("outbox-77", "evt-1001"))
    plan = plan_event(EventState(graph=ours))
    [create] = plan.actions
    assert isinstance(create, CreateInCrm)
    assert create.restores_crm_event_id == "evt-1001"
    assert create.origin is Origin.CRM
    assert plan.notices[0].code is NoticeCode.RESTORED_FROM_MICROSOFT_365
    assert isinstance(plan.link, SaveLink)
    assert plan.link.origin is Origin.CRM


def test_a_crash_between_create_and_link_is_healed_by_relinking_not_duplicating() -> None:
    ours = graph_event(BASE, transaction_id=transaction_id_for("outbox-77", "evt-1001"))
    plan = plan_event(EventState(crm=crm_event(BASE), graph=ours))
    assert plan.actions == ()
    assert isinstance(plan.link, SaveLink)
    assert plan.link.crm_event_id == "evt-1001"
    assert plan.link.graph_id == ours.graph_id


def test_an_event_created_in_graph_after_its_crm_event_was_deleted_is_removed_again() -> None:
    ours = graph_event(BASE, transaction_id=transaction_id_for("outbox-77", "evt-1001"))
    plan = plan_event(EventState(crm=CrmDeleted("evt-1001"), graph=ours))
    [delete] = plan.actions
    assert isinstance(delete, DeleteInGraph)
    assert delete.method is DeleteMethod.CANCEL
    assert plan.link is None


def test_a_tombstone_of_another_crm_event_cannot_delete_a_graph_event() -> None:
    ours = graph_event(BASE, transaction_id=transaction_id_for("outbox-77", "evt-1001"))
    with pytest.raises(InconsistentSyncState):
        plan_event(EventState(crm=CrmDeleted("evt-9999"), graph=ours))


# Re-linking after lost state (SPEC §7, §9) ----------------------------------------------------


def test_relinking_sends_nothing_to_graph_and_takes_the_outlook_values() -> None:
    crm = crm_event(review_meeting(location="Old office"))
    plan = plan_event(EventState(crm=crm, graph=graph_event(BASE)))
    assert not any(isinstance(action, UpdateInGraph | CreateInGraph) for action in plan.actions)
    [update] = plan.actions
    assert isinstance(update, UpdateInCrm)
    assert update.fields == ("location",)
    assert plan.notices[0].code is NoticeCode.RELINKED
    assert [conflict.field for conflict in plan.conflicts] == ["location"]
    assert isinstance(plan.link, SaveLink)
    assert plan.link.base == BASE
    assert plan.link.crm_version is None


def test_relinking_a_crm_event_to_an_event_in_another_mailbox_is_refused() -> None:
    with pytest.raises(InconsistentSyncState):
        plan_event(EventState(crm=crm_event(BASE), graph=graph_event(BASE, mailbox=ASSISTANT)))


# Three-way merge of linked events (SPEC §2) ---------------------------------------------------


def test_an_unchanged_event_writes_nothing_anywhere() -> None:
    plan = plan_event(EventState(link=link_for(BASE), crm=crm_event(BASE), graph=graph_event(BASE)))
    assert plan.writes_nothing
    assert plan.notices == ()


def test_a_new_change_key_with_the_same_content_writes_only_the_link() -> None:
    plan = plan_event(
        EventState(
            link=link_for(BASE),
            crm=crm_event(BASE, version=4),
            graph=graph_event(BASE, change_key="CQAAABYAAAB2"),
        )
    )
    assert plan.actions == ()
    assert isinstance(plan.link, SaveLink)
    assert plan.link.change_key == "CQAAABYAAAB2"
    assert plan.link.crm_version == 4


def test_a_crm_edit_is_patched_to_graph_with_if_match() -> None:
    crm = crm_event(review_meeting(location="Zoom"), version=4)
    plan = plan_event(EventState(link=link_for(BASE), crm=crm, graph=graph_event(BASE)))
    [patch] = plan.actions
    assert isinstance(patch, UpdateInGraph)
    assert patch.fields == ("location",)
    assert patch.snapshot.location == "Zoom"
    assert patch.if_match == "CQAAABYAAAB1"
    assert not patch.makes_exception
    assert isinstance(plan.link, SaveLink)
    assert plan.link.base.location == "Zoom"


def test_an_outlook_edit_is_written_to_the_crm_and_never_echoed_back() -> None:
    graph = graph_event(review_meeting(timing=at(14)), change_key="CQAAABYAAAB2")
    plan = plan_event(EventState(link=link_for(BASE), crm=crm_event(BASE), graph=graph))
    [update] = plan.actions
    assert isinstance(update, UpdateInCrm)
    assert update.fields == ("timing",)
    assert update.expected_version == 3
    assert isinstance(plan.link, SaveLink)
    assert plan.link.crm_version is None
    assert plan.link.change_key == "CQAAABYAAAB2"


def test_our_own_pushed_change_is_recognised_in_the_next_delta() -> None:
    pushed = review_meeting(location="Zoom")
    after_push = link_for(pushed, change_key="CQAAABYAAAB9", crm_version=4)
    echo = graph_event(pushed, change_key="CQAAABYAAAB9")
    plan = plan_event(EventState(link=after_push, crm=crm_event(pushed, version=4), graph=echo))
    assert plan.writes_nothing


def test_a_conflict_keeps_the_outlook_value_and_is_logged() -> None:
    crm = crm_event(review_meeting(subject="Review (CRM)"), version=4)
    graph = graph_event(review_meeting(subject="Review (Outlook)"), change_key="CQAAABYAAAB2")
    plan = plan_event(EventState(link=link_for(BASE), crm=crm, graph=graph))
    [update] = plan.actions
    assert isinstance(update, UpdateInCrm)
    assert update.snapshot.subject == "Review (Outlook)"
    [notice] = plan.notices
    assert notice.code is NoticeCode.CONFLICT_MICROSOFT_365_WON
    assert notice.severity is Severity.CONFLICT
    assert notice.field == "subject"
    assert "Review (CRM)" in notice.message


def test_the_teams_join_url_comes_back_to_the_crm() -> None:
    graph = graph_event(review_meeting(is_teams_meeting=True), teams_join_url=JOIN_URL)
    base = review_meeting(is_teams_meeting=True)
    plan = plan_event(EventState(link=link_for(base), crm=crm_event(base), graph=graph))
    assert SetTeamsJoinUrl("evt-1001", JOIN_URL) in plan.actions


def test_a_known_join_url_is_not_written_again() -> None:
    base = review_meeting(is_teams_meeting=True)
    plan = plan_event(
        EventState(
            link=link_for(base),
            crm=crm_event(base, teams_join_url=JOIN_URL),
            graph=graph_event(base, teams_join_url=JOIN_URL),
        )
    )
    assert plan.writes_nothing


# Teams (SPEC §4) ------------------------------------------------------------------------------


def test_checking_teams_in_the_crm_asks_graph_for_a_teams_meeting() -> None:
    crm = crm_event(review_meeting(is_teams_meeting=True), version=4)
    plan = plan_event(EventState(link=link_for(BASE), crm=crm, graph=graph_event(BASE)))
    [patch] = plan.actions
    assert isinstance(patch, UpdateInGraph)
    assert patch.fields == ("is_teams_meeting",)


def test_unchecking_teams_after_it_exists_in_microsoft_365_is_refused_and_reverted() -> None:
    base = review_meeting(is_teams_meeting=True)
    crm = crm_event(review_meeting(is_teams_meeting=False), version=4)
    plan = plan_event(EventState(link=link_for(base), crm=crm, graph=graph_event(base)))
    [revert] = plan.actions
    assert isinstance(revert, UpdateInCrm)
    assert revert.fields == ("is_teams_meeting",)
    assert revert.snapshot.is_teams_meeting is True
    [notice] = plan.notices
    assert notice.code is NoticeCode.TEAMS_CANNOT_BE_SWITCHED_OFF
    assert notice.severity is Severity.WARNING


def test_a_mailbox_that_cannot_host_teams_produces_a_visible_warning() -> None:
    requested = review_meeting(is_teams_meeting=True)
    save = SaveLink(
        base=requested, origin=Origin.CRM, mailbox=ADVISOR, crm_event_id="evt-1001", crm_version=3
    )
    response = graph_event(review_meeting(is_teams_meeting=False), change_key="CQAAABYAAAB5")
    plan = plan_graph_write_result(save, requested, response)
    [notice] = plan.notices
    assert notice.code is NoticeCode.TEAMS_NOT_AVAILABLE
    assert notice.severity is Severity.WARNING
    assert ADVISOR in notice.message
    [clear] = plan.actions
    assert isinstance(clear, UpdateInCrm)
    assert clear.snapshot.is_teams_meeting is False
    assert isinstance(plan.link, SaveLink)
    assert plan.link.base.is_teams_meeting is False
    assert plan.link.change_key == "CQAAABYAAAB5"
    assert plan.link.graph_id == response.graph_id


def test_a_teams_meeting_that_took_records_its_join_url_and_change_key() -> None:
    requested = review_meeting(is_teams_meeting=True)
    save = SaveLink(
        base=requested, origin=Origin.CRM, mailbox=ADVISOR, crm_event_id="evt-1001", crm_version=3
    )
    response = graph_event(requested, change_key="CQAAABYAAAB5", teams_join_url=JOIN_URL)
    plan = plan_graph_write_result(save, requested, response)
    assert plan.notices == ()
    assert plan.actions == (SetTeamsJoinUrl("evt-1001", JOIN_URL),)
    assert isinstance(plan.link, SaveLink)
    assert plan.link.base == requested
    assert plan.link.crm_version == 3


def test_a_write_result_without_the_crm_event_id_is_refused() -> None:
    save = SaveLink(base=BASE, origin=Origin.CRM, mailbox=ADVISOR)
    with pytest.raises(InconsistentSyncState):
        plan_graph_write_result(save, BASE, graph_event(BASE))


# Deletions (SPEC §2) --------------------------------------------------------------------------


def test_deleting_a_meeting_in_the_crm_cancels_it_in_outlook() -> None:
    plan = plan_event(
        EventState(link=link_for(BASE), crm=CrmDeleted("evt-1001"), graph=graph_event(BASE))
    )
    [cancel] = plan.actions
    assert isinstance(cancel, DeleteInGraph)
    assert cancel.method is DeleteMethod.CANCEL
    assert cancel.if_match == "CQAAABYAAAB1"
    assert isinstance(plan.link, ForgetLink)


def test_deleting_an_event_without_attendees_deletes_it_in_outlook() -> None:
    alone = review_meeting(attendees=frozenset())
    plan = plan_event(
        EventState(link=link_for(alone), crm=CrmDeleted("evt-1001"), graph=graph_event(alone))
    )
    [delete] = plan.actions
    assert isinstance(delete, DeleteInGraph)
    assert delete.method is DeleteMethod.DELETE


def test_deleting_an_attendee_version_removes_only_that_copy() -> None:
    link = link_for(BASE, is_organizer=False, mailbox=ASSISTANT)
    graph = graph_event(BASE, is_organizer=False, mailbox=ASSISTANT)
    plan = plan_event(EventState(link=link, crm=CrmDeleted("evt-1001"), graph=graph))
    [delete] = plan.actions
    assert isinstance(delete, DeleteInGraph)
    assert delete.method is DeleteMethod.DELETE
    assert delete.mailbox == ASSISTANT


def test_an_outlook_edit_of_an_event_deleted_in_the_crm_brings_it_back() -> None:
    graph = graph_event(review_meeting(timing=at(16)), change_key="CQAAABYAAAB2")
    plan = plan_event(EventState(link=link_for(BASE), crm=CrmDeleted("evt-1001"), graph=graph))
    [restore] = plan.actions
    assert isinstance(restore, CreateInCrm)
    assert restore.restores_crm_event_id == "evt-1001"
    assert restore.snapshot.timing == at(16)
    assert restore.origin is Origin.CRM
    assert isinstance(plan.link, SaveLink)
    assert plan.link.crm_event_id is None
    assert plan.notices[0].code is NoticeCode.RESTORED_BY_OUTLOOK_EDIT


def test_an_outlook_deletion_removes_the_crm_event() -> None:
    plan = plan_event(
        EventState(link=link_for(BASE), crm=crm_event(BASE), graph=GraphDeleted("AAMkAGI2TG93AAA="))
    )
    assert plan.actions == (DeleteInCrm("evt-1001", 3),)
    assert isinstance(plan.link, ForgetLink)
    assert plan.notices == ()


def test_an_outlook_deletion_wins_over_a_crm_edit_and_records_the_lost_edit() -> None:
    crm = crm_event(review_meeting(location="Zoom"), version=4)
    plan = plan_event(
        EventState(link=link_for(BASE), crm=crm, graph=GraphDeleted("AAMkAGI2TG93AAA="))
    )
    assert plan.actions == (DeleteInCrm("evt-1001", 4),)
    [notice] = plan.notices
    assert notice.code is NoticeCode.CRM_EDIT_LOST_TO_OUTLOOK_DELETION
    assert "location" in notice.message


def test_a_cancelled_meeting_counts_as_deleted_in_outlook() -> None:
    plan = plan_event(
        EventState(
            link=link_for(BASE), crm=crm_event(BASE), graph=graph_event(BASE, is_cancelled=True)
        )
    )
    assert plan.actions == (DeleteInCrm("evt-1001", 3),)


def test_an_event_deleted_on_both_sides_only_forgets_the_link() -> None:
    plan = plan_event(
        EventState(
            link=link_for(BASE), crm=CrmDeleted("evt-1001"), graph=GraphDeleted("AAMkAGI2TG93AAA=")
        )
    )
    assert plan.actions == ()
    assert isinstance(plan.link, ForgetLink)


# Recurring events (SPEC §5) -------------------------------------------------------------------


def test_an_outlook_series_becomes_a_crm_series_with_its_readable_summary() -> None:
    master = graph_event(
        review_meeting(recurrence=WEEKLY_STANDUP), event_type=GraphEventType.SERIES_MASTER
    )
    [create] = plan_event(EventState(graph=master)).actions
    assert isinstance(create, CreateInCrm)
    assert create.event_type is GraphEventType.SERIES_MASTER
    assert create.recurrence_summary == (
        "Every 2 weeks on Monday and Wednesday, until 30 June 2027"
    )


def test_an_occurrence_is_imported_into_its_series() -> None:
    occurrence = graph_event(
        BASE,
        graph_id="AAMkOcc1",
        event_type=GraphEventType.OCCURRENCE,
        series_master_id="AAMkMaster",
        original_start=datetime(2027, 3, 15, 14, tzinfo=UTC),
    )
    [create] = plan_event(EventState(graph=occurrence)).actions
    assert isinstance(create, CreateInCrm)
    assert create.series_master_graph_id == "AAMkMaster"
    assert create.original_start == datetime(2027, 3, 15, 14, tzinfo=UTC)
    assert create.recurrence_summary is None


def test_a_recurrence_change_from_the_crm_is_refused_and_changes_nothing_in_outlook() -> None:
    base = review_meeting(recurrence=WEEKLY_STANDUP)
    changed_rule = Recurrence(
        RecurrencePattern(PatternType.DAILY, 1),
        RecurrenceRange(RangeType.NO_END, date(2027, 3, 15)),
    )
    crm = crm_event(review_meeting(recurrence=changed_rule), version=4)
    master = graph_event(base, event_type=GraphEventType.SERIES_MASTER)
    plan = plan_event(
        EventState(
            link=link_for(base, event_type=GraphEventType.SERIES_MASTER), crm=crm, graph=master
        )
    )
    assert not any(isinstance(action, UpdateInGraph) for action in plan.actions)
    [revert] = plan.actions
    assert isinstance(revert, UpdateInCrm)
    assert revert.snapshot.recurrence == WEEKLY_STANDUP
    assert revert.recurrence_summary == "Every 2 weeks on Monday and Wednesday, until 30 June 2027"
    [notice] = plan.notices
    assert notice.code is NoticeCode.RECURRENCE_CHANGE_REFUSED
    assert "Change it in Outlook" in notice.message


def test_other_series_fields_edited_in_the_crm_are_pushed_to_the_master() -> None:
    base = review_meeting(recurrence=WEEKLY_STANDUP)
    crm = crm_event(review_meeting(recurrence=WEEKLY_STANDUP, location="Room 4"), version=4)
    master = graph_event(base, event_type=GraphEventType.SERIES_MASTER)
    link = link_for(base, event_type=GraphEventType.SERIES_MASTER)
    [patch] = plan_event(EventState(link=link, crm=crm, graph=master)).actions
    assert isinstance(patch, UpdateInGraph)
    assert patch.graph_id == master.graph_id
    assert patch.fields == ("location",)
    assert not patch.makes_exception


def test_an_occurrence_edited_in_the_crm_becomes_an_exception_in_outlook() -> None:
    occurrence = graph_event(
        BASE, event_type=GraphEventType.OCCURRENCE, series_master_id="AAMkMaster"
    )
    link = link_for(BASE, event_type=GraphEventType.OCCURRENCE, series_master_graph_id="AAMkMaster")
    crm = crm_event(review_meeting(timing=at(15)), version=4)
    [patch] = plan_event(EventState(link=link, crm=crm, graph=occurrence)).actions
    assert isinstance(patch, UpdateInGraph)
    assert patch.graph_id == occurrence.graph_id
    assert patch.makes_exception


def test_a_cancelled_occurrence_disappears_from_the_crm() -> None:
    occurrence = graph_event(
        BASE, event_type=GraphEventType.OCCURRENCE, series_master_id="AAMkMaster", is_cancelled=True
    )
    link = link_for(BASE, event_type=GraphEventType.OCCURRENCE)
    plan = plan_event(EventState(link=link, crm=crm_event(BASE), graph=occurrence))
    assert plan.actions == (DeleteInCrm("evt-1001", 3),)


def test_an_occurrence_without_its_series_master_is_bad_input() -> None:
    with pytest.raises(InvalidEventData, match="series master"):
        graph_event(BASE, event_type=GraphEventType.OCCURRENCE)


# Internal events (SPEC §6) --------------------------------------------------------------------


def test_the_invitation_copy_of_a_crm_meeting_is_not_imported_for_the_attendee() -> None:
    copy = graph_event(BASE, graph_id="AAMkCopy", mailbox=ASSISTANT, is_organizer=False)
    plan = plan_event(
        EventState(
            graph=copy,
            meeting=MeetingContext(organizer_mailbox_synced=True, organizer_copy_origin=Origin.CRM),
        )
    )
    assert plan.actions == ()
    assert plan.notices[0].code is NoticeCode.INVITATION_COPY_NOT_IMPORTED


def test_an_invitation_copy_carrying_our_transaction_id_is_not_imported() -> None:
    copy = graph_event(
        BASE,
        graph_id="AAMkCopy",
        mailbox=ASSISTANT,
        is_organizer=False,
        transaction_id=transaction_id_for("outbox-77", "evt-1001"),
    )
    plan = plan_event(EventState(graph=copy))
    assert plan.actions == ()
    assert plan.notices[0].code is NoticeCode.INVITATION_COPY_NOT_IMPORTED


def test_an_attendee_copy_waits_until_the_organizers_copy_is_linked() -> None:
    copy = graph_event(BASE, graph_id="AAMkCopy", mailbox=ASSISTANT, is_organizer=False)
    plan = plan_event(EventState(graph=copy, meeting=MeetingContext(organizer_mailbox_synced=True)))
    assert plan.actions == ()
    assert plan.notices[0].code is NoticeCode.WAITING_FOR_ORGANIZER_COPY


def test_an_internal_attendees_copy_of_an_outlook_meeting_becomes_their_own_version() -> None:
    copy = graph_event(BASE, graph_id="AAMkCopy", mailbox=ASSISTANT, is_organizer=False)
    plan = plan_event(
        EventState(
            graph=copy,
            meeting=MeetingContext(
                organizer_mailbox_synced=True, organizer_copy_origin=Origin.MICROSOFT_365
            ),
        )
    )
    [create] = plan.actions
    assert isinstance(create, CreateInCrm)
    assert create.owner_mailbox == ASSISTANT
    assert create.as_attendee_version
    assert create.ical_uid == copy.ical_uid


def test_an_external_organizers_meeting_is_imported_for_the_internal_attendee() -> None:
    copy = graph_event(BASE, mailbox=ASSISTANT, is_organizer=False)
    plan = plan_event(
        EventState(graph=copy, meeting=MeetingContext(organizer_mailbox_synced=False))
    )
    [create] = plan.actions
    assert isinstance(create, CreateInCrm)
    assert not create.as_attendee_version


def test_an_attendees_crm_edit_of_the_subject_stays_in_the_crm() -> None:
    link = link_for(BASE, mailbox=ASSISTANT, is_organizer=False, origin=Origin.MICROSOFT_365)
    copy = graph_event(BASE, mailbox=ASSISTANT, is_organizer=False)
    crm = crm_event(review_meeting(subject="Gonzalez review (prep notes)"), version=4)
    plan = plan_event(EventState(link=link, crm=crm, graph=copy))
    assert plan.actions == ()
    assert isinstance(plan.link, SaveLink)
    assert plan.link.base.subject == BASE.subject
    again = replace(link, crm_version=4)
    assert plan_event(EventState(link=again, crm=crm, graph=copy)).writes_nothing


def test_an_attendees_own_show_as_is_pushed_to_their_copy() -> None:
    link = link_for(BASE, mailbox=ASSISTANT, is_organizer=False, origin=Origin.MICROSOFT_365)
    copy = graph_event(BASE, mailbox=ASSISTANT, is_organizer=False)
    crm = crm_event(review_meeting(show_as=ShowAs.FREE, subject="Mine"), version=4)
    [patch] = plan_event(EventState(link=link, crm=crm, graph=copy)).actions
    assert isinstance(patch, UpdateInGraph)
    assert patch.fields == ("show_as",)


def test_a_later_organizer_update_overrides_the_attendees_edit() -> None:
    link = link_for(BASE, mailbox=ASSISTANT, is_organizer=False, origin=Origin.MICROSOFT_365)
    crm = crm_event(review_meeting(subject="Gonzalez review (prep notes)"), version=4)
    organizer_update = graph_event(
        review_meeting(subject="Gonzalez review – moved upstairs"),
        mailbox=ASSISTANT,
        is_organizer=False,
        change_key="CQAAABYAAAB7",
    )
    plan = plan_event(EventState(link=link, crm=crm, graph=organizer_update))
    [update] = plan.actions
    assert isinstance(update, UpdateInCrm)
    assert update.snapshot.subject == "Gonzalez review – moved upstairs"


# Push path (outbox worker) --------------------------------------------------------------------


def test_a_push_patches_against_the_last_synced_change_key() -> None:
    link = link_for(BASE)
    crm = crm_event(review_meeting(location="Zoom"), version=4)
    [patch] = plan_push(link, crm).actions
    assert isinstance(patch, UpdateInGraph)
    assert patch.if_match == link.change_key
    assert patch.fields == ("location",)


def test_a_pushed_crm_deletion_cancels_with_if_match() -> None:
    plan = plan_push(link_for(BASE), CrmDeleted("evt-1001"))
    [cancel] = plan.actions
    assert isinstance(cancel, DeleteInGraph)
    assert cancel.if_match == "CQAAABYAAAB1"
    assert isinstance(plan.link, ForgetLink)


def test_a_push_of_an_unlinked_event_creates_it() -> None:
    [create] = plan_push(None, crm_event(BASE), outbox_entry_id="outbox-5").actions
    assert isinstance(create, CreateInGraph)


def test_a_push_of_a_deleted_never_synced_event_writes_nothing() -> None:
    assert plan_push(None, CrmDeleted("evt-1001")).writes_nothing


def test_a_push_that_changes_no_synced_field_writes_nothing() -> None:
    assert plan_push(link_for(BASE), crm_event(BASE, version=9)).actions == ()


# Runner mistakes are refused before anything is written ---------------------------------------


def test_states_of_two_different_events_are_refused() -> None:
    with pytest.raises(InconsistentSyncState) as error:
        plan_event(
            EventState(
                link=link_for(BASE), crm=crm_event(BASE, event_id="evt-2"), graph=graph_event(BASE)
            )
        )
    assert error.value.field == "crm"
    with pytest.raises(InconsistentSyncState) as error:
        plan_event(
            EventState(
                link=link_for(BASE), crm=crm_event(BASE), graph=graph_event(BASE, graph_id="other")
            )
        )
    assert error.value.field == "graph"


def test_a_linked_event_without_the_graph_side_is_refused() -> None:
    with pytest.raises(InconsistentSyncState, match="plan_push"):
        plan_event(EventState(link=link_for(BASE), crm=crm_event(BASE)))


def test_a_teams_meeting_microsoft_365_added_on_its_own_is_shown_in_the_crm() -> None:
    requested = review_meeting(is_teams_meeting=False)
    save = SaveLink(
        base=requested, origin=Origin.CRM, mailbox=ADVISOR, crm_event_id="evt-1001", crm_version=3
    )
    response = graph_event(
        review_meeting(is_teams_meeting=True), change_key="CQAAABYAAAB5", teams_join_url=JOIN_URL
    )
    plan = plan_graph_write_result(save, requested, response)
    assert plan.notices[0].code is NoticeCode.TEAMS_ADDED_BY_MICROSOFT_365
    assert plan.actions == (
        UpdateInCrm("evt-1001", 3, ("is_teams_meeting",), review_meeting(is_teams_meeting=True)),
        SetTeamsJoinUrl("evt-1001", JOIN_URL),
    )


def test_the_write_result_keeps_the_attendee_copys_local_fields_in_the_base() -> None:
    base_with_graph_subject = review_meeting(show_as=ShowAs.FREE)
    save = SaveLink(
        base=base_with_graph_subject,
        origin=Origin.MICROSOFT_365,
        mailbox=ASSISTANT,
        crm_event_id="evt-1001",
        crm_version=4,
        is_organizer=False,
    )
    requested = review_meeting(subject="Gonzalez review (prep notes)", show_as=ShowAs.FREE)
    response = graph_event(review_meeting(show_as=ShowAs.FREE), mailbox=ASSISTANT)
    plan = plan_graph_write_result(save, requested, response)
    assert isinstance(plan.link, SaveLink)
    assert plan.link.base.subject == base_with_graph_subject.subject
    assert plan.actions == ()


def test_the_read_only_copy_of_a_microsoft_365_meeting_is_not_synced_either() -> None:
    copy = crm_event(
        BASE,
        event_id="evt-1003",
        owner_mailbox=ASSISTANT,
        origin=Origin.MICROSOFT_365,
        internal_copy_of="evt-1001",
    )
    assert plan_event(EventState(crm=copy)).writes_nothing
    assert plan_event(EventState(crm=copy)).notices == ()


def test_an_attendee_cannot_make_the_organizers_meeting_a_teams_meeting() -> None:
    link = link_for(BASE, mailbox=ASSISTANT, is_organizer=False, origin=Origin.MICROSOFT_365)
    copy = graph_event(BASE, mailbox=ASSISTANT, is_organizer=False)
    crm = crm_event(review_meeting(is_teams_meeting=True), version=4)
    plan = plan_event(EventState(link=link, crm=crm, graph=copy))
    [revert] = plan.actions
    assert isinstance(revert, UpdateInCrm)
    assert revert.snapshot.is_teams_meeting is False
    [notice] = plan.notices
    assert notice.code is NoticeCode.TEAMS_CHANGE_REFUSED_FOR_ATTENDEE
    assert ADVISOR in notice.message
