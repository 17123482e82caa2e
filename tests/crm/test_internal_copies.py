"""Internal attendees' read-only copies (SPEC §6): exactly one each, following the owner's event."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.errors import ReadOnlyCopyError
from calsync.crm.models import Event, Origin, SyncStatus, User
from calsync.crm.services.event_input import AttendeeInput, event_input_of
from calsync.crm.services.event_sync_state import mark_synced
from calsync.crm.services.events import create_event, delete_event, update_event
from calsync.crm.services.users import create_user
from tests.crm.conftest import bare, meeting


def _copies(session: Session, event: Event) -> list[Event]:
    return list(
        session.scalars(
            select(Event).where(Event.copy_of_event_id == event.id).order_by(Event.owner_id)
        )
    )


def test_each_internal_attendee_but_the_owner_gets_one_copy(
    db_session: Session, advisor: User, assistant: User
) -> None:
    event = create_event(
        db_session,
        meeting(
            advisor,
            attendees=(
                AttendeeInput(user_id=advisor.id),
                AttendeeInput(user_id=assistant.id),
                bare("tom.brandt@KELLERWEALTH.com"),
                bare("oliver@hughes.example"),
            ),
        ),
    )
    db_session.commit()
    [copy] = _copies(db_session, event)
    assert copy.owner_id == assistant.id
    assert (copy.subject, copy.start_at, copy.time_zone) == (
        event.subject,
        event.start_at,
        event.time_zone,
    )
    assert copy.sync_status is SyncStatus.NOT_SYNCED
    assert "Maria Keller" in (copy.sync_message or "")
    assert [a.email for a in copy.attendees] == [a.email for a in event.attendees]


def test_copies_follow_the_owners_changes_and_attendee_list(
    db_session: Session, advisor: User, assistant: User
) -> None:
    ana = create_user(
        db_session, name="Ana Silva", email="ana@kellerwealth.com", time_zone="Europe/Lisbon"
    )
    event = create_event(
        db_session, meeting(advisor, attendees=(AttendeeInput(user_id=assistant.id),))
    )
    [tom_copy] = _copies(db_session, event)
    update_event(
        db_session,
        event.id,
        1,
        dataclasses.replace(
            event_input_of(event),
            subject="Review moved",
            attendees=(AttendeeInput(user_id=ana.id),),
        ),
    )
    db_session.commit()
    [ana_copy] = _copies(db_session, event)
    assert (ana_copy.owner_id, ana_copy.subject) == (ana.id, "Review moved")
    assert db_session.get(Event, tom_copy.id) is None


def test_a_copy_cannot_be_edited_or_deleted_directly(
    db_session: Session, advisor: User, assistant: User
) -> None:
    event = create_event(
        db_session, meeting(advisor, attendees=(AttendeeInput(user_id=assistant.id),))
    )
    [copy] = _copies(db_session, event)
    db_session.commit()
    with pytest.raises(ReadOnlyCopyError) as refused:
        update_event(
            db_session,
            copy.id,
            copy.version,
            dataclasses.replace(event_input_of(copy), subject="Mine"),
        )
    assert refused.value.code == "read_only_copy"
    assert "Maria Keller" in refused.value.message
    with pytest.raises(ReadOnlyCopyError):
        delete_event(db_session, copy.id)
    with pytest.raises(ReadOnlyCopyError):
        mark_synced(db_session, copy.id)
    db_session.commit()
    assert copy.subject == "Annual portfolio review"


def test_deleting_the_owners_event_deletes_the_copies(
    db_session: Session, advisor: User, assistant: User
) -> None:
    event = create_event(
        db_session, meeting(advisor, attendees=(AttendeeInput(user_id=assistant.id),))
    )
    db_session.commit()
    delete_event(db_session, event.id)
    db_session.commit()
    assert db_session.scalars(select(Event)).all() == []


def test_events_from_microsoft365_get_no_copies(
    db_session: Session, advisor: User, assistant: User
) -> None:
    event = create_event(
        db_session,
        meeting(advisor, attendees=(AttendeeInput(user_id=assistant.id),)),
        origin=Origin.MICROSOFT365,
    )
    assert _copies(db_session, event) == []


def test_sync_facts_reach_the_copies(db_session: Session, advisor: User, assistant: User) -> None:
    event = create_event(
        db_session, meeting(advisor, attendees=(AttendeeInput(user_id=assistant.id),))
    )
    [copy] = _copies(db_session, event)
    version = copy.version
    mark_synced(db_session, event.id)
    assert copy.version == version + 1
    assert copy.sync_status is SyncStatus.NOT_SYNCED


@pytest.fixture
def staff(db_session: Session, advisor: User, assistant: User) -> list[User]:
    """Four staff users who invite each other."""
    others = [
        create_user(
            db_session,
            name=name,
            email=f"{name.split()[0].lower()}@kellerwealth.com",
            time_zone="UTC",
        )
        for name in ("Ana Silva", "Ben Okafor")
    ]
    db_session.commit()
    return [advisor, assistant, *others]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    saves=st.lists(
        st.tuples(st.integers(min_value=0, max_value=3), st.lists(st.integers(0, 3), max_size=5)),
        min_size=1,
        max_size=4,
    )
)
def test_copies_always_match_the_internal_attendees(
    db_session: Session, staff: list[User], saves: list[tuple[int, list[int]]]
) -> None:
    owner_index, attendee_indexes = saves[0]
    event = create_event(
        db_session,
        meeting(
            staff[owner_index],
            attendees=tuple(AttendeeInput(user_id=staff[i].id) for i in attendee_indexes),
        ),
    )
    for number, (owner_index, attendee_indexes) in enumerate(saves):
        if number:
            update_event(
                db_session,
                event.id,
                event.version,
                dataclasses.replace(
                    event_input_of(event),
                    owner_id=staff[owner_index].id,
                    subject=f"Review, version {number}",
                    attendees=tuple(AttendeeInput(user_id=staff[i].id) for i in attendee_indexes),
                ),
            )
        db_session.commit()
        expected = {staff[i].id for i in attendee_indexes} - {staff[owner_index].id}
        copies = _copies(db_session, event)
        assert sorted(copy.owner_id for copy in copies) == sorted(expected)
        assert all(copy.subject == event.subject for copy in copies)
    delete_event(db_session, event.id)
    db_session.commit()
