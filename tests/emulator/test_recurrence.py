"""Recurrence: validation per Graph's rules, and expansion checked against an independent model.

The property test builds random patterns, creates the series through the emulator's calendar and
compares the calendarView occurrence dates with a day-by-day enumeration written from Graph's
pattern descriptions (GRAPH.md §1.2), not from RFC 5545.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync.emulator.calendar import MailboxCalendar
from calsync.emulator.errors import GraphApiError
from calsync.emulator.instances import calendar_view
from calsync.emulator.store import EmulatorStore
from tests.fixtures.emulator import ADELE

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
INDEXES = ["first", "second", "third", "fourth", "last"]


def _matches_relative(day: date, days: list[str], index: str) -> bool:
    month_days = [
        date(day.year, day.month, n)
        for n in range(1, calendar.monthrange(day.year, day.month)[1] + 1)
        if DAYS[date(day.year, day.month, n).weekday()] in days
    ]
    chosen = month_days[-1] if index == "last" else month_days[INDEXES.index(index)]
    return day == chosen


def expected_dates(pattern: dict[str, Any], rng: dict[str, Any], horizon: date) -> list[date]:
    """Occurrence dates by walking the calendar one day at a time."""
    start = date.fromisoformat(rng["startDate"])
    kind, interval = pattern["type"], pattern["interval"]
    first_dow = DAYS.index(pattern.get("firstDayOfWeek", "sunday"))

    def week_start(d: date) -> date:
        return d - timedelta(days=(d.weekday() - first_dow) % 7)

    result = []
    day = start
    while day <= horizon:
        months = (day.year - start.year) * 12 + day.month - start.month
        years = day.year - start.year
        if kind == "daily":
            hit = (day - start).days % interval == 0
        elif kind == "weekly":
            weeks = (week_start(day) - week_start(start)).days // 7
            hit = DAYS[day.weekday()] in pattern["daysOfWeek"] and weeks % interval == 0
        elif kind == "absoluteMonthly":
            hit = day.day == pattern["dayOfMonth"] and months % interval == 0
        elif kind == "relativeMonthly":
            hit = months % interval == 0 and _matches_relative(
                day, pattern["daysOfWeek"], pattern["index"]
            )
        elif kind == "absoluteYearly":
            hit = (day.month, day.day) == (
                pattern["month"],
                pattern["dayOfMonth"],
            ) and years % interval == 0
        else:
            hit = (
                day.month == pattern["month"]
                and years % interval == 0
                and _matches_relative(day, pattern["daysOfWeek"], pattern["index"])
            )
        if hit:
            result.append(day)
        day += timedelta(days=1)
    if rng["type"] == "endDate":
        result = [d for d in result if d <= date.fromisoformat(rng["endDate"])]
    if rng["type"] == "numbered":
        result = result[: rng["numberOfOccurrences"]]
    return result


@st.composite
def patterns(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    kind = draw(
        st.sampled_from(
            [
                "daily",
                "weekly",
                "absoluteMonthly",
                "relativeMonthly",
                "absoluteYearly",
                "relativeYearly",
            ]
        )
    )
    yearly = kind.endswith("Yearly")
    pattern: dict[str, Any] = {"type": kind, "interval": draw(st.integers(1, 2 if yearly else 3))}
    if kind in ("weekly", "relativeMonthly", "relativeYearly"):
        pattern["daysOfWeek"] = draw(
            st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True)
        )
    if kind == "weekly":
        pattern["firstDayOfWeek"] = draw(st.sampled_from(["sunday", "monday"]))
    if kind in ("relativeMonthly", "relativeYearly"):
        pattern["index"] = draw(st.sampled_from(INDEXES))
    if kind in ("absoluteMonthly", "absoluteYearly"):
        pattern["dayOfMonth"] = draw(st.integers(1, 31))
    if yearly:
        pattern["month"] = draw(st.integers(1, 12))
    start = draw(st.dates(date(2023, 1, 1), date(2025, 12, 31)))
    range_type = draw(st.sampled_from(["endDate", "noEnd", "numbered"]))
    rng: dict[str, Any] = {"type": range_type, "startDate": start.isoformat()}
    if range_type == "endDate":
        rng["endDate"] = (start + timedelta(days=draw(st.integers(0, 900)))).isoformat()
    if range_type == "numbered":
        rng["numberOfOccurrences"] = draw(st.integers(1, 25))
    return pattern, rng


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns())
def test_calendar_view_occurrences_match_an_independent_expansion(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    pattern, rng = case
    store = EmulatorStore()
    mailbox = store.add_mailbox(ADELE)
    start = date.fromisoformat(rng["startDate"])
    body = {
        "subject": "Property",
        "start": {"dateTime": f"{start}T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{start}T10:30:00", "timeZone": "UTC"},
        "recurrence": {"pattern": pattern, "range": rng},
    }
    MailboxCalendar(store).create(mailbox, body)
    horizon = start + timedelta(days=3 * 366)
    window_end = datetime.combine(horizon + timedelta(days=1), datetime.min.time(), UTC)
    window_start = datetime.combine(start, datetime.min.time(), UTC)
    found = calendar_view(store, mailbox.id, window_start, window_end)
    assert [e.start_utc.date() for e in found] == expected_dates(pattern, rng, horizon)


def _series(pattern: dict[str, Any], rng: dict[str, Any]) -> dict[str, Any]:
    return {
        "subject": "Bad series",
        "start": {"dateTime": "2024-09-02T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2024-09-02T10:00:00", "timeZone": "UTC"},
        "recurrence": {"pattern": pattern, "range": rng},
    }


WEEKLY = {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}
UNTIL = {"type": "endDate", "startDate": "2024-09-02", "endDate": "2024-12-31"}


@pytest.mark.parametrize(
    ("pattern", "rng", "named"),
    [
        ({**WEEKLY, "type": "hourly"}, UNTIL, "recurrence.pattern.type"),
        ({**WEEKLY, "interval": 0}, UNTIL, "recurrence.pattern.interval"),
        ({"type": "weekly", "interval": 1}, UNTIL, "recurrence.pattern.daysOfWeek"),
        ({**WEEKLY, "daysOfWeek": ["funday"]}, UNTIL, "recurrence.pattern.daysOfWeek"),
        ({**WEEKLY, "index": "fifth"}, UNTIL, "recurrence.pattern.index"),
        ({**WEEKLY, "month": 13}, UNTIL, "recurrence.pattern.month"),
        ({"type": "absoluteMonthly", "interval": 1}, UNTIL, "recurrence.pattern.dayOfMonth"),
        (
            {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 2},
            UNTIL,
            "recurrence.pattern.month",
        ),
        (WEEKLY, {**UNTIL, "startDate": "2024-09-03"}, "recurrence.range.startDate"),
        (WEEKLY, {"type": "endDate", "startDate": "2024-09-02"}, "recurrence.range.endDate"),
        (WEEKLY, {**UNTIL, "endDate": "2024-08-01"}, "recurrence.range.endDate"),
        (
            WEEKLY,
            {"type": "numbered", "startDate": "2024-09-02"},
            "recurrence.range.numberOfOccurrences",
        ),
        (WEEKLY, {**UNTIL, "recurrenceTimeZone": "Mars Standard Time"}, "Mars Standard Time"),
    ],
)
async def test_bad_recurrences_are_refused_naming_the_field(
    emulator_client: httpx.AsyncClient, pattern: dict[str, Any], rng: dict[str, Any], named: str
) -> None:
    reply = await emulator_client.post(f"/users/{ADELE}/events", json=_series(pattern, rng))
    assert reply.status_code == 400
    assert named in reply.json()["error"]["message"]
    listed = (await emulator_client.get(f"/users/{ADELE}/events")).json()["value"]
    assert listed == []


def test_first_occurrence_is_the_first_fitting_date_on_or_after_start_date() -> None:
    """GRAPH.md §1.2: a 'first Thursday' series starting Aug 29 first occurs in September."""
    store = EmulatorStore()
    mailbox = store.add_mailbox(ADELE)
    body = _series(
        {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["thursday"], "index": "first"},
        {"type": "numbered", "startDate": "2024-08-29", "numberOfOccurrences": 2},
    )
    body["start"]["dateTime"] = "2024-08-29T09:00:00"
    body["end"]["dateTime"] = "2024-08-29T10:00:00"
    MailboxCalendar(store).create(mailbox, body)
    found = calendar_view(
        store, mailbox.id, datetime(2024, 8, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert [e.start_utc.date() for e in found] == [date(2024, 9, 5), date(2024, 10, 3)]


def test_recurrence_cannot_be_added_to_an_existing_single_event() -> None:
    store = EmulatorStore()
    mailbox = store.add_mailbox(ADELE)
    cal = MailboxCalendar(store)
    single = cal.create(
        mailbox, {k: v for k, v in _series(WEEKLY, UNTIL).items() if k != "recurrence"}
    )
    from calsync.emulator.ids import encode_id

    with pytest.raises(GraphApiError) as caught:
        cal.update(
            mailbox,
            encode_id(single.entry.ref),
            {"recurrence": _series(WEEKLY, UNTIL)["recurrence"]},
            None,
        )
    assert caught.value.status == 400
