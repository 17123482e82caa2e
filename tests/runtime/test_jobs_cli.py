"""`calsync worker` refuses to start, naming the problem, when it cannot run the jobs."""

from __future__ import annotations

import socket

import httpx
import pytest
from typer.testing import CliRunner

from calsync.cli import app
from calsync.runtime.metrics import serve_metrics


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        (
            {"CALSYNC_DATABASE_URL": "sqlite:///calsync.sqlite3"},
            "CALSYNC_DATABASE_URL: the jobs runtime (CALSYNC_RUNTIME=jobs, `calsync worker`) "
            "needs PostgreSQL",
        ),
        (
            {
                "CALSYNC_DATABASE_URL": "postgresql+psycopg://calsync@127.0.0.1/calsync",
                "CALSYNC_WORKER_HEARTBEAT_SECONDS": "often",
            },
            "CALSYNC_WORKER_HEARTBEAT_SECONDS: must be a number of seconds, not 'often'",
        ),
        (
            {
                "CALSYNC_DATABASE_URL": f"postgresql+psycopg://calsync:pw@127.0.0.1:{_closed_port()}/x"
            },
            "cannot open the database postgresql+psycopg://calsync:***@127.0.0.1",
        ),
    ],
)
def test_the_worker_refuses_to_start(
    environment: dict[str, str], problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 1
    assert problem in result.output.replace("\n", " ")


def test_a_worker_refuses_a_metrics_port_it_cannot_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CALSYNC_DATABASE_URL", f"postgresql+psycopg://calsync@127.0.0.1:{_closed_port()}/x"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["worker", "--metrics-port", str(port)])
    assert result.exit_code == 1
    assert f"--metrics-port: cannot serve metrics at 127.0.0.1:{port}" in result.output


def test_a_worker_serves_its_metrics_for_prometheus() -> None:
    server = serve_metrics("127.0.0.1", 0)
    try:
        port = server.server_address[1]
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.shutdown()
        server.server_close()
    assert "# TYPE calsync_sync_runs_total counter" in body
    assert "calsync_push_latency_seconds_bucket" in body
