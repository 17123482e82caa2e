"""Run a `SyncRuntime` for as long as the web app runs (`calsync serve`, `calsync demo`).

`install_sync_runtime(app)` wraps the app's lifespan: after the app has started, the push worker and
scheduler start in a thread with an event loop of their own (`host.RuntimeHost`, which says why)
and are published as `app.state.sync_runtime` (the API's "sync now" uses it); they stop before the
app closes its database. The Graph endpoints and the secret key are published too
(`app.state.graph_endpoints`, `app.state.secret_box`), so enabling through the API tests the
connection against the same Microsoft 365 the runtime will use. With
`CALSYNC_PUBLIC_URL` set (or `webhooks` given), the webhook receiver is mounted and the runtime
keeps a subscription per synced mailbox. With `CALSYNC_RUNTIME=jobs` (PostgreSQL) the hosted
runtime runs nothing itself: it defers jobs for `calsync worker` processes
(`calsync.runtime.jobs.runtimes.DeferringRuntime`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.host import RuntimeHost
from calsync.runtime.jobs.frontend import deferring_runtime
from calsync.runtime.jobs.settings import jobs_mode
from calsync.runtime.logs import configure_logging
from calsync.runtime.receiver import router as webhook_receiver
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from calsync.runtime.webhooks import WebhookSettings


def install_sync_runtime(
    app: FastAPI,
    *,
    endpoints: GraphEndpoints | None = None,
    box: SecretBox | None = None,
    webhooks: WebhookSettings | None = None,
    **runtime_options: Any,
) -> None:
    """Start the sync service with `app`; `runtime_options` go to `SyncRuntime` (tests tune the
    tick and retry caps)."""
    configure_logging()
    app.state.graph_endpoints = endpoints or GraphEndpoints.from_environment()
    app.state.secret_box = box or SecretBox.from_environment()
    if webhooks is None:
        webhooks = WebhookSettings.from_environment(app.state.secret_box)
    if webhooks is not None:
        app.include_router(webhook_receiver)
    app_lifespan = app.router.lifespan_context
    # CALSYNC_RUNTIME=jobs: `calsync worker` processes run the sync; this one only defers jobs.
    deferring = jobs_mode()

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        async with app_lifespan(running):
            runtime = (
                deferring_runtime(
                    running.state.session_factory,
                    running.state.settings.database_url,
                    endpoints=running.state.graph_endpoints,
                    box=running.state.secret_box,
                    webhooks=webhooks,
                    **runtime_options,
                )
                if deferring
                else SyncRuntime(
                    running.state.session_factory,
                    endpoints=running.state.graph_endpoints,
                    box=running.state.secret_box,
                    webhooks=webhooks,
                    **runtime_options,
                )
            )
            host = RuntimeHost(runtime)
            await asyncio.to_thread(host.start)
            running.state.sync_runtime = host
            try:
                yield
            finally:
                running.state.sync_runtime = None
                await asyncio.to_thread(host.stop)

    app.router.lifespan_context = lifespan
