"""IANA time zone names, checked once at the edge so the rest of the CRM can trust them."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calsync.crm.errors import InvalidInputError


def checked_time_zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The zone called `name` (for example "Europe/London"); raises naming `field` if unknown."""
    candidate = name.strip() if isinstance(name, str) else ""
    if not candidate:
        raise InvalidInputError(
            "a time zone is required (an IANA name such as Europe/London)", field=field
        )
    try:
        return ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInputError(
            f"unknown time zone '{candidate}'; use an IANA name such as America/New_York",
            field=field,
        ) from None
