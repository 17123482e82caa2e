"""One scheduled cycle over many mailboxes with nothing changed, on one machine.

A SQLite CRM database with N staff users (sync on), the TLS emulator with their N mailboxes, and a
`SyncRuntime` (one engine call at a time, as `calsync serve` runs it). A first cycle links every
mailbox (a full calendarView delta round each); the measured second cycle is the steady state:
nothing changed anywhere, so each mailbox costs exactly one delta request. Prints the wall time,
the time per mailbox, the Graph requests the cycle made (goal: one per mailbox, i.e. N) and the
process's peak memory. Both the emulator and CalSync run in this process, so the wall time is an
upper bound for CalSync alone.

Run: .venv/bin/python bench/bench_scheduled_cycle.py [--mailboxes 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import User
from calsync.emulator.config import EmulatorConfig
from calsync.emulator.server import EmulatorServer
from calsync.runtime import metrics
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import enable_sync
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime


def _graph_requests() -> float:
    return sum(
        sample.value
        for family in metrics.REGISTRY.collect()
        if family.name == "calsync_graph_requests"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


async def measure(mailboxes: int, work: Path) -> tuple[float, float, float]:
    url = f"sqlite:///{work / 'calsync.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    sessions = create_session_factory(engine)
    addresses = [f"advisor{number:05d}@harborview.example" for number in range(mailboxes)]
    with sessions() as session:
        session.add_all(
            User(
                name=f"Advisor {number}",
                email=address,
                email_normalized=address,
                time_zone="UTC",
                sync_enabled=True,
            )
            for number, address in enumerate(addresses)
        )
        session.commit()
    config = EmulatorConfig(
        tenant="harborview.onmicrosoft.com",
        client_id="bench-app",
        client_secret="bench-secret",
        mailboxes=addresses,
        requests_per_window=10**9,
    )
    with EmulatorServer(config, tls=True, ca_path=work / "ca.pem") as server:
        endpoints = GraphEndpoints(server.base_url, server.graph_url, server.ca_path)
        box = SecretBox([Fernet.generate_key()])
        connection = TenantConnection(config.tenant, config.client_id, config.client_secret)
        await enable_sync(sessions, connection, endpoints, box, test_mailbox=addresses[0])
        runtime = SyncRuntime(sessions, endpoints=endpoints, box=box)
        try:
            first = await runtime.run_now()
            assert all(first.values()), "the linking cycle failed for some mailboxes"
            before = _graph_requests()
            started = time.perf_counter()
            for address in addresses:
                assert await runtime.run_mailbox(address)
            wall = time.perf_counter() - started
            requests = _graph_requests() - before
        finally:
            await runtime.close()
    engine.dispose()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return wall, requests, peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=10_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="calsync-bench-cycle-") as work:
        wall, requests, peak_mib = asyncio.run(measure(arguments.mailboxes, Path(work)))
    count = arguments.mailboxes
    print(f"one scheduled cycle, {count} mailboxes, nothing changed, one machine (one process)")
    print(f"  wall time      {wall:8.1f} s   ({wall / count * 1000:.1f} ms per mailbox)")
    print(f"  Graph requests {requests:8.0f}     ({requests / count:.2f} per mailbox; goal 1.00)")
    print(f"  peak memory    {peak_mib:8.1f} MiB (emulator included)")


if __name__ == "__main__":
    main()
