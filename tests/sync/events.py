"""Realistic snapshots and states for the sync core's tests: an advisory firm's review meetings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calsync.sync.fields import EventSnapshot, ShowAs, SyncedAttendee, TimedSpan
from calsync.sync.state import CrmEvent, GraphEvent, Origin, SyncLink

NEW_YORK = ZoneInfo("America/New_York")
ADVISOR = "dana.whitfield@harborwealth.example"
ASSISTANT = "li.chen@harborwealth.example"
CLIENT = "maria.gonzalez@gmail.example"
ACCOUNTANT = "p.okafor@okafor-cpa.example"


def review_meeting(**changes: Any) -> EventSnapshot:
    """Dana's annual review with a client, 10:00–11:00 New York time."""
    snapshot = EventSnapshot(
        subject="Annual portfolio review – Gonzalez family",
        timing=TimedSpan(
            datetime(2027, 3, 15, 10, 0, tzinfo=NEW_YORK),
            datetime(2027, 3, 15, 11, 0, tzinfo=NEW_YORK),
            "America/New_York",
        ),
        body="Agenda:\nRebalancing\nEstate plan update",
        location="Harbor Wealth, 4th floor",
        show_as=ShowAs.BUSY,
        attendees=frozenset({SyncedAttendee(CLIENT), SyncedAttendee(ACCOUNTANT)}),
    )
    return replace(snapshot, **changes)


def at(hour: int, minute: int = 0, *, day: int = 15) -> TimedSpan:
    return TimedSpan(
        datetime(2027, 3, day, hour, minute, tzinfo=NEW_YORK),
        datetime(2027, 3, day, hour + 1, minute, tzinfo=NEW_YORK),
        "America/New_York",
    )


def link_for(base: EventSnapshot, **changes: Any) -> SyncLink:
    link = SyncLink(
        crm_event_id="evt-1001",
        mailbox=ADVISOR,
        graph_id="AAMkAGI2TG93AAA=",
        base=base,
        origin=Origin.CRM,
        crm_version=3,
        change_key="CQAAABYAAAB1",
        ical_uid="040000008200E00074C5B7101A82E0080000000001",
    )
    return replace(link, **changes)


def crm_event(snapshot: EventSnapshot, **changes: Any) -> CrmEvent:
    event = CrmEvent(
        event_id="evt-1001", version=3, owner_mailbox=ADVISOR, snapshot=snapshot, origin=Origin.CRM
    )
    return replace(event, **changes)


def graph_event(snapshot: EventSnapshot, **changes: Any) -> GraphEvent:
    event = GraphEvent(
        graph_id="AAMkAGI2TG93AAA=",
        mailbox=ADVISOR,
        snapshot=snapshot,
        change_key="CQAAABYAAAB1",
        ical_uid="040000008200E00074C5B7101A82E0080000000001",
        organizer_address=ADVISOR,
    )
    return replace(event, **changes)
