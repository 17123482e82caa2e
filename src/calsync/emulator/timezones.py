"""Time-zone names as Graph speaks them: Windows names and IANA names, both directions.

The Windows↔IANA tables come from tzlocal (generated from CLDR windowsZones.xml); zone rules come
from zoneinfo with the tzdata package, so nothing here is a hand-written table (GRAPH.md §10).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

from calsync.emulator.errors import GraphApiError

UTC_NAME = "UTC"


def unsupported_zone(name: str) -> GraphApiError:
    return GraphApiError(
        400,
        "TimeZoneNotSupportedException",
        f"A valid TimeZone value must be specified. The following TimeZone value is not supported: "
        f"'{name}'.",
    )


@lru_cache(maxsize=512)
def resolve_zone(name: str) -> ZoneInfo:
    """The zone behind a Windows or IANA name; unknown names give Graph's 400."""
    if name in win_tz:
        return ZoneInfo(win_tz[name])
    if name in tz_win:
        try:
            return ZoneInfo(name)
        except ZoneInfoNotFoundError as exc:
            raise unsupported_zone(name) from exc
    raise unsupported_zone(name)


def is_known_zone(name: str) -> bool:
    return name in win_tz or name in tz_win


def format_graph_datetime(value: datetime) -> str:
    """A wall-clock time with Graph's seven fractional digits and no offset."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0"


def format_utc_timestamp(value: datetime) -> str:
    """createdDateTime style: seven fractional digits and a `Z`."""
    return format_graph_datetime(value.astimezone(ZoneInfo("UTC"))) + "Z"
