"""The sync service's refusals, each with a machine-readable code and a message for a person.

The API answers them as `{"error": {"code", "message", "field"}}` with `status`; the CLI prints the
message. Nothing is saved when one of them is raised.
"""

from __future__ import annotations


class SyncServiceError(Exception):
    """A sync feature refused; `status` is the HTTP status the API answers with."""

    code = "sync_service_error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class SyncNotEnabledError(SyncServiceError):
    """SPEC §7: until an administrator enables the add-on, no sync feature is available."""

    code = "sync_not_enabled"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "the Microsoft 365 sync is not enabled for this organisation; an administrator "
            "enables it with POST /api/v1/sync/enable or `calsync sync enable`"
        )


class InvalidConnectionError(SyncServiceError):
    """The tenant connection given to enable the sync is incomplete or malformed."""

    code = "invalid_connection"
    status = 422


class ConnectionTestFailedError(SyncServiceError):
    """The token request or the test call to Microsoft 365 failed; nothing was saved."""

    code = "connection_test_failed"
    status = 422


class EncryptionKeyError(SyncServiceError):
    """The key protecting stored secrets is malformed, or not the key they were sealed with."""

    code = "encryption_key_invalid"
    status = 500


class SyncServiceNotRunningError(SyncServiceError):
    """ "Sync now" needs the push worker and scheduler of `calsync serve` in this process."""

    code = "sync_service_not_running"
    status = 503


class RuntimeStopTimeoutError(SyncServiceError):
    """The sync runtime did not finish stopping in time. Its event loop is stopped anyway, so it
    never outlives the app and its database; the message says what was still running."""

    code = "sync_runtime_stop_timeout"
    status = 500
