"""What every Microsoft 365 sync page needs: the enabled check and the server's sync parts.

SPEC §7: until an administrator enables the add-on, nobody sees any sync feature. The admin pages
therefore send an administrator to the enable page (`/admin/sync`) while the sync is off, and the
navigation shows only that page. The endpoints, the key sealing stored secrets and the running sync
service are the ones the REST API uses (`calsync.web.api.sync`), so a page and an API call always
reach the same tenant through the same runtime.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from calsync.crm.models import Organization
from calsync.crm.services.organization import get_organization
from calsync.runtime.secrets import SecretBox
from calsync.web.api.sync import graph_endpoints, sync_runtime

SYNC_PAGE = "/admin/sync"

__all__ = [
    "SYNC_PAGE",
    "SyncDisabled",
    "enabled_organization",
    "graph_endpoints",
    "page_secret_box",
    "sync_runtime",
]


class SyncDisabled(Exception):
    """A sync page other than the enable page was asked for while the sync is off."""

    code = "sync_not_enabled"


def enabled_organization(session: Session) -> Organization:
    """The organisation if its sync is enabled; otherwise `SyncDisabled` (the page redirects)."""
    organization = get_organization(session)
    if not organization.sync_enabled:
        raise SyncDisabled()
    return organization


def page_secret_box(request: Request) -> SecretBox:
    """The key that seals the tenant's secrets: the server's, else `CALSYNC_ENCRYPTION_KEY` and
    friends (raises `SyncServiceError` naming the problem when neither is usable)."""
    box = getattr(request.app.state, "secret_box", None)
    if isinstance(box, SecretBox):
        return box
    return SecretBox.from_environment()
