"""The `/_emulator/` control API, driven through `EmulatorControl` against a real local server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from calsync.emulator.config import EmulatorConfig
from calsync.emulator.control_client import EmulatorControl, EmulatorControlError
from calsync.emulator.errors import GraphApiError, error_body
from calsync.emulator.operations import EmulatorOperations
from calsync.emulator.operations_wiring import install_operations
from calsync.emulator.store import EmulatorStore
from calsync.emulator.tokens import TokenIssuer


@dataclass
class Core:
    config: EmulatorConfig
    store: EmulatorStore
    tokens: TokenIssuer


@dataclass
class Served:
    base_url: str
    core: Core
    operations: EmulatorOperations
    control: EmulatorControl


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served() -> Iterator[Served]:
    config = EmulatorConfig(requests_per_window=500, max_concurrent=3)
    core = Core(config, EmulatorStore(), TokenIssuer(3599))

    async def graph_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GraphApiError)
        return JSONResponse(error_body(exc.code, exc.message, None), status_code=exc.status)

    app = Starlette(exception_handlers={GraphApiError: graph_error})
    operations = install_operations(app, core)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    base_url = f"http://127.0.0.1:{port}"
    with EmulatorControl(base_url) as control:
        yield Served(base_url, core, operations, control)
    server.should_exit = True
    thread.join(timeout=10)


def test_mailboxes_are_added_listed_and_marked_unable_to_host_teams(served: Served) -> None:
    ada = served.control.add_mailbox("ada@contoso.com", "Ada Lovelace")
    bob = served.control.add_mailbox("bob@contoso.com", can_host_teams=False)
    again = served.control.add_mailbox("ADA@contoso.com", "Ada Lovelace")
    assert again["id"] == ada["id"]
    assert [m["address"] for m in served.control.mailboxes()] == [
        "ada@contoso.com",
        "bob@contoso.com",
    ]
    assert bob["canHostTeams"] is False
    assert served.core.store.get_mailbox("bob@contoso.com").can_host_teams is False  # type: ignore[union-attr]
    assert served.control.set_can_host_teams("bob@contoso.com", True)["canHostTeams"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"address": "not-an-address"}, "address"),
        ({"address": "ada@contoso.com", "canHostTeams": "no"}, "canHostTeams"),
        ({"address": "ada@contoso.com", "displayName": ""}, "displayName"),
        ({"address": "ada@contoso.com", "licence": "E5"}, "licence"),
    ],
)
def test_bad_mailbox_is_refused_naming_the_field_and_nothing_is_added(
    served: Served, body: dict[str, object], field: str
) -> None:
    response = httpx.post(f"{served.base_url}/_emulator/mailboxes", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{field}:")
    assert served.control.mailboxes() == []


def test_fault_rules_are_set_listed_applied_and_cleared(served: Served) -> None:
    rule = served.control.add_fault("unavailable", next_requests=2, retry_after_seconds=9)
    assert served.control.faults()[0]["id"] == rule["id"]
    first = httpx.get(f"{served.base_url}/v1.0/subscriptions")
    assert (first.status_code, first.headers["Retry-After"]) == (503, "9")
    assert served.control.faults()[0]["remainingRequests"] == 1
    served.control.remove_fault(rule["id"])
    assert httpx.get(f"{served.base_url}/v1.0/subscriptions").status_code == 200
    served.control.add_fault("throttled", rate=1.0)
    served.control.clear_faults()
    assert served.control.faults() == []
    with pytest.raises(EmulatorControlError) as refused:
        served.control.add_fault("throttled")
    assert refused.value.status == 400


def test_real_drop_through_the_control_api(served: Served) -> None:
    served.control.add_fault("drop", next_requests=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{served.base_url}/v1.0/subscriptions")
    assert httpx.get(f"{served.base_url}/v1.0/subscriptions").status_code == 200


def test_throttling_settings_start_from_the_config_and_can_be_changed(served: Served) -> None:
    assert served.control.throttling() == {
        "requestsPerWindow": 500,
        "windowSeconds": 600.0,
        "maxConcurrent": 3,
        "enabled": True,
    }
    served.control.add_mailbox("ada@contoso.com")
    served.control.set_throttling(requests_per_window=2)
    statuses = [
        httpx.get(f"{served.base_url}/v1.0/users/ada@contoso.com/events").status_code
        for _ in range(3)
    ]
    assert statuses[2] == 429
    assert served.control.set_throttling(enabled=False)["maxConcurrent"] == 3
    with pytest.raises(EmulatorControlError, match="maxConcurrent"):
        served.control.set_throttling(max_concurrent=0)


def test_request_counts_per_mailbox(served: Served) -> None:
    ada = served.control.add_mailbox("ada@contoso.com")
    for path in (
        f"/users/{ada['id']}/events",
        "/users/ADA@contoso.com/calendarView",
        "/users/bob@x.com/events",
    ):
        httpx.get(f"{served.base_url}/v1.0{path}")
    httpx.get(f"{served.base_url}/v1.0/subscriptions")
    counts = served.control.request_counts()
    assert counts == {"total": 4, "mailboxes": {"ada@contoso.com": 2, "bob@x.com": 1}}
    served.control.clear_request_counts()
    assert served.control.request_counts() == {"total": 0, "mailboxes": {}}


def test_expiring_tokens(served: Served) -> None:
    ada = served.control.add_mailbox("ada@contoso.com")
    bob = served.control.add_mailbox("bob@contoso.com")
    store = served.core.store
    before = (store.generation(ada["id"]), store.generation(bob["id"]))
    served.control.expire_delta_tokens("ada@contoso.com")
    assert (store.generation(ada["id"]), store.generation(bob["id"])) == (before[0] + 1, before[1])
    served.control.expire_delta_tokens()
    assert store.generation(bob["id"]) == before[1] + 1
    with pytest.raises(EmulatorControlError) as unknown:
        served.control.expire_delta_tokens("nobody@contoso.com")
    assert unknown.value.status == 404

    token, _ = served.core.tokens.issue()
    served.control.expire_access_tokens()
    assert not served.core.tokens.is_valid(token)


def test_reset_clears_faults_counts_and_limits_but_keeps_mailboxes(served: Served) -> None:
    served.control.add_mailbox("ada@contoso.com")
    served.control.add_fault("slow", rate=0.5, delay_seconds=0.01)
    served.control.set_throttling(requests_per_window=1)
    httpx.get(f"{served.base_url}/v1.0/users/ada@contoso.com/events")
    served.control.reset()
    assert served.control.faults() == []
    assert served.control.request_counts()["total"] == 0
    assert served.control.throttling()["requestsPerWindow"] == 500
    assert [m["address"] for m in served.control.mailboxes()] == ["ada@contoso.com"]


def test_webhook_policy_can_be_tuned_and_bad_values_are_refused(served: Served) -> None:
    policy = served.control.set_webhook_policy(retryForSeconds=30, firstRetryDelaySeconds=0.5)
    assert (policy["retryForSeconds"], policy["attemptTimeoutSeconds"]) == (30, 3.0)
    with pytest.raises(EmulatorControlError, match="attemptTimeoutSeconds"):
        served.control.set_webhook_policy(attemptTimeoutSeconds=0)
    assert served.control.deliveries() == []


def test_control_errors_are_in_graphs_shape(served: Served) -> None:
    response = httpx.post(f"{served.base_url}/_emulator/faults", content=b"{not json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalidControlRequest"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
