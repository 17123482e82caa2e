"""The sync engine's own errors, each with a machine-readable code.

The web edge turns a `SyncError` into `{"error": {"code", "message", "field"}}`; the runners record
it in the sync log. The core raises only for input it cannot make sense of (a naive datetime, an
unknown show-as value, an unreadable recurrence): decisions that go against the user's wish (a
refused recurrence change, a Teams flag that did not take) are not errors but notices in the plan,
because the run must carry on for every other event.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error the sync engine raises.

    `code` is stable and machine-readable; `message` is for a person and says what to do; `field`
    names the event field at fault when there is one.
    """

    code = "sync_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        if self.field is None:
            return self.message
        return f"{self.field}: {self.message}"


class InvalidEventData(SyncError):
    """A value cannot describe a calendar event (naive time, end before start, bad zone…)."""

    code = "invalid_event_data"


class InvalidRecurrence(SyncError):
    """A recurrence pattern or range is incomplete or inconsistent, so it cannot be synced."""

    code = "invalid_recurrence"


class InvalidAttendee(SyncError):
    """An attendee address is unusable (empty, or not an e-mail address)."""

    code = "invalid_attendee"


class InconsistentSyncState(SyncError):
    """A runner fed the core a state that cannot occur (e.g. events of two different links).

    This is a programming error in a runner, not bad user input; it is raised so that nothing is
    written.
    """

    code = "inconsistent_sync_state"


class InvalidGuardInput(SyncError):
    """The mass-deletion guard got impossible counts (negative, or more deletions than events)."""

    code = "invalid_guard_input"
