"""One scheduled cycle over many mailboxes with nothing changed, on 3 `calsync worker` processes.

A throwaway PostgreSQL cluster (Debian's binaries, as the tests use), a CRM database with N staff
users (sync on, daily frequency so no other scheduled run interferes), the TLS emulator with their
N mailboxes (in this process), and W `calsync worker` processes (CALSYNC_RUNTIME=jobs).

1. The linking cycle: every mailbox's first pull is queued at once (as the tick queues them for
   a cycle whose slots all passed), and the workers drain the queue (a full round each).
2. The measured cycle: the same again with nothing changed anywhere, so each pull is exactly one
   delta request.

Prints, for each cycle, the wall time (from queueing the pulls to the last pull's end), pulls per
second, Graph requests counted by the emulator (goal: N for the steady cycle), and each worker's
peak memory (VmHWM). The emulator shares this machine's cores, so the wall time is an upper
bound for the workers alone.

Run: .venv/bin/python bench/bench_workers.py [--mailboxes 10000] [--workers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from psycopg import sql

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import User
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.emulator.config import EmulatorConfig
from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import enable_sync
from calsync.runtime.jobs.app import build_job_app
from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.dispatch import JobDispatcher
from calsync.runtime.jobs.schema import install_job_schema
from calsync.runtime.jobs.settings import JobsSettings
from calsync.runtime.secrets import SecretBox

# The throwaway cluster the test suite starts (tests/fixtures/postgres.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fixtures.postgres import throwaway_postgres

CALSYNC = str(Path(sys.executable).with_name("calsync"))
# CALSYNC_BENCH_PROFILE=dir: each worker writes a cProfile to dir/worker-<pid>.prof.
PROFILE_DIR = os.environ.get("CALSYNC_BENCH_PROFILE")
WORKER_COMMAND = (
    [
        sys.executable,
        "-c",
        "import cProfile, os, sys; from calsync.cli import main; sys.argv[0] = 'calsync'; "
        f"cProfile.run('main()', os.path.join({PROFILE_DIR!r}, f'worker-{{os.getpid()}}.prof'))",
    ]
    if PROFILE_DIR
    else [CALSYNC]
)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pull_runs(url: str) -> tuple[int, float | None]:
    """Pulls finished so far, and the end of the latest (epoch seconds)."""
    with psycopg.connect(conninfo_of(url)) as connection:
        row = connection.execute(
            "SELECT count(*), extract(epoch FROM max(finished_at)) FROM sync_runs "
            "WHERE kind = 'pull' AND finished_at IS NOT NULL"
        ).fetchone()
    assert row is not None
    return int(row[0]), (float(row[1]) if row[1] is not None else None)


async def queue_cycle(url: str, mailboxes: list[str]) -> None:
    """Queue every mailbox's scheduled pull now, as the tick does for slots that passed."""
    dispatcher = JobDispatcher(build_job_app(url, JobsSettings()))
    await dispatcher.open()
    try:
        now = datetime.now(UTC)
        await dispatcher.defer_scheduled_pulls((mailbox, now) for mailbox in mailboxes)
    finally:
        await dispatcher.close()


def wait_for_cycle(url: str, count: int, already: int, started: float) -> tuple[float, int]:
    """Wait until `count` more pulls finished; returns (seconds from `started` to the last
    pull's end, pulls finished)."""
    while True:
        finished, last_end = pull_runs(url)
        if finished - already >= count and last_end is not None:
            return last_end - started, finished - already
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--log", type=Path, help="keep the workers' JSON logs in this file")
    arguments = parser.parse_args()
    count = arguments.mailboxes
    with throwaway_postgres(max_connections=200) as server:
        server.execute(sql.SQL("CREATE DATABASE calsync"))
        run_cycles(server.url("calsync"), count, arguments)


def run_cycles(url: str, count: int, arguments: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix="calsync-bench-workers-"))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        upgrade_database(url)
        install_job_schema(url)
        engine = create_database_engine(url)
        sessions = create_session_factory(engine)
        addresses = [f"advisor{number:05d}@harborview.example" for number in range(count)]
        with sessions() as session:
            session.add_all(
                User(
                    name=f"Advisor {n}",
                    email=a,
                    email_normalized=a,
                    time_zone="UTC",
                    sync_enabled=True,
                )
                for n, a in enumerate(addresses)
            )
            update_sync_settings(session, SyncSettingsChanges(run_frequency_minutes=1440))
            session.commit()
        config = EmulatorConfig(
            tenant="harborview.onmicrosoft.com",
            client_id="bench-app",
            client_secret="bench-secret",
            mailboxes=addresses,
            requests_per_window=10**9,
        )
        key = Fernet.generate_key()
        with EmulatorServer(config, tls=True, ca_path=base / "ca.pem") as emulator:
            assert emulator.ca_path is not None
            endpoints = GraphEndpoints(emulator.base_url, emulator.graph_url, emulator.ca_path)
            connection_ = TenantConnection(config.tenant, config.client_id, config.client_secret)
            asyncio.run(
                enable_sync(
                    sessions, connection_, endpoints, SecretBox([key]), test_mailbox=addresses[0]
                )
            )
            environment = {
                **os.environ,
                "CALSYNC_DATABASE_URL": url,
                "CALSYNC_RUNTIME": "jobs",
                "CALSYNC_ENCRYPTION_KEY": key.decode(),
                "CALSYNC_GRAPH_AUTHORITY_HOST": emulator.base_url,
                "CALSYNC_GRAPH_URL": emulator.graph_url,
                "CALSYNC_GRAPH_CA_BUNDLE": str(emulator.ca_path),
                "CALSYNC_LOG_FORMAT": "json",
            }
            log = (arguments.log or base / "workers.log").open("wb")
            with EmulatorControl(emulator.base_url, verify=str(emulator.ca_path)) as control:
                # The linking cycle is queued before the workers start, so their tick finds every
                # first pull queued already and adds none.
                asyncio.run(queue_cycle(url, addresses))
                control.clear_request_counts()
                started = time.time()
                workers = [
                    subprocess.Popen(
                        [*WORKER_COMMAND, "worker", "--name", f"bench{n}"],
                        env=environment,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                    for n in range(arguments.workers)
                ]
                link_wall, _ = wait_for_cycle(url, count, 0, started)
                link_requests = control.request_counts()["total"]
                control.clear_request_counts()
                done, _ = pull_runs(url)
                started = time.time()
                asyncio.run(queue_cycle(url, addresses))
                queued = time.time() - started
                wall, pulls = wait_for_cycle(url, count, done, started)
                requests = control.request_counts()["total"]
            peaks = [peak_rss_mib(worker.pid) for worker in workers]
        engine.dispose()
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(60)
        shutil.rmtree(base, ignore_errors=True)
    print(f"{count} mailboxes, {arguments.workers} `calsync worker` processes, PostgreSQL")
    print(
        f"  linking cycle   {link_wall:8.1f} s   ({count / link_wall:.0f} pulls/s, worker start "
        f"included; {link_requests} Graph requests)"
    )
    print(
        f"  steady cycle    {wall:8.1f} s   ({pulls / wall:.0f} pulls/s, "
        f"{wall / count * 1000:.1f} ms per mailbox; queueing took {queued:.1f} s of it)"
    )
    print(f"  Graph requests  {requests:8d}     ({requests / count:.2f} per mailbox; goal 1.00)")
    print("  peak memory     " + ", ".join(f"{peak:.0f} MiB" for peak in peaks) + " (per worker)")


if __name__ == "__main__":
    main()
