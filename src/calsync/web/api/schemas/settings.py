"""The organisation's Sync Settings as the API shows them: secrets are never part of it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from calsync.web.api.schemas.base import PatchBody
from calsync.web.api.schemas.common import OptionalName


class SyncSettingsOut(BaseModel):
    name: str = Field(description="The firm's name.")
    sync_enabled: bool = Field(description="Whether the Microsoft 365 sync is on (read-only here).")
    run_frequency_minutes: int
    window_past_days: int
    window_future_days: int
    sync_log_retention_days: int = Field(
        description="Days the sync log and the record of sync runs are kept (older ones are "
        "pruned by the sync service once a day)."
    )
    tenant_id: str | None = Field(description="Microsoft 365 tenant connected, if any.")
    client_id: str | None
    has_client_secret: bool
    has_certificate: bool


class SyncSettingsUpdate(PatchBody):
    """The settings an administrator changes here. Connecting Microsoft 365 and turning the sync
    on go through the enablement flow, which tests the connection first."""

    name: OptionalName | None = None
    # Their ranges are the CRM service's rule; it names the field when a value is out of range.
    run_frequency_minutes: int | None = None
    window_past_days: int | None = None
    window_future_days: int | None = None
    sync_log_retention_days: int | None = None
