"""The four writes CalSync makes to an event, as values, so one call and a ``$batch`` build them the
same way.

- ``CreateEvent`` carries a caller-chosen ``transactionId``: Graph recognises a resent create with
  the same id and does not make a second event (GRAPH.md §6), which is what makes retrying a create
  after a dropped connection safe. Choose it from something stable on the CRM side (e.g. the CRM
  event's id and revision).
- ``UpdateEvent`` and ``DeleteEvent`` carry the ETag the caller last read and send it as
  ``If-Match``; a change made meanwhile in Outlook turns into ``PreconditionFailed`` instead of
  being overwritten. ``"*"`` opts out.
- ``CancelEvent`` is the organizer's way to call a meeting off with a note to the attendees (a
  DELETE would cancel too, but without the comment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from calsync.graph.drafts import EventDraft
from calsync.graph.errors import InvalidArgument, InvalidEventDraft

MAX_TRANSACTION_ID = 255


def mailbox_path(mailbox: str) -> str:
    """``/users/{address or id}``: app-only callers always name the mailbox (``/me`` needs a
    signed-in user)."""
    cleaned = mailbox.strip()
    if not cleaned or "/" in cleaned:
        raise InvalidArgument("mailbox", f"{mailbox!r} is not a mailbox address or id")
    return f"/users/{quote(cleaned, safe='@')}"


def event_path(mailbox: str, event_id: str) -> str:
    if not event_id.strip():
        raise InvalidArgument("event_id", "must not be empty")
    return f"{mailbox_path(mailbox)}/events/{quote(event_id, safe='=-_')}"


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """A Graph request before it is sent, relative to the version root."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CreateEvent:
    draft: EventDraft
    transaction_id: str
    calendar_id: str | None = None

    def __post_init__(self) -> None:
        if not self.transaction_id.strip() or len(self.transaction_id) > MAX_TRANSACTION_ID:
            raise InvalidArgument("transaction_id", f"must be 1 to {MAX_TRANSACTION_ID} characters")
        if self.draft.start is None:
            raise InvalidEventDraft("start", "a new event needs start, end and time_zone")

    def request(self, mailbox: str) -> RequestSpec:
        base = mailbox_path(mailbox)
        if self.calendar_id:
            path = f"{base}/calendars/{quote(self.calendar_id, safe='=-_')}/events"
        else:
            path = f"{base}/events"
        body = {**self.draft.to_graph(), "transactionId": self.transaction_id}
        return RequestSpec("POST", path, body)


@dataclass(frozen=True, slots=True)
class UpdateEvent:
    event_id: str
    changes: EventDraft
    etag: str

    def __post_init__(self) -> None:
        if not self.etag.strip():
            raise InvalidArgument("etag", 'must be the ETag last read, or "*" to overwrite')

    def request(self, mailbox: str) -> RequestSpec:
        body = self.changes.to_graph()
        if not body:
            raise InvalidEventDraft("changes", "an update must change at least one field")
        return RequestSpec(
            "PATCH", event_path(mailbox, self.event_id), body, (("If-Match", self.etag),)
        )


@dataclass(frozen=True, slots=True)
class DeleteEvent:
    event_id: str
    etag: str

    def __post_init__(self) -> None:
        if not self.etag.strip():
            raise InvalidArgument("etag", 'must be the ETag last read, or "*" to delete anyway')

    def request(self, mailbox: str) -> RequestSpec:
        return RequestSpec(
            "DELETE", event_path(mailbox, self.event_id), None, (("If-Match", self.etag),)
        )


@dataclass(frozen=True, slots=True)
class CancelEvent:
    event_id: str
    comment: str | None = None

    def request(self, mailbox: str) -> RequestSpec:
        body = {"comment": self.comment} if self.comment else {}
        return RequestSpec("POST", f"{event_path(mailbox, self.event_id)}/cancel", body)


WriteOperation = CreateEvent | UpdateEvent | DeleteEvent | CancelEvent
