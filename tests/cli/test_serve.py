"""`calsync serve` migrates the database and then really serves the API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.migrate import current_revision, head_revision


def test_serve_help_explains_the_options_and_where_the_database_is() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for expected in ("--host", "--port", "CALSYNC_DATABASE_URL", "/api/v1"):
        assert expected in result.output


_RUN_CALSYNC = "from calsync.cli import main; main()"


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_migrates_the_database_then_answers_on_the_printed_url(tmp_path: Path) -> None:
    database = tmp_path / "served.sqlite3"
    url = f"sqlite:///{database}"
    port = _free_loopback_port()
    environment = {**os.environ, "CALSYNC_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-c", _RUN_CALSYNC, "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{base}/api/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response is not None, "the server did not start within 30 s"
        assert response.status_code == 200
        assert response.json()["info"]["title"] == "CalSync API"
        assert current_revision(url) == head_revision()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert f"{base}/" in output


def test_an_unreachable_database_is_reported_in_words_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _free_loopback_port()  # nothing listens there
    monkeypatch.setenv(
        "CALSYNC_DATABASE_URL", f"postgresql+psycopg://calsync:s3cret@127.0.0.1:{port}/calsync"
    )
    result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert "cannot open the database" in result.stderr
    assert "CALSYNC_DATABASE_URL" in result.stderr
    assert "s3cret" not in result.output
