"""The sync service as the API shows it: enablement, "sync now", mailbox status and the sync log.

Secrets go in (enable) and never come out: responses only say whether a secret or certificate is
stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from calsync.web.api.schemas.base import RequestBody
from calsync.web.api.schemas.common import Email, ReferenceId


def _refuse_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(_refuse_nul)
]
SecretText = Annotated[
    str, StringConstraints(min_length=1, max_length=20_000), AfterValidator(_refuse_nul)
]


class EnableSyncIn(RequestBody):
    """The Microsoft 365 tenant's app-only connection: a client secret, or a certificate."""

    tenant_id: Identifier = Field(description="Directory (tenant) id or its domain name.")
    client_id: Identifier = Field(description="Application (client) id of CalSync's app.")
    client_secret: SecretText | None = Field(default=None, description="Never shown back.")
    certificate_pem: SecretText | None = Field(
        default=None, description="The app's public certificate (PEM)."
    )
    certificate_thumbprint: Identifier | None = Field(
        default=None, description="SHA-1 thumbprint, instead of the public certificate."
    )
    private_key_pem: SecretText | None = Field(
        default=None, description="The certificate's private key (PEM); never shown back."
    )
    test_mailbox: Email | None = Field(
        default=None,
        description="Mailbox the test call reads (default: the first user whose sync is on).",
    )


class SyncConnectionOut(BaseModel):
    sync_enabled: bool
    tenant_id: str | None
    client_id: str | None
    has_client_secret: bool
    has_certificate: bool


class EnabledOut(SyncConnectionOut):
    tested_mailbox: str = Field(description="The mailbox the test call read.")
    can_host_teams_meetings: bool = Field(description="Whether that mailbox can host Teams.")


class SyncNowIn(RequestBody):
    user_id: ReferenceId | None = Field(
        default=None, description="Only this user's mailbox; all synced mailboxes when left out."
    )


class SyncNowOut(BaseModel):
    mailboxes: list[str] = Field(description="Mailboxes whose pull was started.")


class MailboxStatusOut(BaseModel):
    user_id: int
    name: str
    mailbox: str
    synced: bool = Field(description="Whether this user's sync is switched on.")
    status: str = Field(description="`ok`, `needs_attention`, `error` or `never_run`.")
    status_message: str | None
    last_run_at: datetime | None
    pending_changes: int = Field(description="CRM changes waiting to reach Microsoft 365.")
    failed_changes: int = Field(description="Of those, changes whose push failed and is retried.")
    last_error: str | None


class SyncStatusOut(BaseModel):
    sync_enabled: bool
    run_frequency_minutes: int
    window_past_days: int
    window_future_days: int
    service_running: bool = Field(description="Push worker and scheduler run in this server.")
    service_problem: str | None = Field(
        description="Why the enabled sync cannot run (key, connection, endpoints), if it cannot."
    )
    mailboxes: list[MailboxStatusOut]


class SyncLogLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    run_id: int | None
    mailbox: str | None
    crm_event_id: int | None
    kind: str = Field(description="`action`, `conflict`, `notice` or `error`.")
    direction: str = Field(description="`crm_to_microsoft365`, `microsoft365_to_crm` or `none`.")
    code: str
    severity: str
    field: str | None
    message: str


class SyncRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(description="`push` (the outbox, every mailbox) or `pull` (one mailbox).")
    mailbox: str | None = Field(description="The pulled mailbox; null for pushes.")
    started_at: datetime
    finished_at: datetime | None = Field(description="Null while running (or if it crashed).")
    status: str = Field(description="`running`, `succeeded`, `held` or `failed`.")
    full_resync: bool = Field(description="A full listing of the mailbox instead of a delta.")
    crm_writes: int = Field(description="Changes written to the CRM.")
    graph_writes: int = Field(description="Changes written to Microsoft 365.")
    message: str | None = Field(description="Why it failed, in words.")
