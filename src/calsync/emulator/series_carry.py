"""How an edit of a series reaches its exceptions: Exchange's override model.

An Exchange exception stores only what differs from its series: MS-OXOCAL's ExceptionInfo carries
override flags (subject, location, busy status, body, …) saying which fields "have a value
different from the recurring series"; every other field is read from the series. So when a series
changes, an exception follows it in every field it had not overridden and keeps the fields it had.
The emulator stores exceptions whole, so it applies that rule at the moment the series changes:
a field of the exception that still equalled the series' old value takes the new one.

Attendees are compared one by one, because an organizer's exception records each attendee's own
answer to that occurrence (MS-OXOCAL's recipExceptionalResponse flag): the occurrence follows the
series' attendee list, but an attendee who answered the occurrence differently from the series
keeps that answer there.

Times, the rule and the all-day flag are the occurrence's own (a series whose times or rule change
drops its exceptions instead, see instances.discard_exceptions).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

SLOT_OWN_FIELDS = frozenset(
    {
        "start",
        "end",
        "recurrence",
        "isAllDay",
        "changeKey",
        "lastModifiedDateTime",
        "createdDateTime",
        "originalStartTimeZone",
        "originalEndTimeZone",
    }
)


def _by_address(attendees: Any) -> dict[str, dict[str, Any]]:
    return {
        str(a["emailAddress"]["address"]).lower(): a
        for a in attendees or []
        if isinstance(a, dict) and "emailAddress" in a
    }


def carried_attendees(before: Any, after: Any, own: Any) -> list[dict[str, Any]]:
    """The occurrence's attendee list once the series' list went from `before` to `after`."""
    old, new, mine = _by_address(before), _by_address(after), _by_address(own)
    if set(mine) != set(old):
        # The occurrence has its own list (the organizer edited who attends it): keep it, and
        # only let answers it did not override follow the series.
        kept = copy.deepcopy(list(own or []))
        for entry in kept:
            key = str(entry["emailAddress"]["address"]).lower()
            if key in old and key in new and entry.get("status") == old[key].get("status"):
                entry["status"] = copy.deepcopy(new[key].get("status"))
        return kept
    result = []
    for entry in after or []:
        carried = copy.deepcopy(entry)
        key = str(entry["emailAddress"]["address"]).lower()
        if key in mine and key in old and mine[key].get("status") != old[key].get("status"):
            carried["status"] = copy.deepcopy(mine[key].get("status"))
        result.append(carried)
    return result


def carry_series_edit(
    before: dict[str, Any],
    after: dict[str, Any],
    exception: dict[str, Any],
    fields: Iterable[str] | None = None,
) -> dict[str, Any] | None:
    """The exception's data after its series changed from `before` to `after`, or None when
    nothing it shows changed. `fields` limits what is compared (default: every field the series
    has except the occurrence's own times and rule)."""
    names = [
        name
        for name in (after if fields is None else fields)
        if name not in SLOT_OWN_FIELDS and before.get(name) != after.get(name)
    ]
    data = copy.deepcopy(exception)
    changed = False
    for name in names:
        if name == "attendees":
            value: Any = carried_attendees(before.get(name), after.get(name), exception.get(name))
        elif exception.get(name) == before.get(name):
            value = copy.deepcopy(after.get(name))
        else:
            continue
        if value != exception.get(name):
            data[name] = value
            changed = True
    return data if changed else None
