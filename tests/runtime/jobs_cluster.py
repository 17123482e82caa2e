"""The pieces of the many-machines test: a fresh PostgreSQL database, the emulator as its own
process, and `calsync worker` processes that can be killed and restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from psycopg import sql

from calsync.crm.migrate import upgrade_database
from tests.fixtures.postgres import TEMPLATE_DATABASE, PostgresServer

CALSYNC = str(Path(sys.executable).with_name("calsync"))
TENANT = "harborview.onmicrosoft.com"
CLIENT_ID = "jobs-test-app"
CLIENT_SECRET = "jobs-test-secret"


@contextmanager
def fresh_database(server: PostgresServer, template: str = TEMPLATE_DATABASE) -> Iterator[str]:
    """A database of its own, cloned from the migrated template, dropped afterwards."""
    name = f"calsync_jobs_{uuid.uuid4().hex[:10]}"
    server.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    )
    try:
        # Another migration may have landed since the session's template was made.
        upgrade_database(server.url(name))
        yield server.url(name)
    finally:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@dataclass
class EmulatorProcess:
    process: subprocess.Popen[str]
    base_url: str
    graph_url: str
    ca_path: Path


@contextmanager
def emulator_process(mailboxes: list[str], work: Path) -> Iterator[EmulatorProcess]:
    """`calsync emulator --tls` on a free loopback port, in its own process."""
    ca_path = work / "emulator-ca.pem"
    command = [CALSYNC, "emulator", "--tls", "--port", "0", "--ca-file", str(ca_path)]
    command += ["--tenant", TENANT, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    for mailbox in mailboxes:
        command += ["--mailbox", mailbox]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        base_url = graph_url = ""
        assert process.stdout is not None
        for line in process.stdout:
            if "listening on" in line:
                base_url = line.rsplit(" ", 1)[1].strip()
            if line.strip().startswith("Graph:"):
                graph_url = line.split(":", 1)[1].strip()
                break
        assert base_url, "the emulator did not start"
        assert graph_url, "the emulator did not say where Graph is"
        yield EmulatorProcess(process, base_url, graph_url, ca_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Incarnation:
    """One run of one worker process, its log, and when it was killed (None: stopped cleanly)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    killed_at: float | None = None

    def log(self) -> list[dict[str, object]]:
        lines = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    continue  # a line cut short by SIGKILL
        return lines

    def started(self) -> bool:
        """Whether the worker got as far as taking jobs."""
        return any(str(line.get("message", "")).startswith("worker ") for line in self.log())

    def mid_run(self) -> bool:
        """Whether its log shows a push or pull started and not finished."""
        open_runs: set[object] = set()
        for line in self.log():
            if line.get("run") == "started":
                open_runs.add(line.get("job_id"))
            elif line.get("run") == "finished":
                open_runs.discard(line.get("job_id"))
        return bool(open_runs)


@dataclass
class WorkerPool:
    """`calsync worker` processes: started, killed with SIGKILL, restarted, stopped."""

    environment: dict[str, str]
    work: Path
    incarnations: list[Incarnation] = field(default_factory=list)
    live: dict[int, Incarnation] = field(default_factory=dict)

    def start(self, slot: int) -> Incarnation:
        name = f"worker{slot}.{len(self.incarnations)}"
        log_path = self.work / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [CALSYNC, "worker", "--name", name],
                env={**os.environ, **self.environment},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        incarnation = Incarnation(name, process, log_path)
        self.incarnations.append(incarnation)
        self.live[slot] = incarnation
        return incarnation

    def kill(self, slot: int) -> Incarnation:
        """SIGKILL: no cleanup, the job it was running stays `doing` until recovered."""
        incarnation = self.live.pop(slot)
        incarnation.process.send_signal(signal.SIGKILL)
        incarnation.process.wait()
        incarnation.killed_at = time.time()
        return incarnation

    def stop_all(self) -> None:
        for incarnation in self.live.values():
            incarnation.process.send_signal(signal.SIGTERM)
        for incarnation in self.live.values():
            try:
                incarnation.process.wait(60)
            except subprocess.TimeoutExpired:
                incarnation.process.kill()
                incarnation.process.wait()
                incarnation.killed_at = time.time()
        self.live.clear()


@dataclass(frozen=True)
class RunInterval:
    mailbox: str
    start: float
    end: float
    where: str
    cut_short: bool = False


def run_intervals(incarnations: list[Incarnation], kind: str = "pull") -> list[RunInterval]:
    """Every run of `kind` the workers logged, from its start to its end; a run cut short by
    SIGKILL ends when its process was killed (`cut_short`)."""
    intervals = []
    for incarnation in incarnations:
        started: dict[object, tuple[str, float]] = {}
        for line in incarnation.log():
            if line.get("kind") != kind:
                continue
            at = datetime.fromisoformat(str(line.get("at"))).timestamp()
            if line.get("run") == "started":
                started[line.get("job_id")] = (str(line.get("mailbox")), at)
            elif line.get("run") == "finished" and line.get("job_id") in started:
                mailbox, begin = started.pop(line.get("job_id"))
                intervals.append(RunInterval(mailbox, begin, at, incarnation.name))
        for mailbox, begin in started.values():
            end = incarnation.killed_at if incarnation.killed_at is not None else float("inf")
            intervals.append(
                RunInterval(mailbox, begin, end, incarnation.name, cut_short=end != float("inf"))
            )
    return intervals


def overlapping(intervals: list[RunInterval]) -> list[tuple[RunInterval, RunInterval]]:
    """Pairs of runs of the same mailbox that overlap in time."""
    by_mailbox: dict[str, list[RunInterval]] = {}
    for interval in intervals:
        by_mailbox.setdefault(interval.mailbox, []).append(interval)
    pairs = []
    for runs in by_mailbox.values():
        runs.sort(key=lambda run: run.start)
        latest = runs[0]
        for run in runs[1:]:
            if run.start < latest.end:
                pairs.append((latest, run))
            if run.end > latest.end:
                latest = run
    return pairs
