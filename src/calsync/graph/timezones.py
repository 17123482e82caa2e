"""Time zone names and wall-clock values as Microsoft Graph speaks them.

Graph names zones the Windows way (``"Pacific Standard Time"``) and also accepts some IANA names; it
reads and writes ``dateTimeTimeZone`` values as a wall-clock string plus a zone name, with 7
fractional digits (GRAPH.md §1.1, §10). CalSync works in aware ``datetime`` values with ``zoneinfo``
zones, so this module is the border between the two. The Windows ↔ IANA tables are CLDR's
``windowsZones.xml`` as shipped by ``tzlocal`` (``tzlocal.windows_tz.win_tz`` / ``tz_win``);
``zoneinfo`` with the ``tzdata`` package resolves the IANA names, old link names (``Asia/Calcutta``)
included, on every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

from calsync.graph.errors import UnknownTimeZone

#: Legacy Outlook zone that has no name outside the item that defined it (GRAPH.md §10).
CUSTOM_ZONE = "tzone://Microsoft/Custom"

_UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class ResolvedZone:
    """A Graph zone name resolved to a ``ZoneInfo``.

    ``substituted`` is true when Graph's name could not be honoured exactly (a legacy custom Outlook
    zone) and UTC stands in for it; callers should show such events with a warning rather than trust
    their wall time.
    """

    zone: ZoneInfo
    graph_name: str
    substituted: bool = False

    @property
    def iana_name(self) -> str:
        return self.zone.key


@lru_cache(maxsize=1024)
def resolve_zone(name: str) -> ResolvedZone:
    """Resolve a Windows or IANA zone name as found in ``timeZone`` / ``originalStartTimeZone``.

    Windows names win over IANA lookups because some strings (``"UTC"``) are both. Raises
    ``UnknownTimeZone`` for anything else, so a typo never silently becomes UTC.
    """
    cleaned = name.strip()
    if cleaned == CUSTOM_ZONE:
        return ResolvedZone(_UTC_ZONE, cleaned, substituted=True)
    iana = win_tz.get(cleaned)
    if iana is not None:
        return ResolvedZone(_zoneinfo(iana, name), cleaned)
    return ResolvedZone(_zoneinfo(cleaned, name), cleaned)


def _zoneinfo(key: str, original: str) -> ZoneInfo:
    if not key or key.startswith(("/", ".")) or ".." in key:
        raise UnknownTimeZone(original)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(original) from exc


def windows_zone_name(zone: ZoneInfo | str) -> str:
    """The Windows name Graph should receive for an IANA zone, so Outlook shows the event's own
    zone.

    Raises ``UnknownTimeZone`` when CLDR has no Windows equivalent, rather than sending a name Graph
    may reject.
    """
    key = zone.key if isinstance(zone, ZoneInfo) else zone
    if key in win_tz:  # already a Windows name
        return key
    windows = tz_win.get(key)
    if windows is None:
        raise UnknownTimeZone(key)
    return windows


def parse_wall_time(value: str) -> datetime:
    """Parse Graph's wall-clock string (``2017-04-15T11:00:00.0000000``), ignoring digits past
    microseconds."""
    text = value.strip()
    if "." in text:
        head, _, fraction = text.partition(".")
        digits = "".join(ch for ch in fraction if ch.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"dateTime {value!r} is not an ISO 8601 wall-clock time") from exc
    if (
        parsed.tzinfo is not None
    ):  # an offset inside the value is honoured, then made wall-clock UTC
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def to_aware(value: str, zone_name: str) -> datetime:
    """A ``dateTimeTimeZone`` pair as an aware ``datetime`` in that zone."""
    return parse_wall_time(value).replace(tzinfo=resolve_zone(zone_name).zone)


def format_wall_time(value: datetime) -> str:
    """Graph's wall-clock form of a naive or already-localised ``datetime`` (7 fractional
    digits)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0"


def midnight_of(day: date) -> str:
    """The wall-clock string for 00:00 of ``day``, as all-day events require (GRAPH.md §10)."""
    return format_wall_time(datetime(day.year, day.month, day.day))


def all_day_dates(start: datetime, end: datetime) -> tuple[date, date]:
    """The (first day, day after the last) of an all-day event from its midnight-to-midnight bounds.

    Graph stores all-day events as midnight to midnight in one zone, so the end date is exclusive.
    When the service renders them in another zone the bounds stop being midnights; the dates are
    then taken in the zone the values carry, which is the zone the event was written in.
    """
    first = start.date()
    last = end.date()
    if end.time() != datetime.min.time():
        last = last + timedelta(days=1)
    return first, max(last, first + timedelta(days=1))
