"""Creating, changing and deleting events (SPEC §1, §4, §5, §6).

Every change is checked in full before anything is written, moves the event to a new `version`
(an update names the version it was based on and is refused if someone else saved in between),
and rewrites the internal attendees' copies. Copies themselves cannot be edited or deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from calsync.crm.errors import (
    InvalidInputError,
    ReadOnlyCopyError,
    RecurrenceManagedInMicrosoft365Error,
    TeamsInvitationSentError,
    VersionConflictError,
)
from calsync.crm.models import Event, EventAttendee, Origin, SyncStatus, User
from calsync.crm.services.event_input import EventInput
from calsync.crm.services.event_rules import CRM_RECURRENCE_NOT_SYNCED, CheckedEvent, check_event
from calsync.crm.services.internal_copies import refresh_internal_copies
from calsync.crm.services.validation import require

SERIES_RECURRENCE_MESSAGE = (
    "the recurrence of this series is managed in Microsoft 365; change it in Outlook"
)


def get_event(session: Session, event_id: int) -> Event:
    """The event with `event_id`; raises NotFoundError if there is none."""
    return require(session, Event, event_id, "event_id")


def refuse_copy(session: Session, event: Event) -> None:
    """Raise ReadOnlyCopyError if `event` is an internal attendee's copy."""
    if event.copy_of_event_id is None:
        return
    original = session.get(Event, event.copy_of_event_id)
    owner = session.get(User, original.owner_id) if original is not None else None
    whose = f"{owner.name}'s" if owner is not None else "another user's"
    raise ReadOnlyCopyError(
        f"this is a read-only copy of {whose} event; only the owner can change or delete it"
    )


def _check_version(event: Event, expected_version: int) -> None:
    if event.version != expected_version:
        raise VersionConflictError(
            f"the event was changed by someone else since you opened it (it is now at version "
            f"{event.version}, yours was {expected_version}); reload it and try again",
            field="version",
        )


def _refuse_recurrence_change(event: Event, checked: CheckedEvent) -> None:
    if checked.recurrence_rule == event.recurrence_rule:
        return
    if event.m365_recurrence_summary is not None or event.series_event_id is not None:
        raise RecurrenceManagedInMicrosoft365Error(
            SERIES_RECURRENCE_MESSAGE, field="recurrence_rule"
        )
    if event.origin is Origin.MICROSOFT365 or event.sync_status is SyncStatus.SYNCED:
        raise RecurrenceManagedInMicrosoft365Error(
            "this event is in Microsoft 365, so its recurrence is managed there; set it in Outlook",
            field="recurrence_rule",
        )


TEAMS_LOCKED_MESSAGE = (
    "the invitation with the Teams meeting has already been sent, so Teams Meeting can no "
    "longer be unchecked"
)


def teams_meeting_locked(event: Event) -> bool:
    """Whether Teams Meeting can no longer be unchecked (SPEC §4): the invitation went out."""
    return event.is_teams_meeting and event.invitation_sent_at is not None


def _refuse_teams_removal(event: Event, checked: CheckedEvent) -> None:
    if teams_meeting_locked(event) and not checked.is_teams_meeting:
        raise TeamsInvitationSentError(TEAMS_LOCKED_MESSAGE, field="is_teams_meeting")


def _sync_state(checked: CheckedEvent, changed_in: Origin) -> tuple[SyncStatus, str | None]:
    if checked.recurrence_rule is not None:
        return SyncStatus.NOT_SYNCED, CRM_RECURRENCE_NOT_SYNCED
    if changed_in is Origin.MICROSOFT365:
        return SyncStatus.SYNCED, None
    return SyncStatus.PENDING, None


def _store(event: Event, checked: CheckedEvent, changed_in: Origin) -> None:
    event.owner_id = checked.owner.id
    event.subject = checked.subject
    event.description = checked.description
    event.location = checked.location
    event.time_zone = checked.zone.key
    event.is_all_day = checked.is_all_day
    event.start_at = checked.times.start_at
    event.end_at = checked.times.end_at
    event.start_date = checked.times.start_date
    event.end_date = checked.times.end_date
    event.show_as = checked.show_as
    event.is_private = checked.is_private
    event.is_teams_meeting = checked.is_teams_meeting
    if not checked.is_teams_meeting:
        event.teams_join_url = None
    event.recurrence_rule = checked.recurrence_rule
    event.recurrence_end_at = checked.recurrence_end_at
    event.sync_status, event.sync_message = _sync_state(checked, changed_in)
    event.attendees = [
        EventAttendee(
            position=position,
            user_id=planned.user_id,
            individual_id=planned.individual_id,
            contact_id=planned.contact_id,
            email=planned.email,
            email_normalized=planned.email_normalized,
            name=planned.name,
            attendee_type=planned.attendee_type,
            response_status=planned.response_status,
            is_internal=planned.is_internal,
        )
        for position, planned in enumerate(checked.attendees)
    ]


def create_event(
    session: Session,
    data: EventInput,
    *,
    origin: Origin = Origin.CRM,
    series_event_id: int | None = None,
    original_start: datetime | None = None,
) -> Event:
    """Create an event after checking all of it; returns it at version 1.

    The sync engine passes `origin=Origin.MICROSOFT365` for events arriving from Outlook (they are
    stored as synced), and for an occurrence or exception of a Microsoft 365 series the series'
    event (`series_event_id`) and the occurrence's `original_start`.
    """
    checked = check_event(session, data)
    if origin is Origin.MICROSOFT365 and checked.recurrence_rule is not None:
        raise InvalidInputError(
            "events from Microsoft 365 carry their recurrence as a summary, not a CRM rule",
            field="recurrence_rule",
        )
    if series_event_id is not None:
        series = get_event(session, series_event_id)
        if series.origin is not Origin.MICROSOFT365:
            raise InvalidInputError(
                "only events from Microsoft 365 can be occurrences of a series",
                field="series_event_id",
            )
    if original_start is not None and original_start.tzinfo is None:
        raise InvalidInputError("must include a time zone", field="original_start")
    event = Event(
        origin=origin,
        series_event_id=series_event_id,
        original_start=original_start,
        version=1,
    )
    _store(event, checked, origin)
    session.add(event)
    session.flush()
    refresh_internal_copies(session, event)
    return event


def update_event(
    session: Session,
    event_id: int,
    expected_version: int,
    data: EventInput,
    *,
    changed_in: Origin = Origin.CRM,
) -> Event:
    """Replace the editable fields of an event that is still at `expected_version`.

    Refused, with nothing changed: a copy (`read_only_copy`), a stale version
    (`version_conflict`), clearing Teams Meeting after the invitation went out
    (`teams_invitation_sent`), changing the recurrence of an event that lives in Microsoft 365
    (`recurrence_managed_in_microsoft365`), and any invalid field. The sync engine passes
    `changed_in=Origin.MICROSOFT365` for changes that came from Outlook (they stay synced).
    """
    event = get_event(session, event_id)
    refuse_copy(session, event)
    _check_version(event, expected_version)
    checked = check_event(session, data)
    _refuse_recurrence_change(event, checked)
    _refuse_teams_removal(event, checked)
    _store(event, checked, changed_in)
    event.version = expected_version + 1
    flush_event_changes(session)
    refresh_internal_copies(session, event)
    return event


def delete_event(session: Session, event_id: int, expected_version: int | None = None) -> None:
    """Delete an event with its attendees' copies (and, for a series, its occurrences).

    With `expected_version`, refuse if someone else saved the event in between.
    """
    event = get_event(session, event_id)
    refuse_copy(session, event)
    if expected_version is not None:
        _check_version(event, expected_version)
    dependants = session.scalars(
        select(Event).where(
            (Event.copy_of_event_id == event.id) | (Event.series_event_id == event.id)
        )
    ).all()
    # Occurrences of a series never have copies of their own (see internal_copies), so one level
    # of dependants is all there is.
    for dependant in dependants:
        session.delete(dependant)
    # Dependants first, in their own flush: the unit of work does not order rows of one table
    # linked only by a foreign key, and the database cascade would otherwise remove them first.
    flush_event_changes(session)
    session.delete(event)
    flush_event_changes(session)


def flush_event_changes(session: Session) -> None:
    """Flush, turning a concurrent save caught by the version column into VersionConflictError."""
    try:
        session.flush()
    except StaleDataError:
        raise VersionConflictError(
            "the event was changed by someone else while saving; reload it and try again",
            field="version",
        ) from None
