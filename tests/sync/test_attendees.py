"""Attendee matching from Microsoft 365 (SPEC §3) and invitations from the CRM (SPEC §2)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.sync.attendees import (
    AttendeeRole,
    CrmAttendee,
    CrmInvitee,
    GraphAttendee,
    RecordKind,
    RecordRef,
    crm_attendees_from_graph,
    graph_attendees_from_crm,
    snapshot_attendees_from_crm,
    snapshot_attendees_from_graph,
)
from calsync.sync.errors import InvalidAttendee
from calsync.sync.fields import AttendeeKind, SyncedAttendee

DANA = RecordRef(RecordKind.USER, "user-dana")
LI = RecordRef(RecordKind.USER, "user-li")
MARIA = RecordRef(RecordKind.INDIVIDUAL, "ind-maria")
OKAFOR = RecordRef(RecordKind.CONTACT, "con-okafor")
OKAFOR_AS_CLIENT = RecordRef(RecordKind.INDIVIDUAL, "ind-okafor")

MATCHES = {
    "dana.whitfield@harborwealth.example": [DANA],
    "li.chen@harborwealth.example": [LI],
    "maria.gonzalez@gmail.example": [MARIA],
    "maria@gonzalez-family.example": [MARIA],
    "p.okafor@okafor-cpa.example": [OKAFOR, OKAFOR_AS_CLIENT],
}


def test_every_record_matching_an_address_becomes_an_attendee() -> None:
    result = crm_attendees_from_graph(
        [GraphAttendee("p.okafor@okafor-cpa.example")],
        organizer=None,
        matches=MATCHES,
    )
    assert [attendee.record for attendee in result] == [OKAFOR, OKAFOR_AS_CLIENT]


def test_matching_ignores_case_and_surrounding_space() -> None:
    result = crm_attendees_from_graph(
        [GraphAttendee("  Maria.Gonzalez@GMAIL.example ")], organizer=None, matches=MATCHES
    )
    assert result == (CrmAttendee("maria.gonzalez@gmail.example", MARIA, is_internal=False),)


def test_a_lookup_keyed_with_odd_case_still_matches() -> None:
    result = crm_attendees_from_graph(
        [GraphAttendee("maria.gonzalez@gmail.example")],
        organizer=None,
        matches={" Maria.Gonzalez@Gmail.Example": [MARIA]},
    )
    assert result[0].record == MARIA


def test_a_user_match_is_internal() -> None:
    [li] = crm_attendees_from_graph(
        [GraphAttendee("li.chen@harborwealth.example", response="accepted")],
        organizer=None,
        matches=MATCHES,
    )
    assert li.is_internal
    assert li.response == "accepted"


def test_an_unmatched_address_is_kept_as_a_plain_email_attendee() -> None:
    [stranger] = crm_attendees_from_graph(
        [GraphAttendee("New.Prospect@Example.org")], organizer=None, matches=MATCHES
    )
    assert stranger == CrmAttendee("new.prospect@example.org", None, is_internal=False)


def test_the_organizer_counts_as_an_attendee_and_comes_first() -> None:
    result = crm_attendees_from_graph(
        [GraphAttendee("li.chen@harborwealth.example")],
        organizer="Dana.Whitfield@harborwealth.example",
        matches=MATCHES,
        owner_mailbox="li.chen@harborwealth.example",
    )
    assert result == (
        CrmAttendee(
            "dana.whitfield@harborwealth.example",
            DANA,
            is_internal=True,
            is_organizer=True,
            response="organizer",
        ),
    )


def test_the_event_owner_is_not_listed_as_their_own_attendee() -> None:
    result = crm_attendees_from_graph(
        [GraphAttendee("maria.gonzalez@gmail.example")],
        organizer="dana.whitfield@harborwealth.example",
        matches=MATCHES,
        owner_mailbox="dana.whitfield@harborwealth.example",
    )
    assert [attendee.record for attendee in result] == [MARIA]


def test_a_record_invited_at_two_of_its_addresses_appears_once() -> None:
    result = crm_attendees_from_graph(
        [
            GraphAttendee("maria.gonzalez@gmail.example"),
            GraphAttendee("maria@gonzalez-family.example"),
            GraphAttendee("MARIA.GONZALEZ@gmail.example"),
        ],
        organizer=None,
        matches=MATCHES,
    )
    assert [attendee.record for attendee in result] == [MARIA]


def test_the_same_unmatched_address_twice_appears_once() -> None:
    result = crm_attendees_from_graph(
        [GraphAttendee("guest@example.org"), GraphAttendee(" GUEST@example.org")],
        organizer=None,
        matches={},
    )
    assert len(result) == 1


def test_an_attendee_without_an_address_is_skipped_but_a_malformed_one_is_refused() -> None:
    assert crm_attendees_from_graph([GraphAttendee("  ")], organizer=None, matches={}) == ()
    with pytest.raises(InvalidAttendee, match="Board room"):
        crm_attendees_from_graph([GraphAttendee("Board room")], organizer=None, matches={})


def test_individuals_are_invited_at_their_record_email_and_users_at_their_mailbox() -> None:
    result = graph_attendees_from_crm(
        [
            CrmInvitee(MARIA, "Maria.Gonzalez@gmail.example"),
            CrmInvitee(LI, "li.chen@harborwealth.example"),
            CrmInvitee(None, "guest@example.org"),
        ],
        organizer_mailbox="dana.whitfield@harborwealth.example",
    )
    assert [attendee.address for attendee in result.attendees] == [
        "maria.gonzalez@gmail.example",
        "li.chen@harborwealth.example",
        "guest@example.org",
    ]
    assert all(attendee.role is AttendeeRole.REQUIRED for attendee in result.attendees)
    assert result.not_invited == ()


def test_the_organizer_is_not_invited_to_their_own_meeting() -> None:
    result = graph_attendees_from_crm(
        [CrmInvitee(DANA, "dana.whitfield@harborwealth.example")],
        organizer_mailbox="Dana.Whitfield@harborwealth.example",
    )
    assert result.attendees == ()


def test_a_record_without_an_email_is_reported_not_invited() -> None:
    result = graph_attendees_from_crm(
        [CrmInvitee(OKAFOR, None)], organizer_mailbox="dana.whitfield@harborwealth.example"
    )
    assert result.attendees == ()
    assert result.not_invited == (OKAFOR,)


def test_a_bare_attendee_without_an_address_is_refused() -> None:
    with pytest.raises(InvalidAttendee) as error:
        graph_attendees_from_crm(
            [CrmInvitee(None, " ")], organizer_mailbox="dana.whitfield@harborwealth.example"
        )
    assert error.value.field == "attendees"


def test_an_existing_room_keeps_its_resource_role_when_the_list_is_sent_again() -> None:
    room = GraphAttendee("boardroom@harborwealth.example", "Board room", AttendeeRole.RESOURCE)
    result = graph_attendees_from_crm(
        [CrmInvitee(None, "BoardRoom@harborwealth.example")],
        organizer_mailbox="dana.whitfield@harborwealth.example",
        current=[room],
    )
    assert result.attendees == (room,)


def test_an_organizers_copy_and_its_crm_event_have_the_same_snapshot_attendees() -> None:
    from_graph = snapshot_attendees_from_graph(
        [
            GraphAttendee("Maria.Gonzalez@gmail.example"),
            GraphAttendee("li.chen@harborwealth.example"),
        ],
        organizer="dana.whitfield@harborwealth.example",
        mailbox="dana.whitfield@harborwealth.example",
    )
    from_crm = snapshot_attendees_from_crm(
        [
            CrmInvitee(MARIA, "maria.gonzalez@gmail.example"),
            CrmInvitee(LI, "li.chen@harborwealth.example"),
        ],
        owner_mailbox="dana.whitfield@harborwealth.example",
    )
    assert from_graph == from_crm
    kinds = {attendee.address: attendee.kind for attendee in from_crm}
    assert kinds["li.chen@harborwealth.example"] is AttendeeKind.USER
    assert kinds["maria.gonzalez@gmail.example"] is AttendeeKind.INDIVIDUAL


def test_an_attendees_copy_lists_the_organizer_instead_of_the_attendee() -> None:
    result = snapshot_attendees_from_graph(
        [
            GraphAttendee("maria.gonzalez@gmail.example"),
            GraphAttendee("li.chen@harborwealth.example"),
        ],
        organizer="dana.whitfield@harborwealth.example",
        mailbox="li.chen@harborwealth.example",
    )
    assert result == frozenset(
        {
            SyncedAttendee("maria.gonzalez@gmail.example"),
            SyncedAttendee("dana.whitfield@harborwealth.example"),
        }
    )


# Properties ---------------------------------------------------------------------------------

ADDRESSES = [
    "dana.whitfield@harborwealth.example",
    "li.chen@harborwealth.example",
    "maria.gonzalez@gmail.example",
    "maria@gonzalez-family.example",
    "p.okafor@okafor-cpa.example",
    "guest@example.org",
]
spellings = st.sampled_from(ADDRESSES).flatmap(
    lambda address: st.sampled_from([address, address.upper(), f"  {address} ", address.title()])
)


@settings(max_examples=200, deadline=None)
@given(invited=st.lists(spellings, max_size=8), organizer=st.none() | spellings)
def test_every_invited_address_is_represented_once_and_nothing_is_dropped(
    invited: list[str], organizer: str | None
) -> None:
    result = crm_attendees_from_graph(
        [GraphAttendee(address) for address in invited], organizer, MATCHES
    )
    expected = {address.strip().lower() for address in invited}
    if organizer:
        expected.add(organizer.strip().lower())
    assert {attendee.address for attendee in result} <= expected
    for address in expected:
        records = MATCHES.get(address, [])
        if records:
            assert all(any(a.record == record for a in result) for record in records)
        else:
            assert CrmAttendee(address, None, False) in [
                replace(a, is_organizer=False, response="none") for a in result
            ]
    records = [attendee.record for attendee in result if attendee.record is not None]
    assert len(records) == len(set(records))
    bare = [attendee.address for attendee in result if attendee.record is None]
    assert len(bare) == len(set(bare))
    assert all(
        a.is_internal == (a.record is not None and a.record.kind is RecordKind.USER) for a in result
    )
