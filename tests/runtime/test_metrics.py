"""`/metrics` counts what the sync service really did (issue 6, Observability): runs by kind and
outcome, changes per direction, conflicts, errors, Graph answers and 429s, against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from calsync.emulator.control_client import EmulatorControl
from calsync.runtime import metrics
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon

# One retry, after the emulator's Retry-After of a second: a 429 is answered, then counted.
RETRY_ONCE = {
    "max_attempts": 2,
    "max_retry_seconds": 5.0,
    "backoff_base_seconds": 0.05,
    "backoff_max_seconds": 0.2,
}


def sample(name: str, **labels: str) -> float:
    """A metric's current value in the registry `/metrics` serves (0 before its first count)."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def runtime(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> AsyncIterator[SyncRuntime]:
    with world.sessions() as session:
        save_connection(session, connection, box)
        session.commit()
    runtime = SyncRuntime(world.sessions, endpoints=endpoints, box=box, graph_overrides=RETRY_ONCE)
    try:
        yield runtime
    finally:
        await runtime.close()


async def test_runs_and_changes_are_counted_per_kind_and_direction(
    world: World, runtime: SyncRuntime
) -> None:
    pulls = sample("calsync_sync_runs_total", kind="pull", outcome="succeeded")
    pushes = sample("calsync_sync_runs_total", kind="push", outcome="succeeded")
    inbound = sample("calsync_sync_changes_total", direction="microsoft365_to_crm")
    outbound = sample("calsync_sync_changes_total", direction="crm_to_microsoft365")
    answered = sample("calsync_graph_requests_total", status_class="2xx")
    await world.outlook_create(ADELE, "Estate planning (Outlook)", soon(2))
    world.crm_create(ADELE, "Tax review (CRM)", soon(3))

    assert await runtime.run_now(ADELE) == {ADELE: True}

    assert sample("calsync_sync_runs_total", kind="pull", outcome="succeeded") == pulls + 1
    assert sample("calsync_sync_runs_total", kind="push", outcome="succeeded") == pushes + 2
    assert sample("calsync_sync_changes_total", direction="microsoft365_to_crm") == inbound + 1
    assert sample("calsync_sync_changes_total", direction="crm_to_microsoft365") == outbound + 1
    assert sample("calsync_graph_requests_total", status_class="2xx") > answered


async def test_a_429_is_counted_as_throttled_and_the_run_still_succeeds(
    world: World, runtime: SyncRuntime, control: EmulatorControl
) -> None:
    throttled = sample("calsync_graph_throttled_total")
    refused = sample("calsync_graph_requests_total", status_class="4xx")
    control.add_fault("throttled", next_requests=1, mailbox=ADELE, retry_after_seconds=1)

    assert await runtime.run_now(ADELE) == {ADELE: True}

    assert sample("calsync_graph_throttled_total") == throttled + 1
    assert sample("calsync_graph_requests_total", status_class="4xx") == refused + 1


async def test_a_failed_pull_is_counted_as_a_failed_run_and_an_error(
    world: World, runtime: SyncRuntime, control: EmulatorControl
) -> None:
    failed = sample("calsync_sync_runs_total", kind="pull", outcome="failed")
    errors = sample("calsync_sync_errors_total", kind="pull")
    unavailable = sample("calsync_graph_requests_total", status_class="5xx")
    control.add_fault("unavailable", rate=1.0, mailbox=ADELE, method="GET")

    assert await runtime.run_now(ADELE) == {ADELE: False}

    assert sample("calsync_sync_runs_total", kind="pull", outcome="failed") == failed + 1
    assert sample("calsync_sync_errors_total", kind="pull") == errors + 1
    assert sample("calsync_graph_requests_total", status_class="5xx") >= unavailable + 2


async def test_a_field_changed_on_both_sides_is_counted_as_a_conflict(
    world: World, runtime: SyncRuntime
) -> None:
    event_id = world.crm_create(ADELE, "Quarterly review", soon(4))
    assert await runtime.run_now(ADELE) == {ADELE: True}
    link = world.link_of(event_id)
    assert link is not None
    conflicts = sample("calsync_sync_conflicts_total")

    await world.outlook_update(ADELE, link.graph_id, subject="Quarterly review (Outlook)")
    world.crm_update(event_id, subject="Quarterly review (CRM)")
    assert await runtime.run_now(ADELE) == {ADELE: True}

    assert sample("calsync_sync_conflicts_total") == conflicts + 1
    assert [line.kind.value for line in world.log() if line.kind.value == "conflict"] == [
        "conflict"
    ]
