"""Reading the event JSON a client sends: field by field validation, read-only fields ignored.

Graph is strict about the shape of what it accepts, and a stand-in that accepts more than Graph
hides client bugs, so every field is checked here and a bad one is named in a 400. Fields that are
read-only (ids, timestamps, organizer …) and `@odata.*` annotations are ignored, on create and on
PATCH alike (EMULATOR CHOICE; GRAPH.md §1.1). Unknown properties are refused.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calsync.emulator.errors import invalid_request
from calsync.emulator.timezones import format_graph_datetime, resolve_zone

MAX_ATTENDEES = 500
NULL_TIME = "0001-01-01T00:00:00Z"
SHOW_AS = ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown")
SENSITIVITY = ("normal", "personal", "private", "confidential")
IMPORTANCE = ("low", "normal", "high")
ATTENDEE_TYPES = ("required", "optional", "resource")
ONLINE_PROVIDERS = ("unknown", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer")
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "iCalUId",
        "uid",
        "isCancelled",
        "isOrganizer",
        "organizer",
        "responseStatus",
        "type",
        "seriesMasterId",
        "originalStart",
        "originalStartTimeZone",
        "originalEndTimeZone",
        "onlineMeeting",
        "onlineMeetingUrl",
        "webLink",
        "bodyPreview",
        "hasAttachments",
        "isDraft",
        "cancelledOccurrences",
        "exceptionOccurrences",
    }
)
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$")


def empty_location() -> dict[str, Any]:
    return {"displayName": "", "locationType": "default", "uniqueIdType": "unknown"}


def default_fields() -> dict[str, Any]:
    """What a new event carries when the create body leaves a field out (Graph's defaults)."""
    return {
        "subject": "",
        "body": {"contentType": "html", "content": ""},
        "isAllDay": False,
        "location": empty_location(),
        "locations": [],
        "showAs": "busy",
        "sensitivity": "normal",
        "importance": "normal",
        "categories": [],
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 15,
        "responseRequested": True,
        "allowNewTimeProposals": True,
        "hideAttendees": False,
        "attendees": [],
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "onlineMeeting": None,
        "recurrence": None,
        "transactionId": None,
        "isCancelled": False,
    }


@dataclass(frozen=True)
class EventTime:
    """A dateTimeTimeZone as the client wrote it: wall-clock time plus the zone name it used."""

    local: datetime
    zone_name: str

    @property
    def zone(self) -> ZoneInfo:
        return resolve_zone(self.zone_name)

    @property
    def utc(self) -> datetime:
        return self.local.replace(tzinfo=self.zone).astimezone(ZoneInfo("UTC"))

    def to_json(self) -> dict[str, str]:
        return {"dateTime": format_graph_datetime(self.local), "timeZone": self.zone_name}


def parse_event_time(value: Any, name: str) -> EventTime:
    """Parse `{"dateTime", "timeZone"}`; the offset-free wall clock is read in the named zone."""
    if not isinstance(value, dict):
        raise invalid_request(f"{name} must be an object with dateTime and timeZone.")
    text, zone = value.get("dateTime"), value.get("timeZone")
    if not isinstance(text, str) or not text:
        raise invalid_request(f"{name}.dateTime is required.")
    if not isinstance(zone, str) or not zone:
        raise invalid_request(f"{name}.timeZone is required.")
    resolve_zone(zone)
    match = _DATETIME.match(text)
    if match is None:
        raise invalid_request(
            f"{name}.dateTime {text!r} must be a local date and time such as "
            f"2024-05-01T09:00:00 (no offset; the zone goes in {name}.timeZone)."
        )
    day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(7, "0")[:6])
    try:
        local = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second or '00'}").replace(
            microsecond=micro
        )
    except ValueError as exc:
        raise invalid_request(f"{name}.dateTime {text!r} is not a valid date and time.") from exc
    return EventTime(local, zone)


def stored_time(data: dict[str, Any], name: str) -> EventTime:
    return parse_event_time(data[name], name)


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str):
        for option in allowed:
            if option.lower() == value.lower():
                return option
    raise invalid_request(f"{name} {value!r} is not one of {', '.join(allowed)}.")


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid_request(f"{name} must be true or false.")
    return value


def _string(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_request(f"{name} must be a string.")
    return value


def _body(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise invalid_request("body must be an object with contentType and content.")
    kind = _choice(value.get("contentType", "text"), "body.contentType", ("text", "html"))
    return {"contentType": kind, "content": _string(value.get("content"), "body.content")}


def _location(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return empty_location()
    if not isinstance(value, dict):
        raise invalid_request(f"{name} must be an object.")
    result = empty_location()
    for key, item in value.items():
        if key.startswith("@odata."):
            continue
        if key in ("displayName", "locationUri", "uniqueId", "locationEmailAddress"):
            result[key] = _string(item, f"{name}.{key}")
        elif key in ("locationType", "uniqueIdType"):
            result[key] = _string(item, f"{name}.{key}") or result.get(key, "")
        elif key in ("address", "coordinates"):
            if item is not None and not isinstance(item, dict):
                raise invalid_request(f"{name}.{key} must be an object.")
            result[key] = item
        else:
            raise invalid_request(f"{name}.{key} is not a property of a location.")
    return result


def _attendees(value: Any, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid_request("attendees must be a list.")
    if len(value) > MAX_ATTENDEES:
        raise invalid_request(
            f"attendees has {len(value)} entries; an event can have at most {MAX_ATTENDEES}."
        )
    known = {a["emailAddress"]["address"].lower(): a for a in previous}
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(value):
        name = f"attendees[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("emailAddress"), dict):
            raise invalid_request(f"{name}.emailAddress is required.")
        email = raw["emailAddress"]
        address = email.get("address")
        if not isinstance(address, str) or "@" not in address.strip("@"):
            raise invalid_request(f"{name}.emailAddress.address must be an email address.")
        kind = _choice(raw.get("type") or "required", f"{name}.type", ATTENDEE_TYPES)
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        old = known.get(address.lower())
        status = copy.deepcopy(old["status"]) if old else {"response": "none", "time": NULL_TIME}
        display = _string(email.get("name"), f"{name}.emailAddress.name") or address
        result.append(
            {"type": kind, "status": status, "emailAddress": {"name": display, "address": address}}
        )
    return result


def _categories(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise invalid_request("categories must be a list of strings.")
    return list(value)


def apply_fields(data: dict[str, Any], body: Any, *, creating: bool) -> dict[str, Any]:
    """A copy of `data` with the client's fields applied; raises a 400 naming the first bad field.

    Consistency between fields (end after start, all-day rules, recurrence start date) is checked
    by the caller once the whole event is known.
    """
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object describing an event.")
    result = copy.deepcopy(data)
    for key, value in body.items():
        if key.startswith("@odata.") or key in READ_ONLY_FIELDS:
            continue
        if key == "transactionId":
            if creating:
                result[key] = _string(value, key) or None
        elif key in ("start", "end"):
            result[key] = parse_event_time(value, key).to_json()
        elif key == "subject":
            result[key] = _string(value, key)
        elif key == "body":
            result[key] = _body(value)
        elif key == "location":
            result["location"] = _location(value, key)
            display = result["location"]["displayName"]
            result["locations"] = [copy.deepcopy(result["location"])] if display else []
        elif key == "locations":
            if not isinstance(value, list):
                raise invalid_request("locations must be a list.")
            result["locations"] = [_location(v, f"locations[{i}]") for i, v in enumerate(value)]
            result["location"] = (
                copy.deepcopy(result["locations"][0]) if result["locations"] else empty_location()
            )
        elif key == "attendees":
            result[key] = _attendees(value, data.get("attendees", []))
        elif key == "showAs":
            result[key] = _choice(value, key, SHOW_AS)
        elif key == "sensitivity":
            result[key] = _choice(value, key, SENSITIVITY)
        elif key == "importance":
            result[key] = _choice(value, key, IMPORTANCE)
        elif key == "categories":
            result[key] = _categories(value)
        elif key in (
            "isAllDay",
            "isReminderOn",
            "responseRequested",
            "allowNewTimeProposals",
            "hideAttendees",
            "isOnlineMeeting",
        ):
            result[key] = _bool(value, key)
        elif key == "reminderMinutesBeforeStart":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid_request(f"{key} must be a whole number of minutes, 0 or more.")
            result[key] = value
        elif key == "onlineMeetingProvider":
            result[key] = _choice(value, key, ONLINE_PROVIDERS)
        elif key == "recurrence":
            if value is not None and not isinstance(value, dict):
                raise invalid_request("recurrence must be an object or null.")
            result[key] = value
        else:
            raise invalid_request(
                f"The property '{key}' does not exist on type 'microsoft.graph.event'."
            )
    return result
