"""Typed views of the Graph payloads CalSync reads: event, attendee, recurrence, dateTimeTimeZone,
pages, errors.

Field names are Pythonic; Graph's lowerCamel names are the aliases, so
``Event.model_validate_json(raw)`` reads the wire format directly. The small parts every event
carries (times, attendees, addresses, responses, body, location) are frozen pydantic dataclasses
with the same wire rules (``PART_CONFIG``), validated as strictly but far cheaper to hold; the rest
are models (``GraphModel``). Both give ``to_graph()`` where a draft writes them. Unknown properties
are ignored (events are an open type and Graph adds fields), and every property except ``id`` is
optional because ``$select`` and delta ``@removed`` entries return partial objects. Enumerations
are plain strings: Graph's enums are evolvable, and a new value must not make a whole delta page
unreadable.

Times: ``start``/``end`` stay exactly as Graph sent them; ``Event.times()`` turns them into aware
datetimes in the event's own zone (``originalStartTimeZone``) or into dates for all-day events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import dataclasses as pydantic_dataclasses
from pydantic.alias_generators import to_camel

from calsync.graph.errors import UnknownTimeZone
from calsync.graph.timezones import ResolvedZone, all_day_dates, resolve_zone, to_aware

_GRAPH_WALL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}", re.ASCII)
"""``dateTime`` exactly as Graph writes it: ``2017-04-15T11:00:00.0000000``."""


def _graph_wall_time(value: str) -> datetime | None:
    """A ``dateTime`` in Graph's own form, read directly (every event an import reads has two);
    None for any other form, which ``parse_wall_time`` reads or refuses with its message. The
    first six fractional digits are the ones ``parse_wall_time`` keeps too."""
    if not _GRAPH_WALL_TIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value[:26])
    except ValueError:
        return None


class GraphModel(BaseModel):
    """Base of the wire models: lowerCamel aliases, Python names accepted too, unknown fields
    ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )

    def to_graph(self) -> dict[str, Any]:
        """The JSON object Graph expects, leaving out what was never set."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


PART_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
"""The wire rules of ``GraphModel`` for the small parts every event carries (its times, its
attendees and their addresses and responses): those are frozen, slotted pydantic dataclasses, read
and validated from the same JSON as strictly, but one object each where a model is three (the
instance, its ``__dict__`` and its set of fields set). A delta page of events is most of what an
import allocates, and the garbage collector's work grows with every object it has to track."""


class WirePart:
    """What the wire parts share with ``GraphModel``: ``to_graph()``, for the parts a draft writes
    (its body and location)."""

    __slots__ = ()

    def to_graph(self) -> dict[str, Any]:
        """The JSON object Graph expects, leaving out what was never set."""
        adapter = _ADAPTERS.get(type(self))
        if adapter is None:
            adapter = _ADAPTERS[type(self)] = TypeAdapter(type(self))
        serialized: dict[str, Any] = adapter.dump_python(
            self, mode="json", by_alias=True, exclude_none=True
        )
        return serialized


_ADAPTERS: dict[type[WirePart], TypeAdapter[Any]] = {}


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class DateTimeTimeZone:
    """Graph's ``dateTimeTimeZone``: a wall-clock string and the zone it is read in."""

    date_time: str
    time_zone: str = "UTC"

    def to_datetime(self) -> datetime:
        """The instant as an aware datetime in the zone Graph named (UTC unless ``outlook.timezone``
        was sent)."""
        wall = _graph_wall_time(self.date_time)
        if wall is not None:
            return wall.replace(tzinfo=resolve_zone(self.time_zone).zone)
        return to_aware(self.date_time, self.time_zone)


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class EmailAddress:
    address: str | None = None
    name: str | None = None


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class Recipient:
    email_address: EmailAddress | None = None


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class ResponseStatus:
    """``none``, ``organizer``, ``tentativelyAccepted``, ``accepted``, ``declined`` or
    ``notResponded``."""

    response: str | None = None
    time: datetime | None = None


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class TimeSlot:
    start: DateTimeTimeZone
    end: DateTimeTimeZone


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class Attendee:
    """An attendee of an event; ``type`` is ``required``, ``optional`` or ``resource``."""

    email_address: EmailAddress | None = None
    type: str | None = None
    status: ResponseStatus | None = None
    proposed_new_time: TimeSlot | None = None


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class ItemBody(WirePart):
    content_type: str | None = None
    content: str | None = None


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class PhysicalAddress(WirePart):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    country_or_region: str | None = None
    postal_code: str | None = None


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class Location(WirePart):
    display_name: str | None = None
    location_type: str | None = None
    unique_id: str | None = None
    unique_id_type: str | None = None
    location_email_address: str | None = None
    address: PhysicalAddress | None = None


class RecurrencePattern(GraphModel):
    """How often a series repeats (GRAPH.md §1.2). Only the fields the ``type`` needs should be
    set."""

    type: str
    interval: int = 1
    days_of_week: list[str] | None = None
    day_of_month: int | None = None
    month: int | None = None
    index: str | None = None
    first_day_of_week: str | None = None


class RecurrenceRange(GraphModel):
    """When a series repeats: ``endDate``, ``noEnd`` or ``numbered``; ``startDate`` equals the
    start's date."""

    type: str
    start_date: date | None = None
    end_date: date | None = None
    number_of_occurrences: int | None = None
    recurrence_time_zone: str | None = None


class PatternedRecurrence(GraphModel):
    pattern: RecurrencePattern
    range: RecurrenceRange


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class OnlineMeetingInfo:
    """Teams join details; ``join_url`` is the link to show (``onlineMeetingUrl`` is null for
    Teams)."""

    join_url: str | None = None
    conference_id: str | None = None
    toll_number: str | None = None


@pydantic_dataclasses.dataclass(config=PART_CONFIG, frozen=True, slots=True)
class Removed:
    """The ``@removed`` marker of a delta item. Only ``deleted`` exists for events, and it is not
    proof of a deletion: items leaving the window arrive the same way (GRAPH.md §3.2)."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EventTimes:
    """An event's time span as CalSync uses it.

    For timed events ``start``/``end`` are aware datetimes in the event's own zone (the zone it was
    created in, so 10:00 Eastern stays 10:00 Eastern) and ``start_date``/``end_date`` are ``None``.
    For all-day events ``start_date`` is the first day and ``end_date`` the day after the last
    (exclusive), and ``start``/``end`` are those midnights in ``zone``. ``zone_substituted`` flags a
    legacy custom Outlook zone read as UTC.
    """

    start: datetime
    end: datetime
    zone: ResolvedZone
    is_all_day: bool
    start_date: date | None
    end_date: date | None

    @property
    def zone_substituted(self) -> bool:
        return self.zone.substituted


class Event(GraphModel):
    """A calendar event as Graph returns it from get, list, calendarView, instances and delta."""

    id: str
    etag: str | None = Field(default=None, alias="@odata.etag")
    removed: Removed | None = Field(default=None, alias="@removed")
    change_key: str | None = None
    ical_uid: str | None = Field(default=None, alias="iCalUId")
    transaction_id: str | None = None
    created_date_time: datetime | None = None
    last_modified_date_time: datetime | None = None
    subject: str | None = None
    body: ItemBody | None = None
    body_preview: str | None = None
    start: DateTimeTimeZone | None = None
    end: DateTimeTimeZone | None = None
    original_start_time_zone: str | None = None
    original_end_time_zone: str | None = None
    is_all_day: bool | None = None
    location: Location | None = None
    locations: list[Location] | None = None
    show_as: str | None = None
    sensitivity: str | None = None
    importance: str | None = None
    is_cancelled: bool | None = None
    is_organizer: bool | None = None
    is_draft: bool | None = None
    organizer: Recipient | None = None
    attendees: list[Attendee] | None = None
    response_status: ResponseStatus | None = None
    response_requested: bool | None = None
    allow_new_time_proposals: bool | None = None
    hide_attendees: bool | None = None
    type: str | None = None
    series_master_id: str | None = None
    recurrence: PatternedRecurrence | None = None
    original_start: datetime | None = None
    is_online_meeting: bool | None = None
    online_meeting_provider: str | None = None
    online_meeting: OnlineMeetingInfo | None = None
    online_meeting_url: str | None = None
    is_reminder_on: bool | None = None
    reminder_minutes_before_start: int | None = None
    categories: list[str] | None = None
    web_link: str | None = None

    @property
    def is_removed(self) -> bool:
        """True for a delta ``@removed`` entry (deleted, or moved out of the window)."""
        return self.removed is not None

    @property
    def join_url(self) -> str | None:
        """The Teams join link, where Graph puts it for Teams meetings."""
        return self.online_meeting.join_url if self.online_meeting else None

    def event_zone(self) -> ResolvedZone:
        """The zone the organizer created the event in, which Outlook shows it in.

        Falls back to the zone of ``start`` (UTC by default) when Graph did not send
        ``originalStartTimeZone`` (e.g. under ``$select``), and to UTC-flagged for a name no table
        knows.
        """
        name = self.original_start_time_zone or (self.start.time_zone if self.start else "UTC")
        try:
            return resolve_zone(name)
        except UnknownTimeZone:
            fallback = resolve_zone("UTC")
            return ResolvedZone(fallback.zone, name, substituted=True)

    def times(self) -> EventTimes:
        """Start and end in the event's own zone, or as dates when the event is all-day.

        Raises ``ValueError`` naming ``start``/``end`` when the event carries no times (a
        ``@removed`` entry or a ``$select`` without them).
        """
        if self.start is None or self.end is None:
            missing = "start" if self.start is None else "end"
            raise ValueError(f"{missing}: event {self.id} has no {missing} time")
        zone = self.event_zone()
        start = self.start.to_datetime()
        end = self.end.to_datetime()
        if self.is_all_day:
            first, after_last = all_day_dates(start, end)
            return EventTimes(
                start=datetime.combine(first, datetime.min.time(), zone.zone),
                end=datetime.combine(after_last, datetime.min.time(), zone.zone),
                zone=zone,
                is_all_day=True,
                start_date=first,
                end_date=after_last,
            )
        return EventTimes(
            start=start.astimezone(zone.zone),
            end=end.astimezone(zone.zone),
            zone=zone,
            is_all_day=False,
            start_date=None,
            end_date=None,
        )


class CollectionPage(GraphModel):
    """Any page of a Graph collection: more follows while ``next_link`` is set."""

    next_link: str | None = Field(default=None, alias="@odata.nextLink")


class EventPage(CollectionPage):
    """One page of a list, calendarView or instances answer."""

    value: list[Event] = Field(default_factory=list)


class DeltaPage(CollectionPage):
    """One page of a calendarView delta round: changed events and ``@removed`` entries, in Graph's
    order.

    Exactly one of ``next_link`` (keep paging) and ``delta_link`` (round finished) is set on a valid
    page; the page may be empty and still carry ``next_link``, and an event may appear again later
    in the same round (merge by ``id``, the later copy wins).
    """

    value: list[Event] = Field(default_factory=list)
    delta_link: str | None = Field(default=None, alias="@odata.deltaLink")

    @property
    def changed(self) -> list[Event]:
        return [item for item in self.value if item.removed is None]

    @property
    def removed_ids(self) -> list[str]:
        return [item.id for item in self.value if item.removed is not None]


class InnerError(GraphModel):
    code: str | None = None
    date: str | None = None
    request_id: str | None = Field(default=None, alias="request-id")
    client_request_id: str | None = Field(default=None, alias="client-request-id")


class ErrorDetail(GraphModel):
    code: str | None = None
    message: str | None = None
    inner_error: InnerError | None = Field(
        default=None, validation_alias=AliasChoices("innerError", "innererror")
    )


class ErrorBody(GraphModel):
    """Graph's error envelope ``{"error": {"code", "message", "innerError": {…}}}``."""

    error: ErrorDetail


class Calendar(GraphModel):
    """A mailbox's calendar; ``allowed_online_meeting_providers`` says whether it can host Teams
    meetings."""

    id: str
    name: str | None = None
    owner: EmailAddress | None = None
    can_edit: bool | None = None
    is_default_calendar: bool | None = None
    allowed_online_meeting_providers: list[str] = Field(default_factory=list)
    default_online_meeting_provider: str | None = None

    @property
    def can_host_teams_meetings(self) -> bool:
        return "teamsForBusiness" in self.allowed_online_meeting_providers


class Subscription(GraphModel):
    """A change-notification subscription (GRAPH.md §8)."""

    id: str
    resource: str | None = None
    change_type: str | None = None
    notification_url: str | None = None
    lifecycle_notification_url: str | None = None
    expiration_date_time: datetime | None = None
    client_state: str | None = None
    application_id: str | None = None


class SubscriptionPage(CollectionPage):
    """One page of `GET /subscriptions`: the app's subscriptions (a long list comes in pages)."""

    value: list[Subscription] = Field(default_factory=list)
