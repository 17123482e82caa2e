"""The merge base as JSON: an `EventSnapshot` stored in a link row and read back unchanged.

Round-tripping must be exact (a snapshot read back equals the one written), otherwise every run
would see a difference against the base and write it somewhere. Values are stored in their
normalised form; reading them back through the snapshot's constructor is then a no-op.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from calsync.sync.errors import InconsistentSyncState
from calsync.sync.fields import (
    AllDaySpan,
    AttendeeKind,
    EventSnapshot,
    ShowAs,
    SyncedAttendee,
    TimedSpan,
)
from calsync.sync.recurrence import Recurrence

FORMAT_VERSION = 1


def snapshot_to_json(snapshot: EventSnapshot) -> dict[str, Any]:
    """The snapshot as a JSON object (attendees sorted, so equal snapshots store equal JSON)."""
    timing: dict[str, Any]
    if isinstance(snapshot.timing, AllDaySpan):
        timing = {
            "all_day": True,
            "first_day": snapshot.timing.first_day.isoformat(),
            "end_day": snapshot.timing.end_day.isoformat(),
        }
    else:
        timing = {
            "all_day": False,
            "start": snapshot.timing.start.isoformat(),
            "end": snapshot.timing.end.isoformat(),
            "time_zone": snapshot.timing.time_zone,
        }
    return {
        "format": FORMAT_VERSION,
        "subject": snapshot.subject,
        "body": snapshot.body,
        "location": snapshot.location,
        "timing": timing,
        "show_as": snapshot.show_as.value,
        "is_private": snapshot.is_private,
        "is_teams_meeting": snapshot.is_teams_meeting,
        "attendees": sorted(
            [attendee.address, attendee.kind.value] for attendee in snapshot.attendees
        ),
        "recurrence": snapshot.recurrence.to_graph() if snapshot.recurrence else None,
    }


def snapshot_from_json(data: dict[str, Any]) -> EventSnapshot:
    """Read a stored base back; a row that is not a stored snapshot is a broken sync state."""
    try:
        raw_timing = data["timing"]
        timing: TimedSpan | AllDaySpan
        if raw_timing["all_day"]:
            timing = AllDaySpan(
                date.fromisoformat(raw_timing["first_day"]),
                date.fromisoformat(raw_timing["end_day"]),
            )
        else:
            timing = TimedSpan(
                datetime.fromisoformat(raw_timing["start"]),
                datetime.fromisoformat(raw_timing["end"]),
                raw_timing["time_zone"],
            )
        recurrence = data.get("recurrence")
        return EventSnapshot(
            subject=data["subject"],
            timing=timing,
            body=data["body"],
            location=data["location"],
            show_as=ShowAs(data["show_as"]),
            is_private=bool(data["is_private"]),
            is_teams_meeting=bool(data["is_teams_meeting"]),
            attendees=frozenset(
                SyncedAttendee(address, AttendeeKind(kind)) for address, kind in data["attendees"]
            ),
            recurrence=Recurrence.from_graph(recurrence) if recurrence else None,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InconsistentSyncState(
            f"the stored merge base cannot be read ({error}); run a full resync of the mailbox",
            field="base",
        ) from error
