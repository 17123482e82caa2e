"""The fields CalSync carries between the CRM and Microsoft 365, as one comparable `EventSnapshot`.

Three-way merge and "no echo" both rest on one question: *did this field change?* The answer must
come from content, never from how a side happens to spell it. Graph returns times in UTC with seven
fractional digits, wraps bodies in an HTML document, lists attendees in any order and case; the CRM
stores the same meeting as zoned times, plain text and records. Every value here is therefore
normalised on construction, so that two snapshots of the same meeting compare equal however each
side represented it:

- times are instants, compared in UTC to the second; the IANA zone travels along (it is what Outlook
  shows) but a zone name alone never makes a difference, because the two sides name zones in
  different dialects;
- all-day events are keyed by their dates, never by the midnights some zone puts around them;
- bodies are compared as plain text: HTML is reduced to its text, whitespace runs collapse, line
  ends are unified and the Teams join block the server appends is left out;
- attendees are a set of lower-cased, trimmed addresses; their record kind travels along but is not
  content.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calsync.sync.errors import InvalidAttendee, InvalidEventData
from calsync.sync.recurrence import Recurrence


class ShowAs(StrEnum):
    """Graph's `showAs`, which the CRM calls "show as"; the wire values are used as-is."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    WORKING_ELSEWHERE = "workingElsewhere"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: str, *, field_name: str = "show_as") -> ShowAs:
        """Read a show-as value in any letter case; name the field when Graph has no such value."""
        member = _SHOW_AS_BY_LOWER_VALUE.get(raw.strip().lower())
        if member is not None:
            return member
        allowed = ", ".join(member.value for member in cls)
        raise InvalidEventData(
            f"'{raw}' is not a show-as value; use one of {allowed}", field=field_name
        )


# Every imported event names its show-as value: one dictionary lookup instead of a walk over the
# members comparing lower-cased values.
_SHOW_AS_BY_LOWER_VALUE = {member.value.lower(): member for member in ShowAs}


class AttendeeKind(StrEnum):
    """What an attendee address stands for on the CRM side (SPEC §1, §3)."""

    USER = "user"
    INDIVIDUAL = "individual"
    CONTACT = "contact"
    EMAIL = "email"
    """A bare address: no CRM record matches it (yet), or the Graph side has not been matched."""


_PRIVATE_SENSITIVITIES = frozenset({"private", "confidential"})


def is_private_sensitivity(sensitivity: str | None) -> bool:
    """Graph `sensitivity` → the CRM's private flag: `private` and `confidential` hide details."""
    return (sensitivity or "normal").strip().lower() in _PRIVATE_SENSITIVITIES


def sensitivity_for(is_private: bool) -> str:
    """The CRM's private flag → the Graph `sensitivity` to write."""
    return "private" if is_private else "normal"


TEAMS_PROVIDER = "teamsForBusiness"


def is_teams_meeting(is_online_meeting: bool | None, provider: str | None) -> bool:
    """Graph's online-meeting fields → the CRM's Teams Meeting flag: Teams, and nothing else.

    A Skype link, or `isOnlineMeeting` with provider `unknown` (what Graph answers when a mailbox
    cannot host Teams, GRAPH.md §4), is not a Teams meeting.
    """
    return bool(is_online_meeting) and (provider or "").strip().lower() == TEAMS_PROVIDER.lower()


def online_meeting_fields(is_teams: bool) -> dict[str, object]:
    """The Graph fields that ask for a Teams meeting (SPEC §4); nothing when the flag is off.

    Graph cannot switch a Teams meeting off, so False is never sent: an event without Teams simply
    does not ask for one.
    """
    if not is_teams:
        return {}
    return {"isOnlineMeeting": True, "onlineMeetingProvider": TEAMS_PROVIDER}


def is_exchange_dn(address: str) -> bool:
    """Whether an address is an Exchange legacyExchangeDN (X500) rather than an SMTP address.

    Graph sometimes reports an organizer or attendee as `/o=ExchangeLabs/ou=…/cn=Recipients/cn=…`
    (microsoftgraph/msgraph-sdk-java#1479, microsoft-graph-docs#13898). Such a value is kept as an
    opaque address, so the event still syncs and the attendee is not dropped; it matches no CRM
    record unless one stores it.
    """
    return address.strip().lower().startswith("/o=")


def normalize_address(raw: str, *, field_name: str = "attendees") -> str:
    """An address as compared: trimmed and lower-cased (SPEC §3 matches case-insensitively).

    Accepted addresses are remembered: an import normalises each attendee's address several times
    on its way (the Graph event's snapshot, each `SyncedAttendee`, matching, the CRM list) and a
    round's events share most of their addresses. A refused address is checked again each time, so
    the error names the caller's `field_name`.
    """
    address = _accepted_address(raw)
    if address is not None:
        return address
    return _checked_address(raw, field_name)


@lru_cache(maxsize=16_384)
def _accepted_address(raw: str) -> str | None:
    try:
        return _checked_address(raw, "attendees")
    except InvalidAttendee:
        return None


def _checked_address(raw: str, field_name: str) -> str:
    address = raw.strip().lower()
    if is_exchange_dn(address):
        return address
    if not address or "@" not in address or address.startswith("@") or address.endswith("@"):
        raise InvalidAttendee(f"'{raw}' is not an e-mail address", field=field_name)
    if _WHITESPACE.search(address):
        raise InvalidAttendee(
            f"'{raw}' contains spaces; an e-mail address has none", field=field_name
        )
    return address


@dataclass(frozen=True, slots=True)
class SyncedAttendee:
    """One attendee as compared: the address is the content; `kind` says what it resolved to.

    `kind` is excluded from equality on purpose: an address that starts matching a newly created
    Contact is not an edit made by anyone, and must not look like one.
    """

    address: str
    kind: AttendeeKind = field(default=AttendeeKind.EMAIL, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", normalize_address(self.address))


def _check_aware(value: datetime, field_name: str) -> None:
    if not isinstance(value, datetime):
        raise InvalidEventData(f"{value!r} is not a date and time", field=field_name)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEventData(
            f"{value.isoformat()} has no time zone; give an aware datetime", field=field_name
        )


def _check_zone(name: str) -> None:
    if not _is_iana_zone(name):
        raise InvalidEventData(
            f"'{name}' is not an IANA time zone (e.g. 'America/New_York')", field="time_zone"
        )


@lru_cache(maxsize=1024)
def _is_iana_zone(name: str) -> bool:
    """Whether `zoneinfo` knows the name; remembered, since every timed event names its zone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class TimedSpan:
    """A timed event: start and end instants, plus the IANA zone the event lives in.

    The instants are stored in UTC, truncated to the second (Graph's seven fractional digits are
    noise). The zone is carried so a push can write 10:00 Eastern as 10:00 Eastern (SPEC §2), but it
    is not compared: the same meeting read back from Graph in UTC is the same meeting.
    """

    start: datetime
    end: datetime
    time_zone: str = field(default="UTC", compare=False)

    def __post_init__(self) -> None:
        _check_aware(self.start, "start")
        _check_aware(self.end, "end")
        _check_zone(self.time_zone)
        start = self.start.astimezone(UTC).replace(microsecond=0)
        end = self.end.astimezone(UTC).replace(microsecond=0)
        if end < start:
            raise InvalidEventData("end must not be before start", field="end")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def local_start(self) -> datetime:
        """The start on the wall clock of the event's own zone (what Outlook shows)."""
        return self.start.astimezone(ZoneInfo(self.time_zone))

    def local_end(self) -> datetime:
        """The end on the wall clock of the event's own zone."""
        return self.end.astimezone(ZoneInfo(self.time_zone))


@dataclass(frozen=True, slots=True)
class AllDaySpan:
    """An all-day event: its first day and the day after its last (exclusive, like Graph's)."""

    first_day: date
    end_day: date

    def __post_init__(self) -> None:
        if isinstance(self.first_day, datetime) or isinstance(self.end_day, datetime):
            raise InvalidEventData(
                "all-day events take dates, not datetimes",
                field="start" if isinstance(self.first_day, datetime) else "end",
            )
        if self.end_day <= self.first_day:
            raise InvalidEventData(
                "an all-day event ends on a later day than it starts (the end day is exclusive)",
                field="end",
            )


EventTiming = TimedSpan | AllDaySpan


# Exchange bodies are machine-written HTML documents; a few regular expressions read them far faster
# than a full parser, which matters when a first import reads a hundred thousand events.
_HIDDEN_ELEMENTS = re.compile(
    r"<(head|style|script|title)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
_LINE_BREAKING_TAGS = re.compile(
    r"</?(?:br|p|div|li|tr|h[1-6]|table|ul|ol|hr)\b[^>]*>", re.IGNORECASE
)
_OTHER_TAGS = re.compile(r"<[^>]*>")
_WHITESPACE = re.compile(r"\s")


def _html_to_text(content: str) -> str:
    """The text a reader sees in an HTML body, with block elements and `<br>` as line breaks."""
    text = _COMMENTS.sub("", content)
    text = _HIDDEN_ELEMENTS.sub("", text)
    text = _LINE_BREAKING_TAGS.sub("\n", text)
    text = _OTHER_TAGS.sub("", text)
    return html.unescape(text)


_SEPARATOR_LINE = re.compile(r"^_{20,}$")
_TEAMS_BLOCK_MARKER = "microsoft teams"


def _without_teams_block(lines: list[str]) -> list[str]:
    """Drop every "Microsoft Teams meeting" block Exchange puts after a line of underscores.

    The block belongs to the online meeting, not to the description a person wrote; the join URL
    reaches the CRM through `onlineMeeting.joinUrl` instead (GRAPH.md §4). Removal repeats until
    no block is left, so normalising an already normalised text never changes it (the stored merge
    base must read back equal).
    """
    while True:
        separators = [index for index, line in enumerate(lines) if _SEPARATOR_LINE.match(line)]
        for position, opening in enumerate(separators):
            last = len(lines) - 1
            closing = separators[position + 1] if position + 1 < len(separators) else last
            if _TEAMS_BLOCK_MARKER in " ".join(lines[opening : closing + 1]).lower():
                lines = lines[:opening] + lines[closing + 1 :]
                break
        else:
            return lines


def normalize_text(text: str) -> str:
    """Plain text as compared: unified line ends, spaces collapsed per line, blank lines dropped.

    Blank lines are dropped, not just collapsed, because HTML gives no reliable way to tell a
    paragraph gap from a line break (`<p>` versus `<div>` versus `<br>`), and Graph turns a text
    body into HTML of its own choosing; keeping them would make every round trip look like an edit.
    """
    if "\n" not in text and "\r" not in text:
        # One line (most bodies, and every subject-like text): no line ends to unify, and a lone
        # line is never a Teams block (a block needs its separator line and a line after it).
        return " ".join(text.replace("\xa0", " ").split())
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = _without_teams_block(lines)
    return "\n".join(line for line in lines if line)


def body_text(content: str | None, content_type: str | None = "text") -> str:
    """A Graph `body` (or a CRM description) as the plain text the sync compares and writes.

    HTML is reduced to what a reader sees; Graph answers `"html"` even when `"HTML"` was sent, so
    the type is read case-insensitively. Anything other than html is taken as text.
    """
    if not content:
        return ""
    if (content_type or "text").strip().lower() == "html":
        return normalize_text(_html_to_text(content))
    return normalize_text(content)


def normalize_location(location: str | None) -> str:
    """A location display name as compared: whitespace runs collapsed, trimmed, missing = empty."""
    return " ".join((location or "").split())


@dataclass(frozen=True, slots=True)
class EventSnapshot:
    """The synced content of one event, as one side has it now or as last synced (the base).

    Build it with raw values: construction normalises them (see the module docstring), so equality
    means "no change a person would notice". `recurrence` is set on series masters only; occurrences
    carry None. Attendees are the participants other than the calendar's owner (the organizer
    included when the owner is an attendee), which is what both an organizer's copy and an
    attendee's copy can agree on.
    """

    subject: str
    timing: EventTiming
    body: str = ""
    location: str = ""
    show_as: ShowAs = ShowAs.BUSY
    is_private: bool = False
    is_teams_meeting: bool = False
    attendees: frozenset[SyncedAttendee] = frozenset()
    recurrence: Recurrence | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.timing, TimedSpan | AllDaySpan):
            raise InvalidEventData("timing must be a TimedSpan or an AllDaySpan", field="timing")
        object.__setattr__(self, "subject", (self.subject or "").strip())
        object.__setattr__(self, "body", normalize_text(self.body or ""))
        object.__setattr__(self, "location", normalize_location(self.location))
        if not isinstance(self.show_as, ShowAs):
            object.__setattr__(self, "show_as", ShowAs.parse(str(self.show_as)))
        object.__setattr__(self, "attendees", frozenset(_as_attendees(self.attendees)))

    @property
    def is_all_day(self) -> bool:
        return isinstance(self.timing, AllDaySpan)

    @property
    def attendee_addresses(self) -> frozenset[str]:
        return frozenset(attendee.address for attendee in self.attendees)


def _as_attendees(values: Iterable[SyncedAttendee | str]) -> Iterable[SyncedAttendee]:
    for value in values:
        yield value if isinstance(value, SyncedAttendee) else SyncedAttendee(value)


SYNCED_FIELDS: tuple[str, ...] = (
    "subject",
    "body",
    "location",
    "timing",
    "show_as",
    "is_private",
    "is_teams_meeting",
    "attendees",
    "recurrence",
)
"""Every field the sync carries, in the order they are merged and reported."""

ORGANIZER_FIELDS: frozenset[str] = frozenset(
    {"subject", "body", "location", "timing", "is_teams_meeting", "attendees", "recurrence"}
)
"""Fields only a meeting's organizer can change in Microsoft 365; attendees keep them CRM-local."""

MICROSOFT_365_OWNED_FIELDS: frozenset[str] = frozenset({"recurrence"})
"""Fields whose CRM-side changes are refused (SPEC §5: a recurrence belongs to Microsoft 365)."""
