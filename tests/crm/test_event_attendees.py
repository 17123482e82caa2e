"""Event attendees: records with their invitation address, bare emails matched to every record."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import AttendeeType, EventAttendee, ResponseStatus, User
from calsync.crm.services.event_input import AttendeeInput
from calsync.crm.services.events import create_event
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)
from tests.crm.conftest import bare, meeting


def _links(event_attendees: list[EventAttendee]) -> list[tuple[object, ...]]:
    return [
        (a.user_id, a.individual_id, a.contact_id, a.email, a.is_internal) for a in event_attendees
    ]


def test_a_record_attendee_is_invited_at_the_records_email(
    db_session: Session, advisor: User
) -> None:
    client = create_individual(
        db_session,
        IndividualInput(
            last_name="Hughes", email="oliver@hughes.example", alternate_email="o@work.example"
        ),
    )
    event = create_event(
        db_session,
        meeting(
            advisor,
            attendees=(
                AttendeeInput(individual_id=client.id, response_status="accepted"),
                AttendeeInput(individual_id=client.id),
            ),
        ),
    )
    assert _links(event.attendees) == [(None, client.id, None, "oliver@hughes.example", False)]
    assert event.attendees[0].response_status is ResponseStatus.ACCEPTED


def test_a_bare_address_becomes_every_record_it_belongs_to(
    db_session: Session, advisor: User, assistant: User
) -> None:
    client = create_individual(
        db_session, IndividualInput(last_name="Hughes", email="family@hughes.example")
    )
    contact = create_contact(
        db_session, ContactInput(last_name="Hughes", alternate_email="FAMILY@hughes.example")
    )
    event = create_event(
        db_session,
        meeting(
            advisor,
            attendees=(
                AttendeeInput(email=" Family@Hughes.example ", attendee_type="optional"),
                bare("TOM.BRANDT@kellerwealth.com"),
                bare("stranger@elsewhere.example"),
            ),
        ),
    )
    assert _links(event.attendees) == [
        (None, client.id, None, "Family@Hughes.example", False),
        (None, None, contact.id, "Family@Hughes.example", False),
        (assistant.id, None, None, "TOM.BRANDT@kellerwealth.com", True),
        (None, None, None, "stranger@elsewhere.example", False),
    ]
    assert {a.attendee_type for a in event.attendees[:2]} == {AttendeeType.OPTIONAL}
    assert event.attendees[3].is_bare_email


def test_the_same_person_given_twice_is_one_attendee(
    db_session: Session, advisor: User, assistant: User
) -> None:
    event = create_event(
        db_session,
        meeting(
            advisor,
            attendees=(
                AttendeeInput(user_id=assistant.id),
                bare("tom.brandt@kellerwealth.com"),
                bare("x@y.example"),
                bare("X@Y.example"),
            ),
        ),
    )
    assert [(a.user_id, a.email) for a in event.attendees] == [
        (assistant.id, "tom.brandt@kellerwealth.com"),
        (None, "x@y.example"),
    ]


@pytest.mark.parametrize(
    ("attendee", "field"),
    [
        (AttendeeInput(), "attendees[0].email"),
        (AttendeeInput(user_id=1, individual_id=1), "attendees[0]"),
        (
            AttendeeInput(email="a@b.example", response_status="maybe"),
            "attendees[0].response_status",
        ),
        (AttendeeInput(email="a@b.example", attendee_type="vip"), "attendees[0].attendee_type"),
        (AttendeeInput(individual_id=12, email="not-an-address"), "attendees[0].email"),
    ],
)
def test_bad_attendees_are_refused_naming_the_attendee(
    db_session: Session, advisor: User, attendee: AttendeeInput, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        create_event(db_session, meeting(advisor, attendees=(attendee,)))
    assert refused.value.field == field


def test_a_bare_address_matching_many_records_may_not_exceed_the_limit(
    db_session: Session, advisor: User
) -> None:
    for n in range(3):
        create_contact(
            db_session, ContactInput(last_name=f"Reception {n}", email="desk@tower.example")
        )
    guests = tuple(bare(f"guest{n}@hughes.example") for n in range(498))
    with pytest.raises(InvalidInputError) as refused:
        create_event(db_session, meeting(advisor, attendees=(bare("desk@tower.example"), *guests)))
    assert refused.value.field == "attendees"
    assert "501" in refused.value.message
