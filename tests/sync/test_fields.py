"""Snapshots compare content, not representation: noise never looks like an edit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.sync.errors import InvalidAttendee, InvalidEventData
from calsync.sync.fields import (
    AllDaySpan,
    AttendeeKind,
    EventSnapshot,
    ShowAs,
    SyncedAttendee,
    TimedSpan,
    body_text,
    is_exchange_dn,
    is_private_sensitivity,
    is_teams_meeting,
    normalize_address,
    normalize_text,
    online_meeting_fields,
    sensitivity_for,
)
from tests.sync.events import ACCOUNTANT, CLIENT, NEW_YORK, review_meeting

TEAMS_BLOCK_TEXT = (
    "\n________________________________________________________________________________\n"
    "Microsoft Teams meeting\nJoin on your computer, mobile app or room device\n"
    "Click here to join the meeting\nMeeting ID: 291 633 251\n"
    "________________________________________________________________________________\n"
)


def test_the_same_instant_in_utc_and_in_new_york_is_not_a_change() -> None:
    zoned = TimedSpan(
        datetime(2027, 3, 15, 10, tzinfo=NEW_YORK),
        datetime(2027, 3, 15, 11, tzinfo=NEW_YORK),
        "America/New_York",
    )
    from_graph = TimedSpan(
        datetime(2027, 3, 15, 14, 0, 0, 0, tzinfo=UTC), datetime(2027, 3, 15, 15, tzinfo=UTC), "UTC"
    )
    assert zoned == from_graph
    assert review_meeting(timing=zoned) == review_meeting(timing=from_graph)


def test_graph_fractional_seconds_are_not_a_change() -> None:
    exact = TimedSpan(datetime(2027, 3, 15, 14, tzinfo=UTC), datetime(2027, 3, 15, 15, tzinfo=UTC))
    noisy = TimedSpan(
        datetime(2027, 3, 15, 14, 0, 0, 999_999, tzinfo=UTC),
        datetime(2027, 3, 15, 15, 0, 0, 1, tzinfo=UTC),
    )
    assert exact == noisy


def test_moving_a_meeting_by_a_minute_is_a_change() -> None:
    assert review_meeting() != review_meeting(
        timing=TimedSpan(
            datetime(2027, 3, 15, 10, 1, tzinfo=NEW_YORK),
            datetime(2027, 3, 15, 11, 1, tzinfo=NEW_YORK),
            "America/New_York",
        )
    )


def test_the_event_zone_travels_with_the_times_for_pushing() -> None:
    span = TimedSpan(
        datetime(2027, 3, 15, 10, tzinfo=NEW_YORK),
        datetime(2027, 3, 15, 11, tzinfo=NEW_YORK),
        "America/New_York",
    )
    assert span.local_start().hour == 10
    assert span.local_start().tzinfo == ZoneInfo("America/New_York")
    assert span.start.tzinfo is UTC


def test_naive_times_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidEventData) as error:
        TimedSpan(datetime(2027, 3, 15, 10), datetime(2027, 3, 15, 11, tzinfo=UTC))
    assert error.value.field == "start"
    assert error.value.code == "invalid_event_data"


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(InvalidEventData, match="end must not be before start") as error:
        TimedSpan(datetime(2027, 3, 15, 11, tzinfo=UTC), datetime(2027, 3, 15, 10, tzinfo=UTC))
    assert error.value.field == "end"


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvalidEventData) as error:
        TimedSpan(
            datetime(2027, 3, 15, 10, tzinfo=UTC),
            datetime(2027, 3, 15, 11, tzinfo=UTC),
            "Eastern Standard Time",
        )
    assert error.value.field == "time_zone"


def test_all_day_events_are_keyed_by_date() -> None:
    assert AllDaySpan(date(2027, 7, 4), date(2027, 7, 5)) == AllDaySpan(
        date(2027, 7, 4), date(2027, 7, 5)
    )
    assert review_meeting(timing=AllDaySpan(date(2027, 7, 4), date(2027, 7, 5))).is_all_day


def test_an_all_day_event_must_end_on_a_later_day() -> None:
    with pytest.raises(InvalidEventData, match="exclusive") as error:
        AllDaySpan(date(2027, 7, 4), date(2027, 7, 4))
    assert error.value.field == "end"


def test_an_all_day_event_refuses_datetimes() -> None:
    with pytest.raises(InvalidEventData, match="dates"):
        AllDaySpan(datetime(2027, 7, 4, tzinfo=UTC), date(2027, 7, 5))


def test_html_body_from_graph_equals_the_plain_text_description() -> None:
    graph_body = (
        "<html><head><meta http-equiv='Content-Type' content='text/html; charset=utf-8'>"
        "<style>p {margin: 0}</style></head><body><div>Agenda:</div><p>Rebalancing</p>"
        "<div>Estate&nbsp;plan&nbsp;update<br></div></body></html>"
    )
    assert body_text(graph_body, "html") == "Agenda:\nRebalancing\nEstate plan update"
    assert review_meeting(body=body_text(graph_body, "html")) == review_meeting()


def test_body_content_type_is_read_case_insensitively() -> None:
    assert body_text("<p>Bring last year&#39;s statements</p>", "HTML") == (
        "Bring last year's statements"
    )


def test_whitespace_and_line_ending_noise_in_a_body_is_not_a_change() -> None:
    noisy = "  Agenda: \r\n\r\nRebalancing\t\r\n   Estate   plan update  \n\n"
    assert review_meeting(body=noisy) == review_meeting()


def test_the_teams_join_block_graph_appends_is_not_part_of_the_description() -> None:
    assert body_text("Agenda:\nRebalancing\nEstate plan update" + TEAMS_BLOCK_TEXT) == (
        "Agenda:\nRebalancing\nEstate plan update"
    )


def test_a_line_of_underscores_without_teams_is_kept() -> None:
    text = "Sign here:\n" + "_" * 30 + "\nThanks"
    assert body_text(text) == text


def test_a_changed_word_in_the_body_is_a_change() -> None:
    assert review_meeting(body="Agenda:\nRebalancing only") != review_meeting()


def test_attendee_order_and_case_are_not_a_change() -> None:
    shuffled = review_meeting(
        attendees=frozenset({SyncedAttendee(f"  {ACCOUNTANT.upper()} "), SyncedAttendee(CLIENT)})
    )
    assert shuffled == review_meeting()


def test_an_attendee_resolving_to_a_new_record_kind_is_not_a_change() -> None:
    resolved = review_meeting(
        attendees=frozenset(
            {
                SyncedAttendee(CLIENT, AttendeeKind.INDIVIDUAL),
                SyncedAttendee(ACCOUNTANT, AttendeeKind.CONTACT),
            }
        )
    )
    assert resolved == review_meeting()


def test_snapshot_accepts_plain_address_strings_as_attendees() -> None:
    snapshot = replace(review_meeting(), attendees=frozenset({"Maria.Gonzalez@Gmail.example"}))
    assert snapshot.attendee_addresses == frozenset({CLIENT})


def test_an_attendee_without_an_at_sign_is_refused() -> None:
    with pytest.raises(InvalidAttendee, match="not an e-mail address") as error:
        SyncedAttendee("Maria Gonzalez")
    assert error.value.field == "attendees"


def test_subject_and_location_whitespace_is_not_a_change() -> None:
    assert (
        review_meeting(
            subject="  Annual portfolio review – Gonzalez family ",
            location="Harbor Wealth,   4th floor ",
        )
        == review_meeting()
    )


def test_show_as_is_read_in_any_case_and_bad_values_name_the_field() -> None:
    assert ShowAs.parse("WorkingElsewhere") is ShowAs.WORKING_ELSEWHERE
    with pytest.raises(InvalidEventData) as error:
        ShowAs.parse("away")
    assert error.value.field == "show_as"


def test_a_show_as_string_is_normalised_in_the_snapshot() -> None:
    snapshot = EventSnapshot(
        subject="Call",
        timing=review_meeting().timing,
        show_as="Tentative",  # type: ignore[arg-type]
    )
    assert snapshot.show_as is ShowAs.TENTATIVE


def test_private_and_confidential_sensitivity_mean_private() -> None:
    assert is_private_sensitivity("private")
    assert is_private_sensitivity("Confidential")
    assert not is_private_sensitivity("normal")
    assert not is_private_sensitivity(None)
    assert sensitivity_for(True) == "private"
    assert sensitivity_for(False) == "normal"


def test_the_html_teams_block_without_a_closing_line_is_not_part_of_the_description() -> None:
    html_body = (
        "<html><body><p>Agenda:</p><p>Rebalancing</p>"
        '<div style="width:100%">' + "_" * 64 + "</div>"
        '<div class="me-email-text"><span>Microsoft Teams meeting</span><br>'
        "<b>Join on your computer, mobile app or room device</b><br>"
        '<a href="https://teams.microsoft.com/l/meetup-join/x">Click here to join the meeting</a>'
        "<br>Meeting ID: 291 633 251</div></body></html>"
    )
    assert body_text(html_body, "html") == "Agenda:\nRebalancing"


def test_text_after_a_closed_teams_block_is_kept() -> None:
    assert body_text("Agenda" + TEAMS_BLOCK_TEXT + "Parking: level 2") == "Agenda\nParking: level 2"


def test_a_date_where_a_time_is_expected_is_refused() -> None:
    with pytest.raises(InvalidEventData, match="not a date and time") as error:
        TimedSpan(date(2027, 3, 15), datetime(2027, 3, 15, 11, tzinfo=UTC))  # type: ignore[arg-type]
    assert error.value.field == "start"


def test_only_a_teams_for_business_online_meeting_is_a_teams_meeting() -> None:
    assert is_teams_meeting(True, "teamsForBusiness")
    assert not is_teams_meeting(True, "skypeForBusiness")
    assert not is_teams_meeting(False, "unknown")
    assert not is_teams_meeting(True, "unknown")
    assert not is_teams_meeting(None, None)


def test_the_teams_flag_asks_graph_for_a_teams_meeting_and_never_for_none() -> None:
    assert online_meeting_fields(True) == {
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
    }
    assert online_meeting_fields(False) == {}


# Properties ---------------------------------------------------------------------------------

text_pieces = st.lists(
    st.sampled_from(
        [
            "Agenda",
            "Microsoft Teams meeting",
            "_" * 30,
            "_" * 80,
            "",
            "  ",
            "\r\n",
            "\n",
            "\t",
            "Join: https://teams.microsoft.com/l/x",
            "<p>",
            "</p>",
            "<br>",
            "&amp;",
            "&nbsp;",
            "é",
        ]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=text_pieces)
def test_normalising_a_normalised_text_changes_nothing(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=300, deadline=None)
@given(text=text_pieces, content_type=st.sampled_from(["html", "HTML", "text", None]))
def test_a_body_read_back_from_storage_equals_the_body_written(
    text: str, content_type: str | None
) -> None:
    snapshot = review_meeting(body=body_text(text, content_type))
    assert review_meeting(body=snapshot.body) == snapshot


@settings(max_examples=300, deadline=None)
@given(text=text_pieces)
def test_a_line_break_added_at_the_end_of_a_body_is_not_a_change(text: str) -> None:
    assert normalize_text(text + "\n") == normalize_text(text)
    assert normalize_text("\r\n" + text) == normalize_text(text)


def test_a_refused_address_names_the_field_of_each_caller() -> None:
    assert normalize_address(" Maria.Gonzalez@Gmail.example ") == CLIENT
    for field_name in ("organizer", "attendees", "organizer"):
        with pytest.raises(InvalidAttendee, match="not an e-mail address") as error:
            normalize_address("Maria Gonzalez", field_name=field_name)
        assert error.value.field == field_name


def test_an_exchange_x500_address_from_graph_is_kept_not_refused() -> None:
    dn = (
        "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
        "/cn=Recipients/cn=bdc77b18152647a29d28ce1188376dc9-kristina"
    )
    attendee = SyncedAttendee(f" {dn} ")
    assert attendee.address == dn.lower()
    assert is_exchange_dn(dn)
    assert not is_exchange_dn("kristina@prosapient.example")
