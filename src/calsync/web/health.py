"""Probes and metrics for whoever runs CalSync: `/healthz`, `/readyz` and `/metrics`.

- `/healthz`: the process answers (liveness); it never touches the database, so a slow database
  does not get a healthy process restarted.
- `/readyz`: the database is reachable and at the migration this release ships (readiness); 503
  with the reason otherwise, so a load balancer holds traffic during an upgrade.
- `/metrics`: Prometheus text format (`calsync.runtime.metrics`); the outbox depth is counted at
  each scrape.

They sit outside `/api/v1`: no token, and not part of the versioned API.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from calsync.crm.migrate import head_revision
from calsync.runtime import metrics
from calsync.sync.storage.models import OutboxEntry

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    engine: Engine = request.app.state.engine
    expected = head_revision()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return JSONResponse(
            {"status": "not_ready", "reason": f"the database cannot be reached: {reason}"},
            status_code=503,
        )
    if current != expected:
        return JSONResponse(
            {
                "status": "not_ready",
                "reason": f"the database is at migration {current}, this release needs "
                f"{expected}; run `calsync db upgrade`",
            },
            status_code=503,
        )
    return JSONResponse({"status": "ready", "migration": current})


@router.get("/metrics")
def prometheus_metrics(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            depth = connection.scalar(select(func.count()).select_from(OutboxEntry.__table__))
        metrics.OUTBOX_DEPTH.set(depth or 0)
    except SQLAlchemyError:
        metrics.ERRORS.labels("metrics").inc()  # the last known depth stays
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
