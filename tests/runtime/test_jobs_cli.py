"""`calsync worker` refuses to start, naming the problem, when it cannot run the jobs."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from calsync.cli import app


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
