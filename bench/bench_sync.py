"""What the sync engine costs end to end: initial import, a quiet run, pushed CRM edits, echoes
and memory, with `SyncEngine` between a CRM on a SQLite file and the Graph emulator (TLS, in a
separate process).

Per run (`--scale MAILBOXESxEVENTS`, default 200x500 = 100,000 events; `smoke` 1x20, `quick`
2x200, `full` 200x500), each mailbox holds EVENTS Graph items: a fifth are occurrences of weekly
series (10 per series), the rest single meetings, every one with 3 external attendees. The
emulator process loads them through its calendar core in one transaction (its bulk path), then a
sync process measures:

1. **bare delta read**: httpx + ``json.loads`` over every mailbox's full calendarView delta round
   (same window and page size as the engine), in events/s;
2. **initial import**, on an empty CRM, in events/s and as a ratio to the bare read (goal >= 0.5),
   twice, each on its own empty CRM in its own sync process (with its own bare read just before):
   **N at a time**, the mailboxes pulled N at a time as the runtime's scheduler pulls them (N is
   the runtime's ``engine_concurrency`` unless ``--pull-concurrency`` says otherwise; then the same
   push, deferred re-pulls and push as ``run_once``) — the figure the product gives — and
   **1 at a time**, ``SyncEngine.run_once()`` (push, pull each synced mailbox in turn, push);
3. **echoes after the import**: Graph writes made by that run and outbox entries left (goal 0);
4. **steady state**: ``run_once()`` again with nothing changed; Graph requests per mailbox, from
   the emulator's request counts (goal exactly 1);
5. **CRM edits pushed**: EDITS subject changes (default a tenth of the events) saved one
   transaction each, then ``push_pending()``; HTTP requests to Graph per change, counted by a
   request hook on the Graph client's httpx client (goal <= 0.06 with ``$batch``), beside the
   emulator's per-mailbox count, which counts each ``$batch`` item as Graph's throttling does;
6. **echoes after pulling the pushed edits**: ``run_once()`` again; CRM and Graph writes (goal 0);
7. **peak memory**: the sync process's peak RSS, here and in a second import-only run at a smaller
   size (`--memory-scale`, default half the mailboxes and half the events each), to show whether it
   grows with the number of events (goal: flat, under 300 MB).

Figures are printed, never asserted; ``--json PATH`` also writes them as JSON.

    .venv/bin/python bench/bench_sync.py --scale quick          # under a minute
    .venv/bin/python bench/bench_sync.py --scale 40x500         # 20,000 events
    .venv/bin/python bench/bench_sync.py --scale 40x500 --pull-concurrency 1   # run_once only
    .venv/bin/python bench/bench_sync.py                        # 100,000 events (issue 5's size)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import re
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "6e1c0b3a-bench-4c1e-9a51-c0ffee000200"
CLIENT_SECRET = "bench-sync-secret"
ZONE = "Eastern Standard Time"
OCCURRENCES_PER_SERIES = 10
ATTENDEES_PER_EVENT = 3
PRESETS = {"smoke": "1x20", "quick": "2x200", "full": "200x500"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BenchInputError(ValueError):
    """A benchmark option is unusable; `code` is machine-readable, `field` names the option."""

    def __init__(self, field: str, problem: str, code: str = "bench.invalid_option") -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class Scale:
    """How many mailboxes, and how many Graph items (singles + occurrences) in each."""

    mailboxes: int
    events_per_mailbox: int

    @property
    def events(self) -> int:
        return self.mailboxes * self.events_per_mailbox

    def __str__(self) -> str:
        return f"{self.mailboxes}x{self.events_per_mailbox}"


def parse_scale(text: str, field: str = "--scale") -> Scale:
    """`smoke`, `quick`, `full` or MAILBOXESxEVENTS (e.g. 2x200); events per mailbox >= 10, so
    a fifth of them can be occurrences."""
    spelled = PRESETS.get(text.strip().lower(), text.strip().lower())
    match = re.fullmatch(r"(\d+)x(\d+)", spelled)
    if match is None:
        raise BenchInputError(
            field, f"'{text}' is not smoke, quick, full or MAILBOXESxEVENTS like 2x200"
        )
    mailboxes, events = int(match.group(1)), int(match.group(2))
    if not 1 <= mailboxes <= 1000:
        raise BenchInputError(field, f"{mailboxes} mailboxes is outside 1 … 1000")
    if not 10 <= events <= 5000:
        raise BenchInputError(field, f"{events} events per mailbox is outside 10 … 5000")
    return Scale(mailboxes, events)


def runtime_engine_concurrency() -> int:
    """How many engine calls (pulls) the sync runtime runs at a time by default: the import figure
    the product gives is measured that way."""
    from calsync.runtime.service import SyncRuntime

    default = inspect.signature(SyncRuntime.__init__).parameters["engine_concurrency"].default
    if not isinstance(default, int):
        raise TypeError("SyncRuntime's engine_concurrency has no integer default")
    return default


def mailbox_addresses(count: int) -> list[str]:
    return [f"advisor{index:04d}@contoso.com" for index in range(count)]


# ----- the mailboxes' contents -------------------------------------------------------------------


def series_sizes(events_per_mailbox: int) -> list[int]:
    """A fifth of the mailbox as occurrences, in weekly series of up to 10."""
    occurrences = events_per_mailbox // 5
    sizes = [OCCURRENCES_PER_SERIES] * (occurrences // OCCURRENCES_PER_SERIES)
    if occurrences % OCCURRENCES_PER_SERIES:
        sizes.append(occurrences % OCCURRENCES_PER_SERIES)
    return sizes


def _attendees(mailbox_index: int, n: int) -> list[dict[str, Any]]:
    return [
        {
            "emailAddress": {
                "address": f"client{(mailbox_index * 7 + n + k) % 5000}@fabrikam.example",
                "name": f"Client {(mailbox_index * 7 + n + k) % 5000}",
            },
            "type": "required",
        }
        for k in range(ATTENDEES_PER_EVENT)
    ]


def _times(start: datetime) -> dict[str, Any]:
    end = start + timedelta(minutes=45)
    return {
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": ZONE},
        "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": ZONE},
    }


def single_body(today: date, mailbox_index: int, n: int) -> dict[str, Any]:
    """A client meeting between 20 days ago and ~10 months ahead (inside the default window)."""
    day = today + timedelta(days=-20 + (n * 3 + mailbox_index) % 300)
    start = datetime(day.year, day.month, day.day, 8 + n % 9, 15 * (n % 4))
    return {
        "subject": f"Portfolio review {mailbox_index}-{n}",
        "body": {"contentType": "text", "content": "Agenda: allocation, fees, next steps."},
        **_times(start),
        "location": {"displayName": "Office, 5th floor"},
        "attendees": _attendees(mailbox_index, n),
    }


def series_body(today: date, mailbox_index: int, n: int, occurrences: int) -> dict[str, Any]:
    """A weekly series of `occurrences` meetings starting within the next ten weeks."""
    first = today + timedelta(days=1 + (n * 5 + mailbox_index) % 70)
    start = datetime(first.year, first.month, first.day, 9 + n % 7, 30)
    return {
        "subject": f"Weekly planning {mailbox_index}-{n}",
        **_times(start),
        "attendees": _attendees(mailbox_index, n),
        "recurrence": {
            "pattern": {
                "type": "weekly",
                "interval": 1,
                "daysOfWeek": [WEEKDAYS[first.weekday()]],
                "firstDayOfWeek": "sunday",
            },
            "range": {
                "type": "numbered",
                "startDate": first.isoformat(),
                "numberOfOccurrences": occurrences,
                "recurrenceTimeZone": ZONE,
            },
        },
    }


# ----- the emulator process ----------------------------------------------------------------------


def serve_emulator(scale: Scale, ready_file: Path) -> None:
    """Load the mailboxes in one transaction, serve them over TLS, write the address, wait for
    the parent to close our stdin."""
    from calsync.emulator.config import EmulatorConfig
    from calsync.emulator.server import EmulatorServer

    addresses = mailbox_addresses(scale.mailboxes)
    config = EmulatorConfig(
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        mailboxes=addresses,
        requests_per_window=1_000_000,  # measure the engine, not our copy of Graph's throttle
        max_concurrent=16,
    )
    server = EmulatorServer(config, tls=True, ca_path=ready_file.with_suffix(".ca.pem"))
    calendar, today = server.emulator.calendar, datetime.now(UTC).date()
    singles = scale.events_per_mailbox - sum(series_sizes(scale.events_per_mailbox))
    started = time.perf_counter()
    with server.emulator.store.transaction():
        for index, address in enumerate(addresses):
            mailbox = calendar.mailbox(address)
            for n in range(singles):
                calendar.create(mailbox, single_body(today, index, n))
            for n, size in enumerate(series_sizes(scale.events_per_mailbox)):
                calendar.create(mailbox, series_body(today, index, n, size))
    loaded = time.perf_counter() - started
    progress(f"emulator: {scale.events} events loaded in {loaded:.0f} s")
    server.start()
    partial = ready_file.with_suffix(".partial")
    partial.write_text(
        json.dumps(
            {"base_url": server.base_url, "ca_path": str(server.ca_path), "load_seconds": loaded}
        )
    )
    partial.rename(ready_file)  # atomic: the parent never reads half a file
    sys.stdin.read()
    server.stop()


class EmulatorProcess:
    """The emulator in a child process, loaded with `scale`; a context manager."""

    def __init__(self, scale: Scale, work: Path) -> None:
        self.scale = scale
        self.ready_file = work / f"emulator-{scale}.json"
        self._process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> EmulatorProcess:
        self._process = subprocess.Popen(
            [
                *(sys.executable, __file__, "--serve-emulator"),
                *("--scale", str(self.scale), "--ready-file", str(self.ready_file)),
            ],
            stdin=subprocess.PIPE,
            text=True,
        )
        while not self.ready_file.exists():
            if self._process.poll() is not None:
                raise SystemExit("the emulator process exited before it was ready")
            time.sleep(0.1)
        self.info = json.loads(self.ready_file.read_text())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.close()
            self._process.wait(timeout=60)


# ----- the sync process --------------------------------------------------------------------------


@dataclass
class SyncFigures:
    """Everything one sync process measured (JSON between the processes)."""

    events: int
    mailboxes: int
    pull_concurrency: int = 1
    bare_items: int = 0
    bare_seconds: float = 0.0
    bare_cpu_seconds: float = 0.0
    import_items: int = 0
    import_seconds: float = 0.0
    import_cpu_seconds: float = 0.0
    import_gc_seconds: float = 0.0
    gc_frozen: bool = False
    crm_events_after_import: int = 0
    import_failed_mailboxes: int = 0
    import_echo_graph_writes: int = 0
    import_echo_outbox_entries: int = 0
    steady_requests_per_mailbox: list[int] | None = None
    steady_requests_total: int = 0
    edits: int = 0
    edit_save_seconds: float = 0.0
    push_seconds: float = 0.0
    push_cpu_seconds: float = 0.0
    push_pushed: int = 0
    push_failed: int = 0
    push_http_requests: int = 0
    push_mailbox_requests: int = 0
    edit_echo_crm_writes: int = 0
    edit_echo_graph_writes: int = 0
    edit_echo_outbox_entries: int = 0
    baseline_rss_mib: float = 0.0
    peak_rss_mib: float = 0.0


def progress(message: str) -> None:
    """A line on stderr as each step ends, so a long run shows where it is."""
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class GraphRequestCounter:
    """An httpx request hook counting the HTTP requests sent to Graph (token requests to the
    authority are not Graph requests). A `$batch` of 20 writes is one request here, while the
    emulator's per-mailbox counts see its 20 items, as Graph's throttling does."""

    def __init__(self, graph_url: str) -> None:
        self.graph_url = graph_url.rstrip("/") + "/"
        self.count = 0

    async def __call__(self, request: Any) -> None:
        if str(request.url).startswith(self.graph_url):
            self.count += 1


class CollectorClock:
    """CPU time spent in Python's cyclic garbage collector while `running` (through
    `gc.callbacks`): a parsed delta page is many small objects, and the collections their
    allocations trigger are charged, in a profile, to whatever code was allocating."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.running = False
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if not self.running:
            return
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started

    def __enter__(self) -> CollectorClock:
        gc.callbacks.append(self)
        self.running = True
        return self

    def __exit__(self, *_exc: object) -> None:
        self.running = False
        gc.callbacks.remove(self)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def bare_delta_read(info: dict[str, Any], mailboxes: list[str], window: Any) -> int:
    """The least a reader can do: one token, then every mailbox's delta round, page by page."""
    import httpx

    from calsync.graph.settings import GraphSettings

    page_size = GraphSettings.__dataclass_fields__["page_size"].default
    context = ssl.create_default_context(cafile=info["ca_path"])
    base = info["base_url"]
    items = 0
    async with httpx.AsyncClient(verify=context, timeout=120) as http:
        token = await http.post(
            f"{base}/{TENANT}/oauth2/v2.0/token",
            data={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            },
        )
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Prefer": f'IdType="ImmutableId", odata.maxpagesize={page_size}',
        }
        for mailbox in mailboxes:
            url: str | None = f"{base}/v1.0/users/{mailbox}/calendarView/delta"
            params: dict[str, str] | None = {
                "startDateTime": window[0].isoformat(),
                "endDateTime": window[1].isoformat(),
            }
            while url is not None:
                response = await http.get(url, params=params, headers=headers)
                response.raise_for_status()
                page = json.loads(response.content)
                items += len(page["value"])
                url, params = page.get("@odata.nextLink"), None
    return items


def prepare_crm(url: str, mailboxes: list[str]) -> Any:
    """A migrated SQLite CRM with the organisation's sync on and one synced user per mailbox."""
    from calsync.crm.database import create_database_engine, create_session_factory
    from calsync.crm.migrate import upgrade_database
    from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
    from calsync.crm.services.users import create_user

    upgrade_database(url)
    sessions = create_session_factory(create_database_engine(url))
    with sessions() as session:
        update_sync_settings(session, SyncSettingsChanges(sync_enabled=True))
        for address in mailboxes:
            name = address.split("@")[0].title()
            create_user(
                session, name=name, email=address, time_zone="America/New_York", sync_enabled=True
            )
        session.commit()
    return sessions


def save_crm_edits(sessions: Any, count: int) -> int:
    """Change the subject of `count` synced single meetings, spread over every mailbox, one
    transaction each (a person's save); returns how many were saved."""
    from dataclasses import replace

    from sqlalchemy import select

    from calsync.crm.models import Event
    from calsync.crm.services.event_input import event_input_of
    from calsync.crm.services.events import update_event
    from calsync.sync.storage.models import SyncLinkRecord

    with sessions() as session:
        ids = list(
            session.scalars(
                select(SyncLinkRecord.crm_event_id)
                .where(SyncLinkRecord.event_type == "singleInstance")
                .order_by(SyncLinkRecord.crm_event_id)
            )
        )
    step = max(1, len(ids) // max(count, 1))
    chosen = ids[::step][:count]
    for number, event_id in enumerate(chosen):
        with sessions() as session:
            event = session.get(Event, event_id)
            assert event is not None
            changed = replace(event_input_of(event), subject=f"{event.subject} (edit {number})")
            update_event(session, event_id, event.version, changed)
            session.commit()
    return len(chosen)


def count_rows(sessions: Any, model: Any) -> int:
    from sqlalchemy import func, select

    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def import_everything(engine: Any, concurrency: int) -> Any:
    """The initial import: ``run_once()``, or with `concurrency` > 1 the same steps with the
    mailboxes pulled that many at a time (the runtime scheduler's ``engine_concurrency``)."""
    from calsync.graph.errors import GraphError
    from calsync.sync.engine import RunReport

    if concurrency <= 1:
        return await engine.run_once()
    report = RunReport()
    report.pushes.append(await engine.push_pending())
    turns = asyncio.Semaphore(concurrency)

    async def pull(mailbox: str) -> Any:
        async with turns:
            try:
                pulled = await engine.pull_mailbox(mailbox)
            except GraphError as error:
                report.failed_mailboxes[mailbox] = str(error)
                return None
            report.pulls.append(pulled)
            return pulled

    pulled = await asyncio.gather(*(pull(mailbox) for mailbox in engine.synced_mailboxes()))
    for waiting in [p.mailbox for p in pulled if p is not None and p.deferred]:
        await pull(waiting)
    report.pushes.append(await engine.push_pending())
    return report


async def run_sync(
    info: dict[str, Any],
    scale: Scale,
    edits: int,
    import_only: bool,
    concurrency: int = 1,
    bare_read: bool = True,
    gc_freeze: bool = True,
) -> SyncFigures:
    """Steps 1–7 of the module docstring, in this process; with `import_only`, the bare read (if
    `bare_read`) and the import only. `gc_freeze`: before the import, set the collector up with
    the product's own `tune_garbage_collector()` (start-up objects frozen, a larger young
    generation), as `calsync serve`, `calsync worker` and `calsync demo` do once started."""
    import httpx

    from calsync.crm.models import Event
    from calsync.crm.services.organization import get_organization
    from calsync.emulator.control_client import EmulatorControl
    from calsync.graph.client import GraphClient
    from calsync.graph.settings import GraphSettings
    from calsync.runtime.gc_tuning import tune_garbage_collector
    from calsync.sync.engine import SyncEngine
    from calsync.sync.storage.models import OutboxEntry

    figures = SyncFigures(
        events=scale.events,
        mailboxes=scale.mailboxes,
        pull_concurrency=concurrency,
        gc_frozen=gc_freeze,
    )
    mailboxes = mailbox_addresses(scale.mailboxes)
    with tempfile.TemporaryDirectory(prefix="calsync-bench-crm-") as work:
        sessions = prepare_crm(f"sqlite:///{work}/crm.sqlite3", mailboxes)
        with sessions() as session:
            organization = get_organization(session)
            now = datetime.now(UTC)
            window = (
                now - timedelta(days=organization.window_past_days),
                now + timedelta(days=organization.window_future_days),
            )
        control = EmulatorControl(info["base_url"], verify=info["ca_path"])
        settings = GraphSettings(  # as the runtime builds them from the stored connection
            tenant_id=TENANT,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            authority_host=info["base_url"],
            graph_url=info["base_url"] + "/v1.0",
            ca_bundle=Path(info["ca_path"]),
        )
        if bare_read:
            started, cpu = time.perf_counter(), time.process_time()
            figures.bare_items = await bare_delta_read(info, mailboxes, window)
            figures.bare_seconds = time.perf_counter() - started
            figures.bare_cpu_seconds = time.process_time() - cpu
            progress(f"bare delta read: {figures.bare_items} items")
        figures.baseline_rss_mib = _peak_rss_mib()
        counter = GraphRequestCounter(settings.graph_url)
        http = httpx.AsyncClient(  # as the runtime builds it, plus our counting hook
            verify=settings.tls_verification(),
            timeout=httpx.Timeout(settings.request_timeout_seconds),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            event_hooks={"request": [counter]},
        )
        async with http, GraphClient(settings, http=http) as graph:
            engine = SyncEngine(sessions, graph)
            if gc_freeze:
                tune_garbage_collector()
            with CollectorClock() as collector:
                started, cpu = time.perf_counter(), time.process_time()
                imported = await import_everything(engine, concurrency)
                figures.import_seconds = time.perf_counter() - started
                figures.import_cpu_seconds = time.process_time() - cpu
            figures.import_gc_seconds = collector.seconds
            figures.peak_rss_mib = _peak_rss_mib()
            figures.import_items = sum(pull.items_read for pull in imported.pulls)
            figures.import_failed_mailboxes = len(imported.failed_mailboxes)
            figures.crm_events_after_import = count_rows(sessions, Event)
            figures.import_echo_graph_writes = sum(p.graph_writes for p in imported.pushes) + sum(
                pull.graph_writes for pull in imported.pulls
            )
            figures.import_echo_outbox_entries = count_rows(sessions, OutboxEntry)
            progress(f"import: {figures.import_items} items in {figures.import_seconds:.0f} s")
            if import_only:
                return figures

            control.clear_request_counts()
            await engine.run_once()
            counts = control.request_counts()
            figures.steady_requests_per_mailbox = [
                int(counts["mailboxes"].get(address, 0)) for address in mailboxes
            ]
            figures.steady_requests_total = int(counts["total"])
            progress("steady-state run done")

            started = time.perf_counter()
            figures.edits = save_crm_edits(sessions, edits)
            figures.edit_save_seconds = time.perf_counter() - started
            progress(f"{figures.edits} CRM edits saved")
            control.clear_request_counts()
            counter.count = 0
            started, cpu = time.perf_counter(), time.process_time()
            pushed = await engine.push_pending()
            figures.push_seconds = time.perf_counter() - started
            figures.push_cpu_seconds = time.process_time() - cpu
            figures.push_pushed, figures.push_failed = pushed.pushed, pushed.failed
            counts = control.request_counts()
            figures.push_http_requests = counter.count
            figures.push_mailbox_requests = sum(int(n) for n in counts["mailboxes"].values())
            progress(f"push: {pushed.pushed} pushed in {figures.push_seconds:.0f} s")

            echoed = await engine.run_once()
            figures.edit_echo_crm_writes = sum(pull.crm_writes for pull in echoed.pulls)
            figures.edit_echo_graph_writes = sum(p.graph_writes for p in echoed.pushes) + sum(
                pull.graph_writes for pull in echoed.pulls
            )
            figures.edit_echo_outbox_entries = count_rows(sessions, OutboxEntry)
            figures.peak_rss_mib = max(figures.peak_rss_mib, _peak_rss_mib())
        control.close()
    return figures


def sync_process(
    emulator: EmulatorProcess,
    edits: int,
    concurrency: int,
    *,
    import_only: bool = False,
    bare_read: bool = True,
    gc_freeze: bool = True,
) -> SyncFigures:
    """Run one sync process (its own empty CRM) against the running emulator."""
    output = subprocess.run(
        [sys.executable, __file__, "--run-sync", "--scale", str(emulator.scale)]
        + ["--edits", str(edits), "--ready-file", str(emulator.ready_file)]
        + ["--pull-concurrency", str(concurrency)]
        + (["--import-only"] if import_only else [])
        + ([] if bare_read else ["--no-bare-read"])
        + (["--gc-freeze"] if gc_freeze else ["--no-gc-freeze"]),
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return SyncFigures(**json.loads(output.strip().splitlines()[-1]))


def measure(
    scale: Scale, edits: int, work: Path, concurrency: int, gc_freeze: bool = True
) -> tuple[SyncFigures, SyncFigures | None, float]:
    """Start the emulator loaded with `scale`; import 1 mailbox at a time in one sync process
    (when `concurrency` > 1), then run every step with `concurrency` in another. Returns those
    figures and the emulator's load time."""
    with EmulatorProcess(scale, work) as emulator:
        sequential = None
        if concurrency > 1:
            sequential = sync_process(emulator, 0, 1, import_only=True, gc_freeze=gc_freeze)
            progress("import 1 mailbox at a time done")
        main = sync_process(emulator, edits, concurrency, gc_freeze=gc_freeze)
        return main, sequential, float(emulator.info["load_seconds"])


def measure_memory(
    scale: Scale, work: Path, concurrency: int, gc_freeze: bool = True
) -> SyncFigures:
    """An import-only sync process at `scale` (its peak RSS), without the bare read."""
    with EmulatorProcess(scale, work) as emulator:
        return sync_process(
            emulator, 0, concurrency, import_only=True, bare_read=False, gc_freeze=gc_freeze
        )


# ----- the report --------------------------------------------------------------------------------


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def import_lines(figures: SyncFigures, product: bool) -> list[str]:
    """An import's rate, its ratio to the bare read taken in the same sync process just before,
    and the sync process's CPU per event for both. `product`: pulled as the runtime pulls."""
    bare_rate = _rate(figures.bare_items, figures.bare_seconds)
    import_rate = _rate(figures.import_items, figures.import_seconds)
    ratio = import_rate / bare_rate if bare_rate > 0 else 0.0
    at_a_time = _at_a_time(figures.pull_concurrency)
    import_cpu = _per_event_ms(figures.import_cpu_seconds, figures)
    how = "as the runtime pulls" if product else "SyncEngine.run_once()"
    return [
        f"  {'initial import, ' + at_a_time:36s}{import_rate:9,.0f} events/s "
        f"({how}; {figures.import_items:,} items, {figures.import_seconds:.1f} s, "
        f"{figures.crm_events_after_import:,} CRM events, "
        f"{figures.import_failed_mailboxes} failed mailboxes; bare read {bare_rate:,.0f} "
        "events/s)",
        f"  {'import / bare read, ' + at_a_time:36s}{ratio:9.2f}   (goal >= 0.5)",
        f"  {'CPU per event, ' + at_a_time:36s}{import_cpu:9.3f}"
        f" ms importing, {_per_event_ms(figures.bare_cpu_seconds, figures):.3f} ms in the bare "
        "read (sync process; steadier than the rates when other processes share the cores)",
        f"  {'garbage collector, ' + at_a_time:36s}"
        f"{_per_event_ms(figures.import_gc_seconds, figures):9.3f} ms per event of the import's "
        "CPU"
        + (
            " (collector tuned as calsync serve/worker/demo do: startup objects frozen)"
            if figures.gc_frozen
            else " (collector NOT tuned: --no-gc-freeze; the product tunes it)"
        ),
    ]


def report(
    main: SyncFigures,
    load_seconds: float,
    second: SyncFigures | None,
    sequential: SyncFigures | None = None,
) -> list[str]:
    """The printed lines; every figure has a fixed label (the smoke test looks for them).
    `main` pulled its mailboxes as the runtime does; `sequential`, if measured, one at a time."""
    bare_rate = _rate(main.bare_items, main.bare_seconds)
    steady = main.steady_requests_per_mailbox or [0]
    per_change = main.push_http_requests / main.edits if main.edits else 0.0
    items_per_change = main.push_mailbox_requests / main.edits if main.edits else 0.0
    lines = [
        f"sync benchmark: {main.mailboxes} mailboxes x {main.events // main.mailboxes} events = "
        f"{main.events:,} events (a fifth occurrences, {ATTENDEES_PER_EVENT} attendees each)",
        f"  emulator load (separate process)    {load_seconds:9.1f} s",
        f"  bare delta read                     {bare_rate:9,.0f} events/s "
        f"({main.bare_items:,} items, {main.bare_seconds:.1f} s)",
        *import_lines(main, product=True),
        *(import_lines(sequential, product=False) if sequential is not None else []),
        f"  echoed writes after import          {main.import_echo_graph_writes:9d}   "
        f"(Graph writes; {main.import_echo_outbox_entries} outbox entries left; goal 0)",
        f"  steady-state requests per mailbox   {min(steady):9d}   (max {max(steady)}, "
        f"{main.steady_requests_total} requests in all; goal exactly 1)",
        f"  CRM edits saved                     {_rate(main.edits, main.edit_save_seconds):9,.0f}"
        f" saves/s ({main.edits:,} edits, one transaction each)",
        f"  push of the edits                   {_rate(main.edits, main.push_seconds):9,.0f}"
        f" changes/s ({main.push_pushed:,} pushed, {main.push_failed} failed, "
        f"{main.push_seconds:.1f} s)",
        f"  CPU per pushed change               "
        f"{1000 * _rate(main.push_cpu_seconds, main.edits):9.3f} ms in the sync process "
        f"(wall {1000 * _rate(main.push_seconds, main.edits):.3f} ms; the rest is the emulator "
        "and waiting)",
        f"  requests per change                 {per_change:9.3f}   (goal <= 0.06 with $batch; "
        f"{main.push_http_requests:,} HTTP requests to Graph; {items_per_change:.3f} mailbox "
        "requests per change as Graph's throttling counts them)",
        f"  echoed writes after pulling edits   "
        f"{main.edit_echo_crm_writes + main.edit_echo_graph_writes:9d}   "
        f"({main.edit_echo_crm_writes} CRM, {main.edit_echo_graph_writes} Graph, "
        f"{main.edit_echo_outbox_entries} outbox entries left; goal 0)",
        f"  peak memory (sync process)          {main.peak_rss_mib:9.1f} MiB at "
        f"{main.events:,} events (before the import: {main.baseline_rss_mib:.1f} MiB)",
    ]
    if per_change >= 1:
        lines.append(
            "  note: the push runner does not use $batch: it sends one Graph request per change"
        )
    if second is not None:
        lines.append(
            f"  peak memory, smaller run            {second.peak_rss_mib:9.1f} MiB at "
            f"{second.events:,} events (import only; goal: flat, under 300 MB)"
        )
    return lines


def _per_event_ms(seconds: float, figures: SyncFigures) -> float:
    return 1000 * seconds / figures.events if figures.events else 0.0


def _at_a_time(concurrency: int) -> str:
    return "1 at a time" if concurrency <= 1 else f"{concurrency} at a time"


# ----- command line ------------------------------------------------------------------------------


def _scale_argument(text: str) -> Scale:
    try:
        return parse_scale(text)
    except BenchInputError as error:
        raise argparse.ArgumentTypeError(str(error).split(": ", 1)[1]) from error


def default_memory_scale(scale: Scale) -> Scale:
    return Scale(max(1, scale.mailboxes // 2), max(10, scale.events_per_mailbox // 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=_scale_argument, default=parse_scale("full"))
    parser.add_argument(
        "--edits", type=int, help="CRM edits to push (default: a tenth of the events)"
    )
    parser.add_argument(
        "--memory-scale",
        type=_scale_argument,
        help="size of the second, import-only run for peak memory (default: half of each)",
    )
    parser.add_argument("--no-memory-run", action="store_true", help="skip the second run")
    parser.add_argument(
        "--pull-concurrency",
        type=int,
        help="pull this many mailboxes at a time in the import (default: the runtime's "
        "engine_concurrency); above 1, an import 1 at a time (run_once) is measured too",
    )
    parser.add_argument(
        "--gc-freeze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="set the garbage collector up as calsync serve/worker/demo do after startup "
        "(startup objects frozen, young generation threshold 10,000) before the import "
        "(default); --no-gc-freeze shows CPython's default collector",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve-emulator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-sync", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--import-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-bare-read", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    scale: Scale = args.scale
    edits = scale.events // 10 if args.edits is None else args.edits
    if edits < 0:
        parser.error("argument --edits: must be 0 or more")
    concurrency: int = (
        runtime_engine_concurrency() if args.pull_concurrency is None else args.pull_concurrency
    )
    if not 1 <= concurrency <= 64:
        parser.error("argument --pull-concurrency: must be 1 … 64")
    if args.serve_emulator:
        serve_emulator(scale, args.ready_file)
        return
    if args.run_sync:
        info = json.loads(args.ready_file.read_text())
        figures = asyncio.run(
            run_sync(
                info,
                scale,
                edits,
                args.import_only,
                concurrency,
                not args.no_bare_read,
                args.gc_freeze,
            )
        )
        print(json.dumps(asdict(figures)))
        return

    with tempfile.TemporaryDirectory(prefix="calsync-bench-sync-") as work:
        main_figures, sequential, load_seconds = measure(
            scale, edits, Path(work), concurrency, args.gc_freeze
        )
        second = None
        if not args.no_memory_run:
            second_scale = args.memory_scale or default_memory_scale(scale)
            second = measure_memory(second_scale, Path(work), concurrency, args.gc_freeze)
    for line in report(main_figures, load_seconds, second, sequential):
        print(line)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "main": asdict(main_figures),
                    "import_one_at_a_time": asdict(sequential) if sequential else None,
                    "emulator_load_seconds": load_seconds,
                    "memory_run": asdict(second) if second else None,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
