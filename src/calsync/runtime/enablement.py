"""Enabling and disabling the sync for the organisation (SPEC §7).

Enabling proves the connection before anything is saved: a real token request to the tenant's
authority, then a test call to Graph (the test mailbox's calendar, which needs the admin consent
and the mailbox's access policy). If either fails, the error says which step failed and why, and
the organisation is left as it was. Only then are the credentials sealed and stored, and the sync
switched on. Disabling switches it off and keeps everything else (links, cursors, log), so
enabling again carries on where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Organization, User
from calsync.crm.services.organization import (
    SyncSettingsChanges,
    get_organization,
    update_sync_settings,
)
from calsync.graph.auth import MsalTokenProvider
from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError
from calsync.graph.settings import GraphSettings
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.errors import (
    ConnectionTestFailedError,
    InvalidConnectionError,
    SyncNotEnabledError,
)
from calsync.runtime.secrets import SecretBox

SessionOpener = Callable[[], Session]


@dataclass(frozen=True)
class ConnectionCheck:
    """What the connection test proved: the mailbox reached and whether it can host Teams."""

    mailbox: str
    can_host_teams_meetings: bool


def default_test_mailbox(session: Session) -> str | None:
    """The mailbox the test call reads when none is given: the first user whose sync is on."""
    return session.scalar(
        select(User.email_normalized).where(User.sync_enabled.is_(True)).order_by(User.id).limit(1)
    )


async def check_connection(settings: GraphSettings, mailbox: str) -> ConnectionCheck:
    """A real token request, then the test call; raises `ConnectionTestFailedError` naming the
    step that failed."""
    tokens = MsalTokenProvider(settings)
    try:
        try:
            await tokens.token()
        except GraphError as error:
            raise ConnectionTestFailedError(
                f"the token request to {settings.authority} failed: {error} ({error.code}); "
                "check the tenant id, the application id and the secret or certificate",
                field="client_secret" if settings.client_secret else "private_key_pem",
            ) from error
        async with GraphClient(settings, tokens=tokens) as graph:
            try:
                calendar = await graph.get_calendar(mailbox)
            except GraphError as error:
                raise ConnectionTestFailedError(
                    f"the token was issued, but the test call reading the calendar of {mailbox} "
                    f"failed: {error} ({error.code}); check the Calendars.ReadWrite application "
                    "permission, its admin consent and the application access policy",
                    field="test_mailbox",
                ) from error
    finally:
        tokens.close()
    return ConnectionCheck(mailbox, bool(calendar.can_host_teams_meetings))


def test_mailbox_or_default(session: Session, requested: str | None) -> str:
    mailbox = (requested or "").strip().lower() or default_test_mailbox(session)
    if not mailbox:
        raise InvalidConnectionError(
            "name a mailbox for the test call: no user has sync switched on yet",
            field="test_mailbox",
        )
    return mailbox


def save_connection(session: Session, connection: TenantConnection, box: SecretBox) -> Organization:
    """Seal and store a tested connection and switch the sync on (one transaction: the caller
    commits)."""
    return update_sync_settings(
        session,
        SyncSettingsChanges(
            sync_enabled=True,
            tenant_id=connection.tenant_id,
            client_id=connection.client_id,
            client_secret_encrypted=(
                box.seal(connection.client_secret) if connection.client_secret else None
            ),
            certificate_pem=connection.certificate_pem,
            certificate_thumbprint=connection.certificate_thumbprint,
            certificate_private_key_encrypted=(
                box.seal(connection.private_key_pem) if connection.private_key_pem else None
            ),
        ),
    )


async def enable_sync(
    sessions: SessionOpener,
    connection: TenantConnection,
    endpoints: GraphEndpoints,
    box: SecretBox,
    *,
    test_mailbox: str | None = None,
) -> ConnectionCheck:
    """Test `connection`, then store it and switch the sync on; nothing is saved if a step fails."""
    settings = connection.graph_settings(endpoints)
    with sessions() as session:
        mailbox = test_mailbox_or_default(session, test_mailbox)
    check = await check_connection(settings, mailbox)
    with sessions() as session:
        save_connection(session, connection, box)
        session.commit()
    return check


def disable_sync(session: Session) -> Organization:
    """Switch the sync off; the connection, links, cursors and log stay for the next enable."""
    require_enabled(session)
    return update_sync_settings(session, SyncSettingsChanges(sync_enabled=False))


def require_enabled(session: Session) -> Organization:
    """The organisation, if its sync is enabled; else `SyncNotEnabledError` (SPEC §7)."""
    organization = get_organization(session)
    if not organization.sync_enabled:
        raise SyncNotEnabledError()
    return organization
