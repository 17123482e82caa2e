"""Probes and metrics: liveness without the database, readiness with it, Prometheus text."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.web.conftest import Caller


def test_healthz_answers_without_a_token(api: TestClient) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(api: TestClient) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


def test_readyz_says_which_migration_is_missing(api: TestClient, api_session: Session) -> None:
    api_session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    api_session.commit()
    response = api.get("/readyz")
    assert response.status_code == 503
    assert "calsync db upgrade" in response.json()["reason"]


def test_metrics_show_the_sync_counters_and_the_outbox_depth(
    api: TestClient, admin: Caller
) -> None:
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for name in (
        "calsync_sync_runs_total",
        "calsync_sync_changes_total",
        "calsync_sync_conflicts_total",
        "calsync_sync_errors_total",
        "calsync_graph_requests_total",
        "calsync_graph_throttled_total",
        "calsync_push_latency_seconds_bucket",
        "calsync_outbox_depth 0.0",
    ):
        assert name in response.text
