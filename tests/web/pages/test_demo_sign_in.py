"""`calsync demo` prints a way into the web app: the administrator's email and a fresh password."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from calsync.cli import app
from tests.web.pages.conftest import sign_in


def test_the_demo_prints_a_sign_in_that_works_and_only_the_last_one_does(
    client: TestClient, pages_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_DATABASE_URL", pages_database_url)
    sign_ins = []
    for _ in range(2):
        result = CliRunner().invoke(app, ["demo", "--seed-only"])
        assert result.exit_code == 0, result.output
        found = re.search(r"Sign in at (\S+)/signin as (\S+) / (\S+)", result.output)
        assert found, result.output
        sign_ins.append((found.group(2), found.group(3)))
    (email, old_password), (same_email, password) = sign_ins
    assert email == same_email
    assert old_password != password
    sign_in(client, email, password)
    assert client.get("/admin/workflows").status_code == 200  # the demo's administrator
    client.cookies.clear()
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    refused = client.post(
        "/signin", data={"email": email, "password": old_password, "csrf_token": token.group(1)}
    )
    assert refused.status_code != 303
