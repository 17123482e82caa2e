"""The override model by which a series edit reaches its exceptions (series_carry.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.emulator.series_carry import SLOT_OWN_FIELDS, carried_attendees, carry_series_edit

FIELDS = ["subject", "location", "importance", "start", "recurrence"]
VALUES = st.sampled_from(["a", "b", "c", None])
EVENTS = st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES))


@settings(max_examples=200, deadline=None)
@given(before=EVENTS, after=EVENTS, exception=EVENTS)
def test_a_field_follows_the_series_exactly_when_the_exception_had_not_overridden_it(
    before: dict[str, Any], after: dict[str, Any], exception: dict[str, Any]
) -> None:
    result = carry_series_edit(before, after, exception)
    seen = exception if result is None else result
    for name in FIELDS:
        if name in SLOT_OWN_FIELDS:
            assert seen[name] == exception[name]  # the occurrence's own times and rule
        elif exception[name] == before[name]:
            assert seen[name] == after[name]
        else:
            assert seen[name] == exception[name]
    assert (result is None) == (seen == exception)


def attendee(address: str, response: str) -> dict[str, Any]:
    return {"emailAddress": {"address": address}, "status": {"response": response}}


def test_an_attendees_own_answer_to_the_occurrence_survives_a_series_change() -> None:
    before = [attendee("megan@x", "none"), attendee("lee@x", "none")]
    after = [attendee("megan@x", "accepted"), attendee("lee@x", "none"), attendee("kim@x", "none")]
    own = [attendee("megan@x", "none"), attendee("lee@x", "declined")]
    assert carried_attendees(before, after, own) == [
        attendee("megan@x", "accepted"),  # followed: the occurrence had her series answer
        attendee("lee@x", "declined"),  # his own answer to this occurrence stays
        attendee("kim@x", "none"),  # added to the series, so to the occurrence too
    ]


def test_an_occurrence_with_its_own_attendee_list_keeps_it() -> None:
    before = [attendee("megan@x", "none"), attendee("lee@x", "none")]
    after = [attendee("megan@x", "accepted"), attendee("lee@x", "none"), attendee("kim@x", "none")]
    own = [attendee("megan@x", "none")]  # the organizer invited only Megan to this one
    assert carried_attendees(before, after, own) == [attendee("megan@x", "accepted")]
