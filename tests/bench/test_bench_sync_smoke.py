"""The sync benchmark at its smallest size: it runs, prints every figure, and the behaviours the
engine guarantees hold (one Graph request per mailbox when nothing changed, no echoed writes).
Timings are printed by the benchmark and never asserted here."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from calsync.runtime.service import SyncRuntime

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_sync.py"

# How many mailboxes the runtime pulls at a time, which the benchmark's main import uses.
RUNTIME_PULLS = inspect.signature(SyncRuntime.__init__).parameters["engine_concurrency"].default
FIGURE_LABELS = (
    "emulator load (separate process)",
    "bare delta read",
    f"initial import, {RUNTIME_PULLS} at a time",
    f"import / bare read, {RUNTIME_PULLS} at a time",
    f"CPU per event, {RUNTIME_PULLS} at a time",
    f"garbage collector, {RUNTIME_PULLS} at a time",
    "initial import, 1 at a time",
    "import / bare read, 1 at a time",
    "CPU per event, 1 at a time",
    "garbage collector, 1 at a time",
    "echoed writes after import",
    "steady-state requests per mailbox",
    "CRM edits saved",
    "push of the edits",
    "requests per change",
    "echoed writes after pulling edits",
    "peak memory (sync process)",
    "peak memory, smaller run",
)


def run_bench(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *arguments],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    figures_file = tmp_path_factory.mktemp("bench") / "figures.json"
    result = run_bench("--scale", "smoke", "--memory-scale", "1x10", "--json", str(figures_file))
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(figures_file.read_text())


def test_prints_every_figure(smoke_run: tuple[str, dict[str, Any]]) -> None:
    output, _ = smoke_run
    for label in FIGURE_LABELS:
        assert label in output, f"missing figure: {label}"


def test_import_reads_every_event_of_every_mailbox(smoke_run: tuple[str, dict[str, Any]]) -> None:
    _, figures = smoke_run
    for run in (figures["main"], figures["import_one_at_a_time"]):
        assert run["events"] == 20
        assert run["bare_items"] == run["import_items"] == 20
        assert run["import_failed_mailboxes"] == 0
        assert run["crm_events_after_import"] == 21  # 20 items and the series of 4 occurrences
    assert figures["memory_run"]["events"] == 10
    assert figures["memory_run"]["import_items"] == 10


def test_the_import_is_measured_as_the_runtime_pulls_and_one_at_a_time(
    smoke_run: tuple[str, dict[str, Any]],
) -> None:
    _, figures = smoke_run
    assert RUNTIME_PULLS > 1
    assert figures["main"]["pull_concurrency"] == RUNTIME_PULLS
    assert figures["import_one_at_a_time"]["pull_concurrency"] == 1


def test_pull_concurrency_one_measures_run_once_only(tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    result = run_bench(
        *("--scale", "smoke", "--no-memory-run", "--edits", "0", "--pull-concurrency", "1"),
        *("--json", str(figures_file)),
    )
    assert result.returncode == 0, result.stderr
    assert "initial import, 1 at a time" in result.stdout
    assert f" {RUNTIME_PULLS} at a time" not in result.stdout
    figures = json.loads(figures_file.read_text())
    assert figures["main"]["pull_concurrency"] == 1
    assert figures["import_one_at_a_time"] is None


def test_the_collector_is_frozen_as_the_product_runs_unless_asked(
    smoke_run: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    output, figures = smoke_run
    assert figures["main"]["gc_frozen"] is True
    assert "(collector tuned as calsync serve/worker/demo do: startup objects frozen)" in output
    figures_file = tmp_path / "figures.json"
    result = run_bench(
        *("--scale", "smoke", "--no-memory-run", "--edits", "0", "--pull-concurrency", "1"),
        *("--no-gc-freeze", "--json", str(figures_file)),
    )
    assert result.returncode == 0, result.stderr
    assert "collector NOT tuned: --no-gc-freeze" in result.stdout
    unfrozen = json.loads(figures_file.read_text())["main"]
    assert unfrozen["gc_frozen"] is False
    assert unfrozen["import_items"] == 20
    assert 0 <= unfrozen["import_gc_seconds"] <= unfrozen["import_cpu_seconds"]
