"""`calsync emulator`: argument checks, and a restart with --state loses nothing (events and
change-notification subscriptions)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from calsync.cli import app
from calsync.emulator.config import GRAPH_SCOPE
from tests.emulator.webhook_receiver import Receiver

ADDRESS = "adele.vance@contoso.com"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--tls"], "--ca-file"),
        (["--ca-file", "ca.pem"], "--tls"),
        (["--host", "0.0.0.0"], "loopback"),
        (["--mailbox", "not-an-address"], "not an email address"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(args: list[str], complaint: str) -> None:
    result = CliRunner().invoke(app, ["emulator", *args])
    assert result.exit_code == 2
    assert complaint in result.output


def _start(tmp_path: Path, state: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from calsync.cli import main; main()",
            "emulator",
            "--port",
            "0",
            "--tls",
            "--ca-file",
            str(tmp_path / "ca.pem"),
            "--state",
            str(state),
            "--mailbox",
            ADDRESS,
            "--client-id",
            "cli-app",
            "--client-secret",
            "cli-secret",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "listening on https://127.0.0.1:" in first, first
    return process, first.split()[-1]


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


def _client(tmp_path: Path, base: str) -> httpx.Client:
    token = httpx.post(
        f"{base}/contoso.onmicrosoft.com/oauth2/v2.0/token",
        data={
            "client_id": "cli-app",
            "client_secret": "cli-secret",
            "scope": GRAPH_SCOPE,
            "grant_type": "client_credentials",
        },
        verify=str(tmp_path / "ca.pem"),
    ).json()["access_token"]
    return httpx.Client(
        base_url=f"{base}/v1.0",
        verify=str(tmp_path / "ca.pem"),
        headers={"Authorization": f"Bearer {token}"},
    )


def test_events_and_subscriptions_survive_a_restart_with_a_state_file(
    tmp_path: Path, receiver: Receiver
) -> None:
    state = tmp_path / "emulator.sqlite"
    process, base = _start(tmp_path, state)
    try:
        with _client(tmp_path, base) as client:
            created = client.post(
                f"/users/{ADDRESS}/events",
                json={
                    "subject": "Survives restarts",
                    "start": {"dateTime": "2024-06-10T09:00:00", "timeZone": "UTC"},
                    "end": {"dateTime": "2024-06-10T10:00:00", "timeZone": "UTC"},
                },
            ).json()
            expiry = datetime.now(UTC) + timedelta(hours=2)
            subscription = client.post(
                "/subscriptions",
                json={
                    "changeType": "updated",
                    "notificationUrl": f"{receiver.base_url}/notify",
                    "resource": f"/users/{ADDRESS}/events",
                    "expirationDateTime": expiry.isoformat(),
                    "clientState": "cli-restart",
                },
            )
            assert subscription.status_code == 201, subscription.text
    finally:
        _stop(process)
    process, base = _start(tmp_path, state)
    try:
        with _client(tmp_path, base) as client:
            again = client.get(f"/users/{ADDRESS}/events/{created['id']}")
            assert again.status_code == 200
            assert again.json()["changeKey"] == created["changeKey"]
            kept = client.get(f"/subscriptions/{subscription.json()['id']}")
            assert kept.status_code == 200
            assert kept.json()["clientState"] == "cli-restart"
            client.patch(f"/users/{ADDRESS}/events/{created['id']}", json={"subject": "Moved"})
            deadline = time.monotonic() + 10
            while not receiver.notifications and time.monotonic() < deadline:
                time.sleep(0.05)
            [notification] = receiver.notifications
            assert notification["subscriptionId"] == subscription.json()["id"]
            assert notification["clientState"] == "cli-restart"
            assert notification["resourceData"]["id"] == created["id"]
    finally:
        _stop(process)
