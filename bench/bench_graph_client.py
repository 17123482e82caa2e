"""How much does the Graph client cost over a bare HTTP read? A full calendarView delta round of
100,000 events.

The emulator runs in a separate process (TLS on 127.0.0.1, events loaded in one transaction through
its calendar API, which is its bulk path). This process then reads the whole window twice,
alternating, several times:

- **bare**: httpx + ``json.loads``, following ``@odata.nextLink`` until ``@odata.deltaLink``, with
  the same token, headers and page size;
- **client**: ``GraphClient.delta_round`` (MSAL token provider, limiter, retry machinery, typed
  pydantic pages).

It prints the best time of each, the ratio client / bare (goal: at most 1.3), and the peak Python
memory of one read of each (tracemalloc, measured in separate runs so it does not slow the timed
ones).

    .venv/bin/python bench/bench_graph_client.py [--events 100000] [--page-size 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "6e1c0b3a-bench-4c1e-9a51-c0ffee000100"
CLIENT_SECRET = "bench-secret"
MAILBOX = "bench.advisor@contoso.com"
WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_END = datetime(2027, 1, 1, tzinfo=UTC)


# ----- the emulator process
# ---------------------------------------------------------------------------


def serve(events: int, ready_file: Path) -> None:
    """Load ``events`` events into a fresh emulator, serve it over TLS, write its address, wait."""
    from calsync.emulator.config import EmulatorConfig
    from calsync.emulator.server import EmulatorServer

    config = EmulatorConfig(
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        mailboxes=[MAILBOX],
        requests_per_window=1_000_000,
        max_concurrent=16,
    )
    server = EmulatorServer(config, tls=True, ca_path=ready_file.with_suffix(".ca.pem"))
    emulator = server.emulator
    mailbox = emulator.calendar.mailbox(MAILBOX)
    started = time.perf_counter()
    with emulator.store.transaction():
        for n in range(events):
            emulator.calendar.create(mailbox, _event_body(n))
    loaded = time.perf_counter() - started
    server.start()
    partial = ready_file.with_suffix(".partial")
    partial.write_text(
        json.dumps(
            {"base_url": server.base_url, "ca_path": str(server.ca_path), "load_seconds": loaded}
        )
    )
    partial.rename(ready_file)  # atomic: the parent never reads half a file
    sys.stdin.read()  # the parent closes our stdin when it is done
    server.stop()


def _event_body(n: int) -> dict[str, Any]:
    day, month, hour = 1 + n % 28, 1 + (n // 28) % 12, 8 + n % 9
    start = f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00"
    return {
        "subject": f"Portfolio review {n}",
        "body": {"contentType": "text", "content": "Agenda: allocation, fees, next steps."},
        "start": {"dateTime": start, "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": start.replace(":00:00", ":45:00"), "timeZone": "Eastern Standard Time"},
        "location": {"displayName": "Office, 5th floor"},
        "attendees": [
            {
                "emailAddress": {"address": f"client{n}@fabrikam.example", "name": f"Client {n}"},
                "type": "required",
            }
        ],
        "categories": ["CalSync"],
    }


def start_emulator(events: int) -> tuple[subprocess.Popen[str], dict[str, Any], Path]:
    ready = Path(tempfile.mkdtemp(prefix="calsync-bench-")) / "ready.json"
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--events", str(events), "--ready-file", str(ready)],
        stdin=subprocess.PIPE,
        text=True,
    )
    while not ready.exists():
        if process.poll() is not None:
            raise SystemExit("the emulator process exited before it was ready")
        time.sleep(0.2)
    return process, json.loads(ready.read_text()), ready


# ----- the two reads
# ----------------------------------------------------------------------------------


async def bare_read(emulator: dict[str, Any], page_size: int) -> int:
    """The least a caller can do: one token, then GET each link and json.loads the page."""
    context = ssl.create_default_context(cafile=emulator["ca_path"])
    base = emulator["base_url"]
    async with httpx.AsyncClient(verify=context, timeout=60) as http:
        token_reply = await http.post(
            f"{base}/{TENANT}/oauth2/v2.0/token",
            data={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            },
        )
        headers = {
            "Authorization": f"Bearer {token_reply.json()['access_token']}",
            "Prefer": f'IdType="ImmutableId", odata.maxpagesize={page_size}',
        }
        url: str | None = f"{base}/v1.0/users/{MAILBOX}/calendarView/delta"
        params: dict[str, str] | None = {
            "startDateTime": WINDOW_START.isoformat(),
            "endDateTime": WINDOW_END.isoformat(),
        }
        items = 0
        while url is not None:
            response = await http.get(url, params=params, headers=headers)
            response.raise_for_status()
            page = json.loads(response.content)
            items += len(page["value"])
            url, params = page.get("@odata.nextLink"), None
        return items


async def client_read(emulator: dict[str, Any], page_size: int) -> int:
    from calsync.graph import GraphClient, GraphSettings

    settings = GraphSettings(
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        authority_host=emulator["base_url"],
        graph_url=emulator["base_url"] + "/v1.0",
        ca_bundle=Path(emulator["ca_path"]),
        page_size=page_size,
    )
    items = 0
    async with GraphClient(settings) as graph:
        delta = graph.delta_round(MAILBOX, start=WINDOW_START, end=WINDOW_END)
        async for page in delta:
            items += len(page.value)
        assert delta.delta_link
    return items


def measure_read(kind: str, emulator: dict[str, Any], page_size: int) -> dict[str, float]:
    """Run one read in this (fresh) process and report wall time, CPU time and memory."""
    read = bare_read if kind == "bare" else client_read
    if kind == "client":
        import calsync.graph  # noqa: F401  (imports are not part of the read)
    baseline = _max_rss_mib()
    started, cpu_started = time.perf_counter(), time.process_time()
    items = asyncio.run(read(emulator, page_size))
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "items": items,
        "baseline_rss_mib": baseline,
        "peak_rss_mib": _max_rss_mib(),
    }


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_child(kind: str, emulator_file: Path, page_size: int) -> dict[str, float]:
    """Each read runs in its own process, so its peak memory is its own and nothing is shared."""
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--read",
            kind,
            "--ready-file",
            str(emulator_file),
            "--page-size",
            str(page_size),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--read", choices=["bare", "client"], help=argparse.SUPPRESS)
    parser.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.events, args.ready_file)
        return
    if args.read:
        emulator = json.loads(args.ready_file.read_text())
        print(json.dumps(measure_read(args.read, emulator, args.page_size)))
        return

    process, emulator, ready_file = start_emulator(args.events)
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "client": []}
    try:
        print(f"emulator: {args.events:,} events loaded in {emulator['load_seconds']:.0f} s")
        for _ in range(args.repeat):
            for kind in ("bare", "client"):
                result = run_child(kind, ready_file, args.page_size)
                if result["items"] != args.events:
                    raise SystemExit(f"{kind} read saw {result['items']} events")
                runs[kind].append(result)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=60)

    bare = min(runs["bare"], key=lambda r: r["seconds"])
    client = min(runs["client"], key=lambda r: r["seconds"])
    print(f"full calendarView delta round, page size {args.page_size}, best of {args.repeat}:")
    for name, r in (("bare httpx + json.loads", bare), ("GraphClient.delta_round", client)):
        print(
            f"  {name:24s}: {r['seconds']:7.2f} s wall "
            f"({args.events / r['seconds']:8,.0f} events/s), "
            f"{r['cpu_seconds']:6.2f} s CPU in the reader, peak RSS {r['peak_rss_mib']:6.1f} MiB "
            f"(+{r['peak_rss_mib'] - r['baseline_rss_mib']:.1f} MiB during the read)"
        )
    print(
        f"  ratio client / bare: {client['seconds'] / bare['seconds']:.2f}x wall (goal <= 1.30x), "
        f"{client['cpu_seconds'] / bare['cpu_seconds']:.2f}x CPU in the reading process"
    )
    print(
        "  every run (s wall): bare "
        f"{[round(r['seconds'], 1) for r in runs['bare']]}, client "
        f"{[round(r['seconds'], 1) for r in runs['client']]}"
    )


if __name__ == "__main__":
    main()
