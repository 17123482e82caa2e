"""How fast the Graph emulator serves a big mailbox, and how much memory the events take.

Loads N events (default 100,000) into one mailbox through the core's calendar API (the code
POST /events runs), then measures, in events per second:

- calendarView paging (Prefer: odata.maxpagesize=1000, following @odata.nextLink to the end),
- a full calendarView delta round (nextLinks until the deltaLink),

both in-process (httpx ASGITransport) and over real HTTP on loopback against a uvicorn server in
a separate process (plain HTTP; TLS would measure the TLS stack, not the emulator). Each walk stops
after a time budget (--budget-seconds) and says so, since a slow page must not stall `make bench`.
Memory is the RSS growth of this process while loading the in-memory store, scaled to 100,000
events, and the size of the SQLite state file.

Numbers are printed, never asserted. Run: .venv/bin/python bench/bench_emulator.py [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from calsync.emulator.app import create_app
from calsync.emulator.config import GRAPH_SCOPE, EmulatorConfig
from calsync.emulator.emulator import Emulator

MAILBOX = "adele.vance@contoso.com"
WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_END = datetime(2028, 1, 1, tzinfo=UTC)
PAGE = 1000


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def event_body(n: int) -> dict[str, Any]:
    """A realistic single event: an hour-long meeting on one of the window's working days."""
    start = WINDOW_START + timedelta(days=(n * 7) % 700, hours=8 + n % 9, minutes=15 * (n % 4))
    return {
        "subject": f"Client review #{n}",
        "body": {"contentType": "text", "content": f"Agenda for review {n}"},
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {
            "dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
        "location": {"displayName": f"Meeting room {n % 12}"},
    }


def load(emulator: Emulator, count: int) -> float:
    """Create `count` events in the mailbox; returns the seconds it took."""
    calendar = emulator.calendar
    mailbox = calendar.mailbox(MAILBOX)
    started = time.perf_counter()
    for chunk in range(0, count, 1000):
        with emulator.store.transaction():  # one commit per thousand, as a bulk import would
            for n in range(chunk, min(count, chunk + 1000)):
                calendar.create(mailbox, event_body(n))
    return time.perf_counter() - started


def bench_config(base_url: str, state_path: Path | None = None) -> EmulatorConfig:
    config = EmulatorConfig(mailboxes=[MAILBOX], public_base_url=base_url, state_path=state_path)
    config.requests_per_window = 1_000_000  # measure serving, not our throttle
    return config


def window_params() -> dict[str, str]:
    return {
        "startDateTime": WINDOW_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endDateTime": WINDOW_END.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


async def walk(client: httpx.AsyncClient, first_url: str, budget: float) -> tuple[int, float, bool]:
    """Follow nextLinks from `first_url` to the end or until `budget` seconds have passed.

    Returns (events seen, seconds, whether the end was reached).
    """
    headers = {"Prefer": f"odata.maxpagesize={PAGE}"}
    url: str | None = first_url
    seen = 0
    started = time.perf_counter()
    params: dict[str, str] | None = window_params()
    while url is not None:
        reply = await client.get(url, params=params, headers=headers)
        reply.raise_for_status()
        page = reply.json()
        seen += len(page["value"])
        url = page.get("@odata.nextLink")
        params = None
        if url is not None and time.perf_counter() - started > budget:
            return seen, time.perf_counter() - started, False
    return seen, time.perf_counter() - started, True


async def measure(
    client: httpx.AsyncClient, graph_url: str, label: str, total: int, budget: float
) -> None:
    paths = (("calendarView paging", "calendarView"), ("delta round", "calendarView/delta"))
    for name, path in paths:
        seen, seconds, finished = await walk(client, f"{graph_url}/users/{MAILBOX}/{path}", budget)
        note = "" if finished else f"  (stopped after {seen:,} of {total:,}: time budget)"
        print(f"  {label:<24} {name:<20} {seen / seconds:>9,.0f} events/s {seconds:7.2f} s{note}")


async def access_token(transport: httpx.AsyncBaseTransport | None, base_url: str) -> str:
    config = bench_config(base_url)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        reply = await client.post(
            f"/{config.tenant}/oauth2/v2.0/token",
            data={
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "scope": GRAPH_SCOPE,
                "grant_type": "client_credentials",
            },
        )
    return str(reply.json()["access_token"])


def graph_client(transport: httpx.AsyncBaseTransport | None, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport, timeout=600, headers={"Authorization": f"Bearer {token}"}
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(port: int, state_path: Path) -> None:
    """Child process: serve the store file the parent loaded, over plain HTTP on loopback."""
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(bench_config(base_url, state_path))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_server_process(state_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the child process serving `state_path`; returns it once its port accepts."""
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--state", str(state_path)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return child, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or child.poll() is not None:
                child.kill()
                raise RuntimeError("the emulator server process did not start") from None
            time.sleep(0.1)


async def over_loopback(base_url: str, total: int, budget: float) -> None:
    token = await access_token(None, base_url)
    async with graph_client(None, token) as client:
        await measure(client, f"{base_url}/v1.0", "loopback HTTP (uvicorn)", total, budget)


async def in_process(app: Any, base_url: str, total: int, budget: float) -> None:
    transport = httpx.ASGITransport(app=app)
    async with graph_client(transport, await access_token(transport, base_url)) as client:
        await measure(client, f"{base_url}/v1.0", "in-process (ASGI)", total, budget)


def per_100k(value: float, count: int) -> float:
    return value / count * 100_000


def main(count: int, budget: float) -> None:
    print(f"Graph emulator benchmark: {count:,} events in one mailbox")
    base_url = "http://emulator.bench"
    app = create_app(bench_config(base_url))
    emulator: Emulator = app.state.emulator
    gc.collect()
    rss_before = rss_bytes()
    seconds = load(emulator, count)
    gc.collect()
    grown = rss_bytes() - rss_before
    print(f"  load (in-memory store)   {count / seconds:>10,.0f} events/s  {seconds:7.2f} s")
    print(f"  memory (RSS growth)      {per_100k(grown, count) / 2**20:>10,.1f} MiB / 100k events")
    asyncio.run(in_process(app, base_url, count, budget))

    with tempfile.TemporaryDirectory() as work:
        state_path = Path(work) / "emulator.sqlite3"
        file_emulator = Emulator.from_config(bench_config(base_url, state_path))
        seconds = load(file_emulator, count)
        file_emulator.store.close()
        size = state_path.stat().st_size
        print(f"  load (SQLite file store) {count / seconds:>10,.0f} events/s  {seconds:7.2f} s")
        print(
            f"  state file size          {per_100k(size, count) / 2**20:>10,.1f} MiB / 100k events"
        )
        child, served_url = start_server_process(state_path)
        try:
            asyncio.run(over_loopback(served_url, count, budget))
        finally:
            child.terminate()
            child.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=30.0,
        help="stop following nextLinks after this long per measurement (default 30)",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve is not None:
        serve(arguments.serve, arguments.state)
    else:
        main(arguments.events, arguments.budget_seconds)
