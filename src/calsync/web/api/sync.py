"""`/sync`: enable or disable the Microsoft 365 sync, "sync now", mailbox status, the sync log, and
the deletions the mass-deletion guard held (SPEC §9) for an administrator to confirm or discard.

Administrators only. Until the sync is enabled every endpoint here except `enable` answers 409
`sync_not_enabled` (SPEC §7). Enabling tests the connection (token request, then a calendar read)
before saving anything; its secrets are sealed at rest and never returned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, Path, Query, Request

from calsync.crm.models import Organization, User
from calsync.crm.services.users import get_user
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import (
    check_connection,
    disable_sync,
    require_enabled,
    save_connection,
    test_mailbox_or_default,
)
from calsync.runtime.errors import SyncServiceError, SyncServiceNotRunningError
from calsync.runtime.held_deletions import all_held_deletions, require_held
from calsync.runtime.host import RuntimeHost
from calsync.runtime.secrets import SecretBox
from calsync.runtime.status import (
    LogFilter,
    RunFilter,
    mailbox_states,
    sync_log_query,
    sync_runs_query,
)
from calsync.sync.storage.models import LogKind, RunKind, RunStatus
from calsync.web.api.schemas.errors import error_responses
from calsync.web.api.schemas.held_deletions import HeldDecisionOut, HeldDeletionsOut
from calsync.web.api.schemas.sync import (
    EnabledOut,
    EnableSyncIn,
    MailboxStatusOut,
    SyncConnectionOut,
    SyncLogLineOut,
    SyncNowIn,
    SyncNowOut,
    SyncRunOut,
    SyncStatusOut,
)
from calsync.web.auth import AdminUser
from calsync.web.database import DbSession
from calsync.web.errors import ApiError
from calsync.web.pagination import Page, PageRequest, build_page, page_request

router = APIRouter(prefix="/sync", tags=["sync"], responses=error_responses(409))


def _refuse(error: SyncServiceError) -> NoReturn:
    raise ApiError(error.status, error.code, error.message, error.field) from error


def enabled_organization(session: DbSession, admin: AdminUser) -> Organization:
    """FastAPI dependency: an administrator asking, and the sync enabled (else 409)."""
    try:
        return require_enabled(session)
    except SyncServiceError as error:
        _refuse(error)


EnabledOrganization = Annotated[Organization, Depends(enabled_organization)]


def graph_endpoints(request: Request) -> GraphEndpoints:
    """Where Graph is for this server: set by `calsync demo`, else from the environment."""
    endpoints = getattr(request.app.state, "graph_endpoints", None)
    return endpoints if isinstance(endpoints, GraphEndpoints) else GraphEndpoints.from_environment()


def secret_box(request: Request) -> SecretBox:
    box = getattr(request.app.state, "secret_box", None)
    if isinstance(box, SecretBox):
        return box
    try:
        return SecretBox.from_environment()
    except SyncServiceError as error:
        _refuse(error)


def sync_runtime(request: Request) -> RuntimeHost | None:
    runtime = getattr(request.app.state, "sync_runtime", None)
    return runtime if isinstance(runtime, RuntimeHost) else None


def _connection_out(organization: Organization) -> SyncConnectionOut:
    return SyncConnectionOut(
        sync_enabled=organization.sync_enabled,
        tenant_id=organization.tenant_id,
        client_id=organization.client_id,
        has_client_secret=organization.client_secret_encrypted is not None,
        has_certificate=organization.certificate_private_key_encrypted is not None,
    )


@router.post("/enable", responses=error_responses(422, 500))
async def enable(
    body: EnableSyncIn, request: Request, session: DbSession, admin: AdminUser
) -> EnabledOut:
    """Connect the Microsoft 365 tenant and switch the sync on, after a successful test.

    The test is a real token request followed by a read of the test mailbox's calendar; if either
    fails the answer is 422 `connection_test_failed` naming the step, and nothing is saved.
    Enabling again replaces the stored connection.
    """
    connection = TenantConnection(
        tenant_id=body.tenant_id,
        client_id=body.client_id,
        client_secret=body.client_secret,
        certificate_pem=body.certificate_pem,
        certificate_thumbprint=body.certificate_thumbprint,
        private_key_pem=body.private_key_pem,
    )
    try:
        settings = connection.graph_settings(graph_endpoints(request))
        mailbox = test_mailbox_or_default(session, body.test_mailbox)
        check = await check_connection(settings, mailbox)
        # Only a tested connection needs the key (which is generated on first use).
        organization = save_connection(session, connection, secret_box(request))
    except SyncServiceError as error:
        _refuse(error)
    session.commit()
    runtime = sync_runtime(request)
    if runtime is not None:
        runtime.wake_push()  # changes made while the sync was off go out now
    return EnabledOut(
        **_connection_out(organization).model_dump(),
        tested_mailbox=check.mailbox,
        can_host_teams_meetings=check.can_host_teams_meetings,
    )


@router.post("/disable")
def disable(session: DbSession, organization: EnabledOrganization) -> SyncConnectionOut:
    """Switch the sync off: runs stop; the connection, links and sync log are kept."""
    try:
        return _connection_out(disable_sync(session))
    except SyncServiceError as error:
        _refuse(error)


@router.post("/runs", status_code=202, responses=error_responses(404, 503))
async def sync_now(
    body: SyncNowIn, request: Request, session: DbSession, organization: EnabledOrganization
) -> SyncNowOut:
    """ "Sync now": pull every synced mailbox (or one user's) at once and push what waits."""
    mailbox: str | None = None
    if body.user_id is not None:
        user = get_user(session, body.user_id)
        if not user.sync_enabled:
            raise ApiError(
                409,
                "user_not_synced",
                f"{user.name}'s sync is switched off; switch it on before syncing their mailbox",
                "user_id",
            )
        mailbox = user.email_normalized
    # End this request's transaction (the token check wrote its last use) before the runs start:
    # on SQLite a run would otherwise wait for this request's write lock.
    session.commit()
    runtime = sync_runtime(request)
    if runtime is None:
        raise ApiError(
            503,
            "sync_service_not_running",
            "this server does not run the sync service; start it with `calsync serve`",
        )
    try:
        return SyncNowOut(mailboxes=await runtime.sync_now(mailbox))
    except SyncServiceError as error:
        _refuse(error)


@router.get("/status")
def status(
    request: Request, session: DbSession, organization: EnabledOrganization
) -> SyncStatusOut:
    """Each staff user's mailbox: last run, state, changes waiting and failed pushes."""
    runtime = sync_runtime(request)
    return SyncStatusOut(
        sync_enabled=organization.sync_enabled,
        run_frequency_minutes=organization.run_frequency_minutes,
        window_past_days=organization.window_past_days,
        window_future_days=organization.window_future_days,
        service_running=runtime is not None,
        service_problem=runtime.problem if runtime is not None else None,
        mailboxes=[MailboxStatusOut(**state.__dict__) for state in mailbox_states(session)],
    )


@router.get("/log", response_model=Page[SyncLogLineOut], responses=error_responses(404))
def sync_log(
    request: Request,
    session: DbSession,
    organization: EnabledOrganization,
    page: Annotated[PageRequest, Depends(page_request)],
    user_id: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="Only this user's lines.")
    ] = None,
    since: Annotated[datetime | None, Query(description="Lines at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Lines before this time.")] = None,
    kind: Annotated[LogKind | None, Query(description="Only this kind of line.")] = None,
) -> Page[SyncLogLineOut]:
    """The sync log, newest first: writes in each direction, conflicts, notices and errors."""
    since, until = _in_utc("since", since), _in_utc("until", until)
    user: User | None = get_user(session, user_id) if user_id is not None else None
    query = sync_log_query(LogFilter(user=user, since=since, until=until, kind=kind))
    lines = session.scalars(query.offset(page.offset).limit(page.fetch_count)).all()
    return build_page(
        request,
        page,
        [SyncLogLineOut.model_validate(line) for line in lines],
    )


def _in_utc(name: str, moment: datetime | None) -> datetime | None:
    """A `since`/`until` bound in UTC, as the database stores instants (SQLite would otherwise
    compare the wall time and drop the offset); a bound without a zone is refused by name."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ApiError(
            422, "invalid_value", f"{name}: give a time zone (e.g. 2026-11-26T09:00:00Z)", name
        )
    return moment.astimezone(UTC)


@router.get("/runs", response_model=Page[SyncRunOut], responses=error_responses(404))
def sync_runs(
    request: Request,
    session: DbSession,
    organization: EnabledOrganization,
    page: Annotated[PageRequest, Depends(page_request)],
    user_id: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="Only this user's runs.")
    ] = None,
    since: Annotated[datetime | None, Query(description="Runs started at or after this.")] = None,
    until: Annotated[datetime | None, Query(description="Runs started before this.")] = None,
    kind: Annotated[RunKind | None, Query(description="`push` or `pull`.")] = None,
    status: Annotated[RunStatus | None, Query(description="Only runs that ended so.")] = None,
) -> Page[SyncRunOut]:
    """Every push and pull, newest first: when, how it ended and how much it wrote each way."""
    since, until = _in_utc("since", since), _in_utc("until", until)
    user: User | None = get_user(session, user_id) if user_id is not None else None
    query = sync_runs_query(
        RunFilter(user=user, since=since, until=until, kind=kind, status=status)
    )
    runs = session.scalars(query.offset(page.offset).limit(page.fetch_count)).all()
    return build_page(
        request,
        page,
        [SyncRunOut.model_validate(run) for run in runs],
    )


@router.get("/held-deletions")
def list_held_deletions(
    session: DbSession, organization: EnabledOrganization
) -> list[HeldDeletionsOut]:
    """Every mailbox whose runs the mass-deletion guard holds, with the events at stake."""
    return [HeldDeletionsOut.of(held) for held in all_held_deletions(session)]


@router.get("/held-deletions/{user_id}", responses=error_responses(404))
def get_held_deletions(
    user_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    session: DbSession,
    organization: EnabledOrganization,
) -> HeldDeletionsOut:
    """What one user's mailbox holds: 409 `nothing_held` when it waits for nothing."""
    user = get_user(session, user_id)
    try:
        return HeldDeletionsOut.of(require_held(session, user.email_normalized))
    except SyncServiceError as error:
        _refuse(error)


@router.post(
    "/held-deletions/{user_id}/confirm", status_code=202, responses=error_responses(404, 503)
)
async def confirm_held_deletions(
    user_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    request: Request,
    session: DbSession,
    organization: EnabledOrganization,
) -> HeldDecisionOut:
    """Apply the held deletions: the mailbox's run starts now and deletes them."""
    return await _decide(request, session, user_id, confirm=True)


@router.post(
    "/held-deletions/{user_id}/discard", status_code=202, responses=error_responses(404, 503)
)
async def discard_held_deletions(
    user_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    request: Request,
    session: DbSession,
    organization: EnabledOrganization,
) -> HeldDecisionOut:
    """Keep the events on both sides (no longer linked; a kept CRM event says why); the
    mailbox's run starts now and syncs everything else."""
    return await _decide(request, session, user_id, confirm=False)


async def _decide(
    request: Request, session: DbSession, user_id: int, *, confirm: bool
) -> HeldDecisionOut:
    mailbox = get_user(session, user_id).email_normalized
    try:
        require_held(session, mailbox)
    except SyncServiceError as error:
        _refuse(error)
    # End this request's transaction before the runtime writes the decision (SQLite's lock).
    session.commit()
    runtime = sync_runtime(request)
    try:
        if runtime is None:
            raise SyncServiceNotRunningError(
                "this server does not run the sync service; start it with `calsync serve`, or "
                "decide with `calsync sync confirm-deletions` / `calsync sync discard-deletions`"
            )
        await runtime.call(runtime.runtime.decide_held_deletions(mailbox, confirm=confirm))
    except SyncServiceError as error:
        _refuse(error)
    return HeldDecisionOut(
        mailbox=mailbox, decision="confirmed" if confirm else "discarded", run_started=True
    )
