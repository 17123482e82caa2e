"""The CRM's own exceptions.

Each carries a machine-readable `code`, a `message` written for a person, and the `field` at fault
(or None),
so the web edge can answer `{"error": {"code", "message", "field"}}` without knowing the rule
behind it.
"""

from __future__ import annotations


class CrmError(Exception):
    """A request the CRM refused; nothing was written."""

    code = "crm_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInputError(CrmError):
    """A value is missing, malformed or out of range."""

    code = "invalid_input"


class NotFoundError(CrmError):
    """The record named does not exist."""

    code = "not_found"


class DuplicateError(CrmError):
    """The value must be unique and another record already has it."""

    code = "duplicate"


class VersionConflictError(CrmError):
    """Someone else changed the record since the caller read it (optimistic concurrency)."""

    code = "version_conflict"


class ReadOnlyCopyError(CrmError):
    """The event is an internal attendee's copy; only the owner's event may be changed."""

    code = "read_only_copy"


class RecurrenceManagedInMicrosoft365Error(CrmError):
    """The recurrence of a series from Microsoft 365 can only be changed in Outlook."""

    code = "recurrence_managed_in_microsoft365"


class TeamsInvitationSentError(CrmError):
    """The Teams Meeting flag cannot be cleared once the invitation has gone out."""

    code = "teams_invitation_sent"


class InvalidTokenError(CrmError):
    """The presented API token is unknown or malformed."""

    code = "invalid_token"
