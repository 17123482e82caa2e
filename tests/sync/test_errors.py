"""Sync errors carry a machine-readable code, the field at fault and a message for a person."""

from __future__ import annotations

import pytest

from calsync.sync.errors import (
    InconsistentSyncState,
    InvalidAttendee,
    InvalidEventData,
    InvalidGuardInput,
    InvalidRecurrence,
    SyncError,
)


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        (InvalidEventData, "invalid_event_data"),
        (InvalidRecurrence, "invalid_recurrence"),
        (InvalidAttendee, "invalid_attendee"),
        (InconsistentSyncState, "inconsistent_sync_state"),
        (InvalidGuardInput, "invalid_guard_input"),
    ],
)
def test_each_error_has_its_own_code_and_is_a_sync_error(
    error_type: type[SyncError], code: str
) -> None:
    error = error_type("end must be after start", field="end")
    assert isinstance(error, SyncError)
    assert error.code == code
    assert error.field == "end"
    assert error.message == "end must be after start"
    assert str(error) == "end: end must be after start"


def test_an_error_without_a_field_reads_as_its_message() -> None:
    assert str(SyncError("Microsoft 365 is unreachable")) == "Microsoft 365 is unreachable"
