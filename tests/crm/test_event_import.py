"""Creating many Microsoft 365 events at once: the same checks and stored values as `create_event`,
each refused event reported on its own naming its field, the others written."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError, NotFoundError
from calsync.crm.matching import Match, match_emails
from calsync.crm.models import Event, EventAttendee, Origin, SyncStatus, User
from calsync.crm.services.event_import import ImportedEvent, import_events
from calsync.crm.services.event_input import AttendeeInput
from calsync.crm.services.events import create_event, get_event
from calsync.crm.services.people import IndividualInput, create_individual
from tests.crm.conftest import bare, meeting

STORED_FIELDS = (
    "owner_id",
    "subject",
    "description",
    "location",
    "time_zone",
    "is_all_day",
    "start_at",
    "end_at",
    "start_date",
    "end_date",
    "show_as",
    "is_private",
    "is_teams_meeting",
    "origin",
    "sync_status",
    "recurrence_rule",
)
ATTENDEE_FIELDS = (
    "position",
    "user_id",
    "individual_id",
    "contact_id",
    "email",
    "email_normalized",
    "name",
    "attendee_type",
    "response_status",
    "is_internal",
)


def _count(session: Session, model: type[Event] | type[EventAttendee]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _client(session: Session) -> int:
    client = create_individual(
        session,
        IndividualInput(
            first_name="Ada",
            last_name="Lindqvist",
            email="ada@lindqvist.example",
            alternate_email="ada.home@mail.example",
        ),
    )
    session.commit()
    return client.id


def test_imported_events_are_stored_as_create_event_stores_them(
    db_session: Session, advisor: User, assistant: User
) -> None:
    client = _client(db_session)
    data = meeting(
        advisor,
        attendees=(
            bare("ADA.HOME@mail.example"),
            bare("stranger@elsewhere.example"),
            AttendeeInput(user_id=assistant.id, response_status="accepted"),
        ),
        show_as="tentative",
    )
    reference = create_event(db_session, data, origin=Origin.MICROSOFT365)
    db_session.commit()

    [outcome] = import_events(db_session, [ImportedEvent(data=data)])
    db_session.commit()
    db_session.expire_all()

    assert outcome.error is None
    assert outcome.event_id is not None
    imported = get_event(db_session, outcome.event_id)
    expected = get_event(db_session, reference.id)
    for name in STORED_FIELDS:
        assert getattr(imported, name) == getattr(expected, name), name
    assert imported.version == 1
    assert imported.sync_status is SyncStatus.SYNCED
    assert [tuple(getattr(a, n) for n in ATTENDEE_FIELDS) for a in imported.attendees] == [
        tuple(getattr(a, n) for n in ATTENDEE_FIELDS) for a in expected.attendees
    ]
    assert imported.attendees[0].individual_id == client
    assert imported.attendees[0].email == "ADA.HOME@mail.example"
    assert imported.attendees[2].is_internal
    # Events from Microsoft 365 never hand out internal copies (SPEC §6).
    assert db_session.scalar(select(Event).where(Event.copy_of_event_id == imported.id)) is None


def test_each_refused_event_names_its_field_and_nothing_of_it_is_written(
    db_session: Session, advisor: User
) -> None:
    crm_series = create_event(db_session, meeting(advisor, subject="CRM-made"))
    db_session.commit()
    before = (_count(db_session, Event), _count(db_session, EventAttendee))
    good = ImportedEvent(data=meeting(advisor, attendees=(bare("ok@fabrikam.example"),)))
    items = [
        ImportedEvent(data=meeting(advisor, subject="x" * 300, attendees=(bare("a@b.example"),))),
        good,
        ImportedEvent(data=meeting(advisor, attendees=(bare("not an address"),))),
        ImportedEvent(data=meeting(advisor, recurrence_rule="FREQ=WEEKLY;COUNT=3")),
        ImportedEvent(data=meeting(advisor), series_event_id=crm_series.id),
        ImportedEvent(data=meeting(advisor), series_event_id=999_999),
        ImportedEvent(data=meeting(advisor), original_start=datetime(2026, 3, 10, 10, 0)),
        ImportedEvent(data=meeting(advisor), teams_join_url="https://teams.example/join/1"),
        ImportedEvent(
            data=meeting(advisor, is_teams_meeting=True), teams_join_url="teams.example/1"
        ),
    ]

    outcomes = import_events(db_session, items)
    db_session.commit()

    fields = [outcome.error.field if outcome.error else None for outcome in outcomes]
    assert fields == [
        "subject",
        None,
        "attendees[0].email",
        "recurrence_rule",
        "series_event_id",
        "series_event_id",
        "original_start",
        "teams_join_url",
        "teams_join_url",
    ]
    assert isinstance(outcomes[5].error, NotFoundError)
    assert all(
        isinstance(outcome.error, InvalidInputError | NotFoundError)
        for outcome in outcomes
        if outcome.error
    )
    assert (_count(db_session, Event), _count(db_session, EventAttendee)) == (
        before[0] + 1,
        before[1] + 1,
    )
    assert outcomes[1].event_id is not None


def test_a_series_and_its_occurrences_come_in_with_the_sync_records(
    db_session: Session, advisor: User
) -> None:
    sent = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    [master] = import_events(
        db_session,
        [
            ImportedEvent(
                data=meeting(advisor, subject="Weekly planning", is_teams_meeting=True),
                recurrence_summary="Every week on Tuesday, 3 times",
                teams_join_url="https://teams.example/join/weekly",
                invitation_sent_at=sent,
            )
        ],
    )
    assert master.event_id is not None
    occurrences = import_events(
        db_session,
        [
            ImportedEvent(
                data=meeting(advisor, subject="Weekly planning", start=start, end=end),
                series_event_id=master.event_id,
                original_start=start.replace(tzinfo=UTC),
            )
            for start, end in (
                (datetime(2026, 3, 17, 10, 0), datetime(2026, 3, 17, 11, 0)),
                (datetime(2026, 3, 24, 10, 0), datetime(2026, 3, 24, 11, 0)),
            )
        ],
    )
    db_session.commit()
    db_session.expire_all()

    series = get_event(db_session, master.event_id)
    assert series.m365_recurrence_summary == "Every week on Tuesday, 3 times"
    assert series.teams_join_url == "https://teams.example/join/weekly"
    assert series.invitation_sent_at == sent
    ids = [outcome.event_id for outcome in occurrences]
    assert None not in ids
    assert ids == sorted(ids)
    stored = [get_event(db_session, event_id) for event_id in ids if event_id is not None]
    assert [event.series_event_id for event in stored] == [master.event_id] * 2
    assert [event.original_start for event in stored] == [
        datetime(2026, 3, 17, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 24, 10, 0, tzinfo=UTC),
    ]
    # Each new id belongs to the item at the same position (the start dates say which is which).
    assert [event.start_at.day for event in stored] == [17, 24]


def test_addresses_matched_by_the_caller_are_not_matched_again(
    db_session: Session, advisor: User
) -> None:
    client = _client(db_session)
    known = match_emails(db_session, ["ada@lindqvist.example"])
    attendees = (bare("ada@lindqvist.example"), bare("ADA.HOME@mail.example"))
    stale_view: dict[str, list[Match]] = {address: [] for address in known}  # before the record

    [with_known] = import_events(
        db_session, [ImportedEvent(data=meeting(advisor, attendees=attendees))], matches=stale_view
    )
    db_session.commit()
    db_session.expire_all()

    assert with_known.event_id is not None
    stored = get_event(db_session, with_known.event_id).attendees
    # The address the caller matched is taken as given; the other is matched here.
    assert [(a.email, a.individual_id) for a in stored] == [
        ("ada@lindqvist.example", None),
        ("ADA.HOME@mail.example", client),
    ]


def test_records_an_import_names_are_checked_for_every_event_that_names_them(
    db_session: Session, advisor: User, assistant: User
) -> None:
    client = _client(db_session)
    items = [
        ImportedEvent(data=meeting(advisor, attendees=(AttendeeInput(individual_id=client),))),
        ImportedEvent(data=meeting(advisor, owner_id=999_999)),
        ImportedEvent(data=meeting(advisor, attendees=(AttendeeInput(user_id=999_998),))),
        ImportedEvent(data=meeting(advisor, attendees=(AttendeeInput(contact_id=999_997),))),
        ImportedEvent(
            data=meeting(
                assistant,
                attendees=(bare("x@fabrikam.example"), AttendeeInput(individual_id=client)),
            )
        ),
        ImportedEvent(data=meeting(advisor, attendees=(AttendeeInput(individual_id=client),))),
    ]

    outcomes = import_events(db_session, items)
    db_session.commit()
    db_session.expire_all()

    assert [outcome.error.field if outcome.error else None for outcome in outcomes] == [
        None,
        "owner_id",
        "attendees[0].user_id",
        "attendees[0].contact_id",
        None,
        None,
    ]
    assert all(isinstance(o.error, NotFoundError) for o in outcomes if o.error)
    written = [get_event(db_session, o.event_id) for o in outcomes if o.event_id is not None]
    assert [event.owner_id for event in written] == [advisor.id, assistant.id, advisor.id]
    # A record named by several events is the same attendee on each, at its record's address.
    assert [[(a.individual_id, a.email) for a in event.attendees] for event in written] == [
        [(client, "ada@lindqvist.example")],
        [(None, "x@fabrikam.example"), (client, "ada@lindqvist.example")],
        [(client, "ada@lindqvist.example")],
    ]
