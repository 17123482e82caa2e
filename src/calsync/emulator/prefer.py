"""The `Prefer` header (RFC 7240) as Graph uses it: time zone, page size, id form, body type.

EMULATOR CHOICE (GRAPH.md §2.6): preferences may come comma-separated in one header or in repeated
headers; both are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from calsync.emulator.errors import GraphApiError, invalid_request
from calsync.emulator.timezones import resolve_zone

_ITEM = re.compile(r'\s*([A-Za-z][\w.\-]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,;\s]*))?[^,]*')


@dataclass(frozen=True)
class Preferences:
    """The preferences of one request that the emulator honours."""

    zone_name: str | None = None
    max_page_size: int | None = None
    immutable_ids: bool = False
    body_type: str | None = None

    def applied(self) -> list[str]:
        """What goes back in `Preference-Applied` (Graph echoes the honoured preferences)."""
        result = []
        if self.zone_name is not None:
            result.append(f'outlook.timezone="{self.zone_name}"')
        if self.max_page_size is not None:
            result.append(f"odata.maxpagesize={self.max_page_size}")
        if self.immutable_ids:
            result.append('IdType="ImmutableId"')
        if self.body_type is not None:
            result.append(f'outlook.body-content-type="{self.body_type}"')
        return result


def parse_preferences(headers: list[str]) -> Preferences:
    """Read every `Prefer` header; an unknown zone is Graph's 400, odd page sizes are refused."""
    values: dict[str, str] = {}
    for header in headers:
        for match in _ITEM.finditer(header):
            name, raw = match.group(1), match.group(2) or ""
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                raw = raw[1:-1]
            values[name.lower()] = raw
    zone = values.get("outlook.timezone")
    if zone is not None:
        resolve_zone(zone)
    page: int | None = None
    if "odata.maxpagesize" in values:
        text = values["odata.maxpagesize"]
        if not text.isdigit() or int(text) < 1:
            raise invalid_request(
                f"Prefer odata.maxpagesize must be a positive number, got {text!r}."
            )
        page = int(text)
    body_type = values.get("outlook.body-content-type")
    if body_type is not None:
        body_type = body_type.lower()
        if body_type not in ("text", "html"):
            raise GraphApiError(
                400, "ErrorInvalidRequest", "Prefer outlook.body-content-type must be text or html."
            )
    return Preferences(
        zone_name=zone,
        max_page_size=page,
        immutable_ids=values.get("idtype", "").lower() == "immutableid",
        body_type=body_type,
    )
