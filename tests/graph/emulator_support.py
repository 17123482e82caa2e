"""Connecting the real Graph client to the TLS emulator exactly as to Entra ID and Graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from calsync.emulator.server import EmulatorServer
from calsync.graph.drafts import DraftAttendee, EventDraft
from calsync.graph.settings import GraphSettings
from tests.fixtures.emulator import CLIENT_ID, CLIENT_SECRET, TENANT

WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_END = datetime(2027, 1, 1, tzinfo=UTC)


def settings_for(server: EmulatorServer, **overrides: Any) -> GraphSettings:
    """The same settings a tenant would get, with the emulator's host and CA: no emulator switch."""
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authority_host": server.base_url,
        "graph_url": server.graph_url,
        "ca_bundle": server.ca_path,
        "backoff_base_seconds": 0.05,
        "backoff_max_seconds": 0.5,
        "max_retry_seconds": 20.0,
        "page_size": 25,
    }
    values.update(overrides)
    return GraphSettings(**values)


def meeting(
    subject: str, day: int, hour: int = 10, *, zone: str = "America/New_York"
) -> EventDraft:
    """A one-hour meeting at ``hour`` local time on 2026-03-``day`` in ``zone``."""
    from zoneinfo import ZoneInfo

    start = datetime(2026, 3, day, hour, tzinfo=ZoneInfo(zone))
    return EventDraft(
        subject=subject,
        start=start,
        end=start + timedelta(hours=1),
        time_zone=zone,
        attendees=(DraftAttendee("chris.client@fabrikam.example", "Chris Client"),),
    )
