"""The organisation row and its Sync Settings (SPEC §7).

The row is created on first use, so a fresh installation needs no set-up step. Nothing here checks
the Microsoft 365 connection or encrypts secrets: the enablement flow does that before it calls
`update_sync_settings`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Organization
from calsync.crm.services.changes import UNCHANGED, Unchanged

ORGANIZATION_ID = 1
MAX_WINDOW_DAYS = 3650
# The sync log is kept at least a day (yesterday's runs stay explainable) and at most ten years.
MAX_SYNC_LOG_RETENTION_DAYS = 3650
# The run frequencies an administrator chooses from (minutes): every 5, 15 or 30 minutes, hourly,
# every 2, 4, 6 or 12 hours, or daily. A fixed list keeps the scheduler's spread meaningful and the
# choice readable; an arbitrary 7 or 1439 is refused by name.
RUN_FREQUENCY_CHOICES = (5, 15, 30, 60, 120, 240, 360, 720, 1440)


@dataclass(frozen=True)
class SyncSettingsChanges:
    """The settings to change; every field left UNCHANGED keeps its current value."""

    name: str | Unchanged = UNCHANGED
    sync_enabled: bool | Unchanged = UNCHANGED
    run_frequency_minutes: int | Unchanged = UNCHANGED
    window_past_days: int | Unchanged = UNCHANGED
    window_future_days: int | Unchanged = UNCHANGED
    sync_log_retention_days: int | Unchanged = UNCHANGED
    tenant_id: str | Unchanged | None = UNCHANGED
    client_id: str | Unchanged | None = UNCHANGED
    client_secret_encrypted: bytes | Unchanged | None = UNCHANGED
    certificate_thumbprint: str | Unchanged | None = UNCHANGED
    certificate_pem: str | Unchanged | None = UNCHANGED
    certificate_private_key_encrypted: bytes | Unchanged | None = UNCHANGED


def get_organization(session: Session) -> Organization:
    """The organisation, created with default Sync Settings the first time it is asked for."""
    organization = session.get(Organization, ORGANIZATION_ID)
    if organization is not None:
        return organization
    # The fixed id makes a concurrent first use fail on the primary key instead of adding a second
    # organisation; the loser's transaction rolls back and a retry finds the row.
    organization = Organization(id=ORGANIZATION_ID)
    session.add(organization)
    session.flush()
    return organization


def _check_whole_number(value: object, field: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError("must be a whole number", field=field)
    if not minimum <= value <= maximum:
        raise InvalidInputError(f"must be between {minimum} and {maximum}", field=field)
    return value


def _check_run_frequency(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError("must be a whole number of minutes", field=field)
    if value not in RUN_FREQUENCY_CHOICES:
        choices = ", ".join(str(choice) for choice in RUN_FREQUENCY_CHOICES)
        raise InvalidInputError(f"must be one of {choices} (minutes)", field=field)
    return value


def update_sync_settings(session: Session, changes: SyncSettingsChanges) -> Organization:
    """Apply `changes` to the organisation after checking all of them; returns the organisation."""
    checked: dict[str, object] = {}
    for setting in fields(changes):
        value = getattr(changes, setting.name)
        if isinstance(value, Unchanged):
            continue
        if setting.name == "run_frequency_minutes":
            value = _check_run_frequency(value, setting.name)
        elif setting.name in ("window_past_days", "window_future_days"):
            value = _check_whole_number(value, setting.name, 0, MAX_WINDOW_DAYS)
        elif setting.name == "sync_log_retention_days":
            value = _check_whole_number(value, setting.name, 1, MAX_SYNC_LOG_RETENTION_DAYS)
        elif setting.name == "sync_enabled" and not isinstance(value, bool):
            raise InvalidInputError("must be true or false", field=setting.name)
        elif setting.name == "name" and isinstance(value, str):
            value = value.strip()
        elif isinstance(value, str):
            value = value.strip() or None
        checked[setting.name] = value
    organization = get_organization(session)
    for name, value in checked.items():
        setattr(organization, name, value)
    session.flush()
    return organization
