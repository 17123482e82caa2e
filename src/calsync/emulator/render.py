"""Turning calendar entries into the JSON Graph returns.

Times come back in UTC by default, or in the zone a `Prefer: outlook.timezone` header names; all-day
events are floating dates rendered as midnight in whatever zone is asked for (EMULATOR CHOICE,
GRAPH.md §10). Ids come in REST or immutable form as the request prefers.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from calsync.emulator.ids import encode_id, etag_for
from calsync.emulator.instances import CalendarEntry
from calsync.emulator.payload import stored_time
from calsync.emulator.timezones import UTC_NAME, format_graph_datetime, format_utc_timestamp
from calsync.emulator.timezones import resolve_zone as _resolve

EVENT_PROPERTIES = (
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "transactionId",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "iCalUId",
    "reminderMinutesBeforeStart",
    "isReminderOn",
    "hasAttachments",
    "subject",
    "bodyPreview",
    "importance",
    "sensitivity",
    "isAllDay",
    "isCancelled",
    "isOrganizer",
    "responseRequested",
    "seriesMasterId",
    "showAs",
    "type",
    "webLink",
    "onlineMeetingUrl",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "allowNewTimeProposals",
    "isDraft",
    "hideAttendees",
    "originalStart",
    "responseStatus",
    "body",
    "start",
    "end",
    "location",
    "locations",
    "recurrence",
    "attendees",
    "organizer",
    "onlineMeeting",
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RenderOptions:
    """What the request asked for: id form, output zone, body type and `$select`."""

    immutable_ids: bool = False
    zone_name: str | None = None
    body_type: str | None = None
    select: tuple[str, ...] | None = None


def html_to_text(content: str) -> str:
    without_head = re.sub(r"(?is)<head.*?</head>", "", content)
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", without_head))).strip()


def _body(data: dict[str, Any], body_type: str | None) -> tuple[dict[str, str], str]:
    body = data["body"]
    content = body["content"]
    is_html = body["contentType"] == "html"
    preview = (html_to_text(content) if is_html else _SPACE.sub(" ", content).strip())[:255]
    if body_type == "text":
        return {"contentType": "text", "content": preview if is_html else content}, preview
    if is_html:
        if not content.lstrip().lower().startswith("<html"):
            content = (
                '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; '
                'charset=utf-8">\r\n</head>\r\n<body>\r\n' + content + "\r\n</body>\r\n</html>\r\n"
            )
        return {"contentType": "html", "content": content}, preview
    if body_type == "html":
        return {
            "contentType": "html",
            "content": "<html><body>" + html.escape(content) + "</body></html>",
        }, preview
    return {"contentType": "text", "content": content}, preview


def _time(data: dict[str, Any], name: str, zone_name: str) -> dict[str, str]:
    value = stored_time(data, name)
    if data.get("isAllDay"):
        return {
            "dateTime": format_graph_datetime(datetime.combine(value.local.date(), time())),
            "timeZone": zone_name,
        }
    local = value.utc.astimezone(_resolve(zone_name)).replace(tzinfo=None)
    return {"dateTime": format_graph_datetime(local), "timeZone": zone_name}


def render_event(entry: CalendarEntry, options: RenderOptions) -> dict[str, Any]:
    """The Graph JSON of one entry."""
    data = entry.data
    zone_name = options.zone_name or UTC_NAME
    change_key = str(data["changeKey"])
    body, preview = _body(data, options.body_type)
    event_id = encode_id(entry.ref, options.immutable_ids)
    master_id = (
        encode_id(entry.master_ref, options.immutable_ids) if entry.master_ref is not None else None
    )
    result: dict[str, Any] = {
        "@odata.etag": etag_for(change_key),
        "id": event_id,
        "createdDateTime": data["createdDateTime"],
        "lastModifiedDateTime": data["lastModifiedDateTime"],
        "changeKey": change_key,
        "categories": list(data["categories"]),
        "transactionId": data.get("transactionId"),
        "originalStartTimeZone": data["originalStartTimeZone"],
        "originalEndTimeZone": data["originalEndTimeZone"],
        "iCalUId": entry.ical_uid,
        "reminderMinutesBeforeStart": data["reminderMinutesBeforeStart"],
        "isReminderOn": data["isReminderOn"],
        "hasAttachments": False,
        "subject": data["subject"],
        "bodyPreview": preview,
        "importance": data["importance"],
        "sensitivity": data["sensitivity"],
        "isAllDay": data["isAllDay"],
        "isCancelled": data["isCancelled"],
        "isOrganizer": data["isOrganizer"],
        "responseRequested": data["responseRequested"],
        "seriesMasterId": master_id,
        "showAs": data["showAs"],
        "type": entry.type,
        "webLink": "https://outlook.office365.com/owa/?itemid="
        + event_id
        + "&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": data["isOnlineMeeting"],
        "onlineMeetingProvider": data["onlineMeetingProvider"],
        "allowNewTimeProposals": data["allowNewTimeProposals"],
        "isDraft": False,
        "hideAttendees": data["hideAttendees"],
        "responseStatus": dict(data["responseStatus"]),
        "body": body,
        "start": _time(data, "start", zone_name),
        "end": _time(data, "end", zone_name),
        "location": dict(data["location"]),
        "locations": [dict(x) for x in data["locations"]],
        "recurrence": data["recurrence"] if entry.type == "seriesMaster" else None,
        "attendees": [dict(a) for a in data["attendees"]],
        "organizer": dict(data["organizer"]),
        "onlineMeeting": data.get("onlineMeeting"),
    }
    if entry.original_start is not None:
        result["originalStart"] = format_utc_timestamp(entry.original_start)
    if options.select is not None:
        keep = {"@odata.etag", "id", *options.select}
        result = {k: v for k, v in result.items() if k in keep}
    return result
