"""The startDateTime/endDateTime window of calendarView, instances and delta.

The values are ISO 8601; an offset in the value is honoured and a value without one is UTC. The
window is never affected by `Prefer: outlook.timezone` (GRAPH.md §2.2, §10).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from calsync.emulator.errors import GraphApiError


def _bad(message: str) -> GraphApiError:
    return GraphApiError(400, "ErrorInvalidParameter", message)


def parse_instant(text: str, name: str) -> datetime:
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if "." in value:
        head, _, tail = value.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        rest = tail[len(digits) :]
        value = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _bad(f"{name} {text!r} is not an ISO 8601 date and time.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_window(params: Mapping[str, str]) -> tuple[datetime, datetime]:
    """Both parameters are required and the window must not be empty."""
    missing = [n for n in ("startDateTime", "endDateTime") if not params.get(n)]
    if missing:
        raise _bad(
            "This request requires startDateTime and endDateTime query parameters; missing: "
            + ", ".join(missing)
            + "."
        )
    start = parse_instant(params["startDateTime"], "startDateTime")
    end = parse_instant(params["endDateTime"], "endDateTime")
    if end <= start:
        raise _bad("endDateTime must be after startDateTime.")
    return start, end
