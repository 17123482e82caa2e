"""Admin → Microsoft 365 sync: connecting the tenant, testing the connection, switching it off.

The form takes the tenant id, the application (client) id and either a client secret or a
certificate. *Test connection* runs the same check as enabling (a real token request, then a read
of the test mailbox's calendar) and saves nothing; *Test and enable* saves only after that check
passed (`calsync.runtime.enablement`). A secret is never rendered back into any page: after a test
the administrator types it again, and the stored one is only ever reported as "stored".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from calsync.crm.models import User
from calsync.crm.services.organization import get_organization
from calsync.runtime.connection import TenantConnection
from calsync.runtime.enablement import (
    ConnectionCheck,
    check_connection,
    default_test_mailbox,
    disable_sync,
    save_connection,
    test_mailbox_or_default,
)
from calsync.runtime.errors import SyncServiceError
from calsync.web.database import DbSession
from calsync.web.pages.forms import field_message, optional_text, read_form, text
from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import CurrentAdmin
from calsync.web.pages.sync_access import (
    SYNC_PAGE,
    graph_endpoints,
    page_secret_box,
    sync_runtime,
)

router = APIRouter()

# The form's fields, in the service's words; secrets are read but never put back into the page.
LABELS = {
    "tenant_id": "Tenant id",
    "client_id": "Application (client) id",
    "client_secret": "Client secret",
    "certificate_pem": "Public certificate (PEM)",
    "certificate_thumbprint": "Certificate thumbprint",
    "private_key_pem": "Private key (PEM)",
    "test_mailbox": "Test mailbox",
}
SECRET_FIELDS = frozenset({"client_secret", "private_key_pem"})
CREDENTIALS = ("secret", "certificate")


def connection_form_context(
    session: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    tested: ConnectionCheck | None = None,
) -> dict[str, Any]:
    """What the connection form shows: the typed values (never a secret), errors and test result."""
    organization = get_organization(session)
    shown = {
        "tenant_id": organization.tenant_id or "",
        "client_id": organization.client_id or "",
        "certificate_thumbprint": organization.certificate_thumbprint or "",
        "certificate_pem": organization.certificate_pem or "",
        "test_mailbox": "",
        "credential": (
            "certificate" if organization.certificate_private_key_encrypted else "secret"
        ),
    }
    shown.update(
        {name: value for name, value in (values or {}).items() if name not in SECRET_FIELDS}
    )
    return {
        "connection": shown,
        "connection_errors": errors or {},
        "tested": tested,
        "default_test_mailbox": default_test_mailbox(session),
        "has_client_secret": organization.client_secret_encrypted is not None,
        "has_certificate": organization.certificate_private_key_encrypted is not None,
    }


def render_enable_page(
    request: Request,
    admin: User,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    tested: ConnectionCheck | None = None,
    status_code: int = 200,
) -> Response:
    """The only sync page while the sync is off: connect the tenant and enable."""
    context = {
        "nav": "sync",
        **connection_form_context(session, values=values, errors=errors, tested=tested),
    }
    return render(request, "sync_enable.html", context, user=admin, status_code=status_code)


def _errors(refused: SyncServiceError) -> dict[str, str]:
    if refused.field in LABELS:
        return {refused.field: field_message(LABELS[refused.field], refused.message)}
    return {"_form": refused.message}


def _connection(values: dict[str, str], secrets: dict[str, str | None]) -> TenantConnection:
    """The typed connection; only the chosen kind of credential is passed on."""
    if values["credential"] == "certificate":
        return TenantConnection(
            tenant_id=values["tenant_id"],
            client_id=values["client_id"],
            certificate_pem=values["certificate_pem"] or None,
            certificate_thumbprint=values["certificate_thumbprint"] or None,
            private_key_pem=secrets["private_key_pem"],
        )
    return TenantConnection(
        tenant_id=values["tenant_id"],
        client_id=values["client_id"],
        client_secret=secrets["client_secret"],
    )


def _missing(values: dict[str, str], secrets: dict[str, str | None]) -> dict[str, str]:
    """Required parts left empty, each named, before anything is sent to Microsoft 365."""
    required = ["tenant_id", "client_id"]
    required.append("private_key_pem" if values["credential"] == "certificate" else "client_secret")
    return {
        name: f"{LABELS[name]} is required"
        for name in required
        if not (values.get(name) or secrets.get(name))
    }


@router.post(SYNC_PAGE + "/connection", response_class=HTMLResponse)
async def connect_tenant(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    """Test the connection (`action=test`) or test it and enable the sync (`action=enable`)."""
    form = await read_form(request)
    values = {name: text(form, name) for name in LABELS if name not in SECRET_FIELDS}
    values["credential"] = (
        text(form, "credential") if text(form, "credential") in CREDENTIALS else "secret"
    )
    secrets = {name: optional_text(form, name) for name in SECRET_FIELDS}
    enabling = text(form, "action") == "enable"
    missing = _missing(values, secrets)
    if missing:
        return render_enable_page(
            request, admin, db, values=values, errors=missing, status_code=422
        )
    connection = _connection(values, secrets)
    try:
        settings = connection.graph_settings(graph_endpoints(request))
        mailbox = test_mailbox_or_default(db, values["test_mailbox"] or None)
        check = await check_connection(settings, mailbox)
        if enabling:
            save_connection(db, connection, page_secret_box(request))
    except SyncServiceError as refused:
        db.rollback()
        return render_enable_page(
            request, admin, db, values=values, errors=_errors(refused), status_code=422
        )
    if not enabling:
        db.rollback()
        return render_enable_page(request, admin, db, values=values, tested=check)
    db.commit()
    runtime = sync_runtime(request)
    if runtime is not None:
        runtime.wake_push()  # changes made while the sync was off go out now
    return RedirectResponse(f"{SYNC_PAGE}?notice=sync-enabled", status_code=303)


@router.post(SYNC_PAGE + "/disable", response_class=HTMLResponse)
async def switch_off(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    """Stop syncing; the connection, links and sync log stay for the next enable."""
    await read_form(request)
    try:
        disable_sync(db)
    except SyncServiceError:
        db.rollback()  # already off: the enable page is what the administrator needs
        return RedirectResponse(SYNC_PAGE, status_code=303)
    db.commit()
    return RedirectResponse(f"{SYNC_PAGE}?notice=sync-disabled", status_code=303)
