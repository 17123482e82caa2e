"""`/settings`: the organisation's Sync Settings (administrators only; secrets never shown)."""

from __future__ import annotations

from fastapi import APIRouter

from calsync.crm.models import Organization
from calsync.crm.services import organization as organization_service
from calsync.web.api.schemas.settings import SyncSettingsOut, SyncSettingsUpdate
from calsync.web.auth import AdminUser
from calsync.web.database import DbSession

router = APIRouter(prefix="/settings", tags=["settings"])


def _settings_out(organization: Organization) -> SyncSettingsOut:
    return SyncSettingsOut(
        name=organization.name,
        sync_enabled=organization.sync_enabled,
        run_frequency_minutes=organization.run_frequency_minutes,
        window_past_days=organization.window_past_days,
        window_future_days=organization.window_future_days,
        sync_log_retention_days=organization.sync_log_retention_days,
        tenant_id=organization.tenant_id,
        client_id=organization.client_id,
        has_client_secret=organization.client_secret_encrypted is not None,
        has_certificate=organization.certificate_private_key_encrypted is not None,
    )


@router.get("")
def get_settings(session: DbSession, admin: AdminUser) -> SyncSettingsOut:
    return _settings_out(organization_service.get_organization(session))


@router.patch("")
def update_settings(
    body: SyncSettingsUpdate, session: DbSession, admin: AdminUser
) -> SyncSettingsOut:
    """Change the firm's name, the run frequency, the sync window or how long the sync log is
    kept."""
    changes = organization_service.SyncSettingsChanges(**body.sent_fields())
    return _settings_out(organization_service.update_sync_settings(session, changes))
