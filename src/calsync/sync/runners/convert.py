"""Translating between the stores and the core: CRM rows and Graph events in, Graph drafts out.

The core compares snapshots; these functions build them from what each side stores, following the
recipe of docs/sync-engine.md §4, and turn the core's snapshots back into what Graph accepts.

One deliberate choice: the version stamp handed to the core as `change_key` is Graph's
`@odata.etag` (falling back to `changeKey`). The core uses that value only for If-Match and to see
whether the link moved, and If-Match needs the etag, which the emulator and Graph spell differently
from the change key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Contact, Event, EventAttendee, Individual, User
from calsync.crm.models import Origin as CrmOrigin
from calsync.graph.drafts import DraftAttendee, EventDraft
from calsync.graph.models import Event as GraphModelEvent
from calsync.graph.models import ItemBody, Location
from calsync.sync.attendees import (
    AttendeeRole,
    CrmInvitee,
    GraphAttendee,
    RecordKind,
    RecordRef,
    snapshot_attendees_from_crm,
    snapshot_attendees_of_addresses,
)
from calsync.sync.fields import (
    AllDaySpan,
    EventSnapshot,
    ShowAs,
    TimedSpan,
    body_text,
    is_private_sensitivity,
    is_teams_meeting,
    online_meeting_fields,
    sensitivity_for,
)
from calsync.sync.plan import transaction_id_for
from calsync.sync.recurrence import Recurrence
from calsync.sync.state import (
    CrmEvent,
    GraphEvent,
    GraphEventType,
    Origin,
    PendingWrite,
    SyncLink,
)
from calsync.sync.storage.models import LinkOrigin, OutboxEntry, SyncLinkRecord
from calsync.sync.storage.snapshots import snapshot_from_json, snapshot_to_json


def core_origin(origin: CrmOrigin | LinkOrigin) -> Origin:
    return Origin.CRM if origin.value == Origin.CRM.value else Origin.MICROSOFT_365


def link_origin(origin: Origin) -> LinkOrigin:
    return LinkOrigin.CRM if origin is Origin.CRM else LinkOrigin.MICROSOFT_365


def crm_origin(origin: Origin) -> CrmOrigin:
    return CrmOrigin.CRM if origin is Origin.CRM else CrmOrigin.MICROSOFT365


def sync_link_of(record: SyncLinkRecord) -> SyncLink:
    """The core's view of a stored link, with the write in flight it records, if any."""
    pending = None
    if record.pending_snapshot is not None and record.pending_crm_version is not None:
        pending = PendingWrite(
            snapshot_from_json(record.pending_snapshot), record.pending_crm_version
        )
    return SyncLink(
        crm_event_id=str(record.crm_event_id),
        mailbox=record.mailbox,
        graph_id=record.graph_id,
        base=snapshot_from_json(record.base),
        origin=core_origin(record.origin),
        crm_version=record.crm_version,
        change_key=record.etag,
        ical_uid=record.ical_uid,
        is_organizer=record.is_organizer,
        event_type=GraphEventType(record.event_type),
        series_master_graph_id=record.series_master_graph_id,
        pending=pending,
    )


def record_pending_write(
    target: SyncLinkRecord | OutboxEntry, pending: PendingWrite | None
) -> None:
    """Store (or, with None, clear) a write in flight on a link row, or on the outbox entry whose
    id gives a create its transactionId."""
    target.pending_snapshot = snapshot_to_json(pending.snapshot) if pending is not None else None
    target.pending_crm_version = pending.crm_version if pending is not None else None


def pending_create_of(session: Session, crm_event_id: int) -> PendingWrite | None:
    """The create the push committed to for an unlinked CRM event, if its outcome is unknown.

    It sits on the event's oldest outbox entry, whose id the create's transactionId comes from.
    """
    entry = session.scalar(
        select(OutboxEntry)
        .where(OutboxEntry.crm_event_id == crm_event_id)
        .order_by(OutboxEntry.id)
        .limit(1)
    )
    if entry is None or entry.pending_snapshot is None or entry.pending_crm_version is None:
        return None
    return PendingWrite(
        snapshot_from_json(entry.pending_snapshot),
        entry.pending_crm_version,
        transaction_id_for(str(entry.id), str(crm_event_id)),
    )


_ROLE_OF_TYPE = {role.value: role for role in AttendeeRole}


def graph_attendees_of(event: GraphModelEvent) -> list[GraphAttendee]:
    """Graph's attendee list as the core's `GraphAttendee`s (entries without an address dropped;
    an attendee `type` the core does not know counts as required)."""
    result: list[GraphAttendee] = []
    for attendee in event.attendees or ():
        email = attendee.email_address
        if email is None or not email.address or not email.address.strip():
            continue
        role = _ROLE_OF_TYPE.get(attendee.type or "", AttendeeRole.REQUIRED)
        response = attendee.status.response if attendee.status else None
        result.append(GraphAttendee(email.address, email.name or "", role, response or "none"))
    return result


def _attendee_addresses(event: GraphModelEvent) -> list[str]:
    """The addresses of `graph_attendees_of(event)`, without building the attendees."""
    return [
        attendee.email_address.address
        for attendee in event.attendees or ()
        if attendee.email_address is not None
        and attendee.email_address.address
        and attendee.email_address.address.strip()
    ]


def organizer_of(event: GraphModelEvent) -> str | None:
    if event.organizer is None or event.organizer.email_address is None:
        return None
    return event.organizer.email_address.address


def _timing_of(event: GraphModelEvent) -> TimedSpan | AllDaySpan:
    """The event's span as the core compares it. A timed span holds instants, so a timed event's
    times are taken as Graph sent them, without first showing them in the event's own zone
    (`Event.times()`), which the span would only turn back into UTC."""
    if event.is_all_day or event.start is None or event.end is None:
        times = event.times()  # raises naming start or end when one is missing
        if times.is_all_day and times.start_date is not None and times.end_date is not None:
            return AllDaySpan(times.start_date, times.end_date)
        return TimedSpan(times.start, times.end, times.zone.zone.key)
    zone = event.event_zone().zone
    return TimedSpan(event.start.to_datetime(), event.end.to_datetime(), zone.key)


def graph_event_of(event: GraphModelEvent, mailbox: str) -> GraphEvent:
    """The core's view of a Graph event read from `mailbox` (raises a `SyncError` or `ValueError`
    naming the field when the event cannot be read)."""
    timing = _timing_of(event)
    event_type = GraphEventType(event.type or GraphEventType.SINGLE_INSTANCE.value)
    recurrence = None
    if event_type is GraphEventType.SERIES_MASTER and event.recurrence is not None:
        recurrence = Recurrence.from_graph(event.recurrence.to_graph())
    organizer = organizer_of(event)
    body = event.body
    snapshot = EventSnapshot(
        subject=event.subject or "",
        timing=timing,
        body=body_text(body.content, body.content_type) if body else "",
        location=event.location.display_name or "" if event.location else "",
        show_as=ShowAs.parse(event.show_as or "busy", field_name="showAs"),
        is_private=is_private_sensitivity(event.sensitivity),
        is_teams_meeting=is_teams_meeting(event.is_online_meeting, event.online_meeting_provider),
        attendees=snapshot_attendees_of_addresses(_attendee_addresses(event), organizer, mailbox),
        recurrence=recurrence,
    )
    return GraphEvent(
        graph_id=event.id,
        mailbox=mailbox,
        snapshot=snapshot,
        change_key=event.etag or event.change_key,
        ical_uid=event.ical_uid,
        event_type=event_type,
        series_master_id=event.series_master_id,
        original_start=event.original_start,
        is_organizer=event.is_organizer if event.is_organizer is not None else True,
        organizer_address=organizer,
        is_cancelled=bool(event.is_cancelled),
        teams_join_url=event.join_url,
        transaction_id=event.transaction_id,
    )


def invitees_of(session: Session, event: Event) -> list[CrmInvitee]:
    """Who a CRM event invites, and at which address: the attendee's stored address (by default
    the `email` of its record), a User at their mailbox (SPEC §2, §3)."""
    result: list[CrmInvitee] = []
    for attendee in event.attendees:
        result.append(_invitee(session, attendee))
    return result


def _invitee(session: Session, attendee: EventAttendee) -> CrmInvitee:
    if attendee.user_id is not None:
        user = session.get(User, attendee.user_id)
        address = user.email if user is not None else attendee.email
        return CrmInvitee(RecordRef(RecordKind.USER, str(attendee.user_id)), address)
    if attendee.individual_id is not None:
        individual = session.get(Individual, attendee.individual_id)
        address = attendee.email or (individual.email if individual is not None else None)
        return CrmInvitee(RecordRef(RecordKind.INDIVIDUAL, str(attendee.individual_id)), address)
    if attendee.contact_id is not None:
        contact = session.get(Contact, attendee.contact_id)
        address = attendee.email or (contact.email if contact is not None else None)
        return CrmInvitee(RecordRef(RecordKind.CONTACT, str(attendee.contact_id)), address)
    return CrmInvitee(None, attendee.email)


def crm_timing(event: Event) -> TimedSpan | AllDaySpan:
    if event.is_all_day and event.start_date is not None and event.end_date is not None:
        return AllDaySpan(event.start_date, event.end_date)
    return TimedSpan(event.start_at, event.end_at, event.time_zone)


def crm_event_of(
    session: Session, event: Event, owner_mailbox: str, link: SyncLink | None
) -> CrmEvent:
    """The core's view of a CRM event (with its create in flight when it has no link yet).

    A Microsoft 365 series keeps its recurrence only in the link's base (the CRM stores the readable
    summary), so the base's recurrence stands in for the CRM's: the CRM cannot change it anyway.
    """
    snapshot = EventSnapshot(
        subject=event.subject,
        timing=crm_timing(event),
        body=event.description or "",
        location=event.location or "",
        show_as=ShowAs.parse(event.show_as.value),
        is_private=event.is_private,
        is_teams_meeting=event.is_teams_meeting,
        attendees=snapshot_attendees_from_crm(invitees_of(session, event), owner_mailbox),
        recurrence=link.base.recurrence if link is not None else None,
    )
    return CrmEvent(
        event_id=str(event.id),
        version=event.version,
        owner_mailbox=owner_mailbox,
        snapshot=snapshot,
        origin=core_origin(event.origin),
        has_crm_recurrence=event.recurrence_rule is not None,
        internal_copy_of=str(event.copy_of_event_id) if event.copy_of_event_id else None,
        teams_join_url=event.teams_join_url,
        pending_create=pending_create_of(session, event.id) if link is None else None,
    )


_DRAFT_FIELDS = frozenset(
    {"subject", "body", "location", "timing", "show_as", "is_private", "is_teams_meeting"}
)


def draft_of(
    snapshot: EventSnapshot,
    fields: Sequence[str],
    *,
    all_day_zone: str,
) -> EventDraft:
    """The Graph draft writing `fields` of `snapshot` (every field for a create).

    Times go out in the event's own zone so Outlook shows 10:00 Eastern as 10:00 Eastern (SPEC §2);
    attendees are invited at the addresses the snapshot holds; Teams is only ever switched on.
    """
    wanted = set(fields)
    values: dict[str, object] = {}
    if "subject" in wanted:
        values["subject"] = snapshot.subject
    if "body" in wanted:
        values["body"] = ItemBody(content_type="text", content=snapshot.body)
    if "location" in wanted:
        values["location"] = Location(display_name=snapshot.location)
    if "timing" in wanted:
        timing = snapshot.timing
        start: datetime | date
        end: datetime | date
        if isinstance(timing, AllDaySpan):
            start, end, zone, all_day = timing.first_day, timing.end_day, all_day_zone, True
        else:
            start, end, zone, all_day = (
                timing.local_start(),
                timing.local_end(),
                timing.time_zone,
                False,
            )
        values.update(start=start, end=end, time_zone=zone, is_all_day=all_day)
    if "show_as" in wanted:
        values["show_as"] = snapshot.show_as.value
    if "is_private" in wanted:
        values["sensitivity"] = sensitivity_for(snapshot.is_private)
    if "is_teams_meeting" in wanted and snapshot.is_teams_meeting:
        teams = online_meeting_fields(True)
        values["is_online_meeting"] = teams["isOnlineMeeting"]
        values["online_meeting_provider"] = teams["onlineMeetingProvider"]
    if "attendees" in wanted:
        values["attendees"] = tuple(
            DraftAttendee(address)
            for address in sorted(attendee.address for attendee in snapshot.attendees)
        )
    return EventDraft(**values)  # type: ignore[arg-type]


def draft_is_empty(draft: EventDraft) -> bool:
    return not draft.to_graph()


ALL_FIELDS: tuple[str, ...] = (*sorted(_DRAFT_FIELDS), "attendees")
