"""What CalSync asks Graph to write: an event draft, checked before anything leaves the process.

A draft holds only the fields the caller wants to set. For a create that is the whole event; for an
update it is the changed fields only (Graph's PATCH leaves the rest alone). Times are aware
datetimes (or dates for all-day events) plus the event's own IANA zone; the draft sends them as
wall-clock values in that zone with the zone's Windows name, so Outlook shows 10:00 Eastern rather
than 15:00 UTC (SPEC §2).

Every inconsistency raises ``InvalidEventDraft`` naming the field, before any request is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from calsync.graph.errors import InvalidEventDraft, UnknownTimeZone
from calsync.graph.models import ItemBody, Location, PatternedRecurrence
from calsync.graph.timezones import format_wall_time, midnight_of, resolve_zone, windows_zone_name

MAX_ATTENDEES = 500
ATTENDEE_TYPES = frozenset({"required", "optional", "resource"})
SHOW_AS = frozenset({"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"})
SENSITIVITY = frozenset({"normal", "personal", "private", "confidential"})
IMPORTANCE = frozenset({"low", "normal", "high"})
ONLINE_MEETING_PROVIDERS = frozenset(
    {"unknown", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer"}
)


@dataclass(frozen=True, slots=True)
class DraftAttendee:
    """An attendee to invite: ``kind`` is ``required``, ``optional`` or ``resource`` (a room)."""

    address: str
    name: str | None = None
    kind: str = "required"

    def to_graph(self) -> dict[str, Any]:
        email: dict[str, str] = {"address": self.address}
        if self.name:
            email["name"] = self.name
        return {"emailAddress": email, "type": self.kind}


@dataclass(frozen=True, slots=True)
class EventDraft:
    """Fields to write to a Microsoft 365 event; ``None`` means "leave as it is" (or Graph's default
    on create).

    ``start``/``end`` are aware datetimes for timed events, ``date``s for all-day events (``end``
    exclusive: a one-day event on 1 May has end 2 May). ``time_zone`` is the event's IANA zone
    (``America/New_York``); it is required whenever times are given.
    """

    subject: str | None = None
    body: ItemBody | None = None
    start: datetime | date | None = None
    end: datetime | date | None = None
    time_zone: str | None = None
    is_all_day: bool | None = None
    location: Location | None = None
    attendees: tuple[DraftAttendee, ...] | None = None
    show_as: str | None = None
    sensitivity: str | None = None
    importance: str | None = None
    categories: tuple[str, ...] | None = None
    is_online_meeting: bool | None = None
    online_meeting_provider: str | None = None
    is_reminder_on: bool | None = None
    reminder_minutes_before_start: int | None = None
    response_requested: bool | None = None
    allow_new_time_proposals: bool | None = None
    recurrence: PatternedRecurrence | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._check_times()
        self._check_choice("show_as", self.show_as, SHOW_AS)
        self._check_choice("sensitivity", self.sensitivity, SENSITIVITY)
        self._check_choice("importance", self.importance, IMPORTANCE)
        self._check_choice(
            "online_meeting_provider", self.online_meeting_provider, ONLINE_MEETING_PROVIDERS
        )
        if self.subject is not None and len(self.subject) > 255:
            raise InvalidEventDraft("subject", "must be at most 255 characters")
        if (
            self.reminder_minutes_before_start is not None
            and self.reminder_minutes_before_start < 0
        ):
            raise InvalidEventDraft("reminder_minutes_before_start", "must not be negative")
        if self.attendees is not None:
            if len(self.attendees) > MAX_ATTENDEES:
                raise InvalidEventDraft(
                    "attendees", f"Graph allows at most {MAX_ATTENDEES} attendees per event"
                )
            for position, attendee in enumerate(self.attendees):
                if "@" not in attendee.address.strip():
                    raise InvalidEventDraft(
                        f"attendees[{position}].address",
                        f"{attendee.address!r} is not an email address",
                    )
                if attendee.kind not in ATTENDEE_TYPES:
                    raise InvalidEventDraft(
                        f"attendees[{position}].kind",
                        f"must be one of {sorted(ATTENDEE_TYPES)}, not {attendee.kind!r}",
                    )

    @staticmethod
    def _check_choice(name: str, value: str | None, allowed: frozenset[str]) -> None:
        if value is not None and value not in allowed:
            raise InvalidEventDraft(name, f"must be one of {sorted(allowed)}, not {value!r}")

    def _check_times(self) -> None:
        if (self.start is None) != (self.end is None):
            raise InvalidEventDraft(
                "end" if self.end is None else "start", "start and end must be given together"
            )
        if self.start is None or self.end is None:
            if self.is_all_day is not None:
                raise InvalidEventDraft("is_all_day", "changing it needs start and end as well")
            return
        if self.time_zone is None:
            raise InvalidEventDraft("time_zone", "is required when start and end are given")
        try:
            zone = resolve_zone(self.time_zone)
            windows_zone_name(zone.zone)
        except UnknownTimeZone as exc:
            raise InvalidEventDraft("time_zone", exc.message) from exc
        if zone.substituted:
            raise InvalidEventDraft("time_zone", "a custom Outlook zone cannot be written back")
        if self.is_all_day:
            for name, value in (("start", self.start), ("end", self.end)):
                if isinstance(value, datetime) or not isinstance(value, date):
                    raise InvalidEventDraft(name, "an all-day event takes a date, not a time")
        else:
            for name, value in (("start", self.start), ("end", self.end)):
                if not isinstance(value, datetime):
                    raise InvalidEventDraft(name, "a timed event takes a datetime; set is_all_day")
                if value.tzinfo is None or value.utcoffset() is None:
                    raise InvalidEventDraft(name, "must be timezone-aware")
        if self.end <= self.start:
            raise InvalidEventDraft("end", "must be after start")

    def to_graph(self) -> dict[str, Any]:
        """The JSON body for POST (create) or PATCH (update), containing only the fields that are
        set."""
        body: dict[str, Any] = dict(self.extra)
        if self.subject is not None:
            body["subject"] = self.subject
        if self.body is not None:
            body["body"] = self.body.to_graph()
        if self.start is not None and self.end is not None and self.time_zone is not None:
            windows = windows_zone_name(resolve_zone(self.time_zone).zone)
            # Graph reads the wall time in the Windows zone, whose rules are those of its CLDR
            # "golden" IANA zone. A few IANA zones share a Windows name but not every past rule
            # (America/Boise under Mountain Standard Time), so the wall time is computed in the zone
            # Graph will use: the instant is always kept, the label is Windows' nearest one.
            graph_zone = resolve_zone(windows).zone
            body["start"] = {"dateTime": self._wall(self.start, graph_zone), "timeZone": windows}
            body["end"] = {"dateTime": self._wall(self.end, graph_zone), "timeZone": windows}
            body["isAllDay"] = bool(self.is_all_day)
        if self.location is not None:
            body["location"] = self.location.to_graph()
        if self.attendees is not None:
            body["attendees"] = [attendee.to_graph() for attendee in self.attendees]
        simple: dict[str, object | None] = {
            "showAs": self.show_as,
            "sensitivity": self.sensitivity,
            "importance": self.importance,
            "categories": list(self.categories) if self.categories is not None else None,
            "isOnlineMeeting": self.is_online_meeting,
            "onlineMeetingProvider": self.online_meeting_provider,
            "isReminderOn": self.is_reminder_on,
            "reminderMinutesBeforeStart": self.reminder_minutes_before_start,
            "responseRequested": self.response_requested,
            "allowNewTimeProposals": self.allow_new_time_proposals,
        }
        body.update({name: value for name, value in simple.items() if value is not None})
        if self.recurrence is not None:
            body["recurrence"] = self.recurrence.to_graph()
        return body

    @staticmethod
    def _wall(value: datetime | date, zone: ZoneInfo) -> str:
        if isinstance(value, datetime):
            return format_wall_time(value.astimezone(zone).replace(tzinfo=None))
        return midnight_of(value)
