"""The organisation row and its Sync Settings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Organization
from calsync.crm.services.organization import (
    SyncSettingsChanges,
    get_organization,
    update_sync_settings,
)


def test_the_organisation_is_created_once_with_sync_off(db_session: Session) -> None:
    first = get_organization(db_session)
    db_session.commit()
    assert get_organization(db_session) is first
    assert db_session.scalar(select(func.count()).select_from(Organization)) == 1
    assert first.sync_enabled is False
    assert first.run_frequency_minutes == 15
    assert (first.window_past_days, first.window_future_days) == (30, 365)


def test_sync_settings_are_saved_including_secret_bytes(db_session: Session) -> None:
    update_sync_settings(
        db_session,
        SyncSettingsChanges(
            sync_enabled=True,
            run_frequency_minutes=5,
            window_past_days=7,
            window_future_days=180,
            tenant_id=" 72f988bf-86f1-41af-91ab-2d7cd011db47 ",
            client_id="0d5a3b8e-4c62-4f7e-9a1e-52b0c7d3e9aa",
            client_secret_encrypted=b"\x00\x01sealed",
        ),
    )
    db_session.commit()
    db_session.expire_all()
    stored = get_organization(db_session)
    assert stored.sync_enabled is True
    assert stored.run_frequency_minutes == 5
    assert stored.tenant_id == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert stored.client_secret_encrypted == b"\x00\x01sealed"
    assert stored.certificate_thumbprint is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (SyncSettingsChanges(run_frequency_minutes=0), "run_frequency_minutes"),
        (SyncSettingsChanges(run_frequency_minutes=7), "run_frequency_minutes"),
        (SyncSettingsChanges(run_frequency_minutes=True), "run_frequency_minutes"),
        (SyncSettingsChanges(window_past_days=-1), "window_past_days"),
        (SyncSettingsChanges(window_future_days=100_000), "window_future_days"),
        (SyncSettingsChanges(sync_enabled="yes"), "sync_enabled"),  # type: ignore[arg-type]
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    db_session: Session, changes: SyncSettingsChanges, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        update_sync_settings(db_session, changes)
    assert refused.value.field == field
    assert get_organization(db_session).run_frequency_minutes == 15


@pytest.mark.parametrize("minutes", [5, 15, 30, 60, 120, 240, 360, 720, 1440])
def test_every_offered_run_frequency_is_accepted(db_session: Session, minutes: int) -> None:
    update_sync_settings(db_session, SyncSettingsChanges(run_frequency_minutes=minutes))
    assert get_organization(db_session).run_frequency_minutes == minutes


def test_an_unoffered_run_frequency_names_the_choices(db_session: Session) -> None:
    with pytest.raises(InvalidInputError, match="must be one of 5, 15, 30, 60") as refused:
        update_sync_settings(db_session, SyncSettingsChanges(run_frequency_minutes=45))
    assert refused.value.field == "run_frequency_minutes"
