"""The jobs runtime's configuration and pure rules: settings refused by name, PostgreSQL
required, the CRM URL as a libpq conninfo, procrastinate's migrations in order, the tick's plan
and the push backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.scheduling import plan_pulls
from calsync.runtime.jobs.schema import pending_migrations
from calsync.runtime.jobs.settings import (
    JobsConfigurationError,
    JobsSettings,
    jobs_mode,
    require_postgresql,
)
from calsync.runtime.jobs.tasks import push_backoff
from calsync.runtime.schedule import next_run_at

NOW = datetime(2026, 11, 26, 9, 0, 7, tzinfo=UTC)


def test_the_in_process_runtime_stays_the_default() -> None:
    assert jobs_mode({}) is False
    assert jobs_mode({"CALSYNC_RUNTIME": "in-process"}) is False
    assert jobs_mode({"CALSYNC_RUNTIME": " Jobs "}) is True


def test_an_unknown_runtime_is_refused_by_name() -> None:
    with pytest.raises(JobsConfigurationError) as refused:
        jobs_mode({"CALSYNC_RUNTIME": "celery"})
    assert refused.value.field == "CALSYNC_RUNTIME"
    assert refused.value.code == "jobs_configuration_invalid"
    assert "'celery'" in refused.value.message


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("CALSYNC_JOBS_TICK_SECONDS", "7", "divides a minute"),
        ("CALSYNC_JOBS_TICK_SECONDS", "soon", "a number of seconds"),
        ("CALSYNC_WORKER_HEARTBEAT_SECONDS", "0", "between 0.2 and 300"),
    ],
)
def test_bad_tuning_is_refused_naming_the_variable(variable: str, value: str, problem: str) -> None:
    with pytest.raises(JobsConfigurationError) as refused:
        JobsSettings.from_environment({variable: value})
    assert refused.value.field == variable
    assert problem in refused.value.message


def test_tuning_defaults_and_the_tick_cron() -> None:
    settings = JobsSettings.from_environment({})
    assert (settings.tick_seconds, settings.heartbeat_seconds) == (60, 10.0)
    assert settings.stalled_after_seconds == 30.0
    assert settings.tick_cron == "* * * * *"
    fast = JobsSettings.from_environment(
        {"CALSYNC_JOBS_TICK_SECONDS": "2", "CALSYNC_WORKER_HEARTBEAT_SECONDS": "0.5"}
    )
    assert fast.tick_cron == "* * * * * */2"
    assert fast.stalled_after_seconds == 1.5


@pytest.mark.parametrize("url", ["sqlite:///calsync.sqlite3", "mysql://x@y/z", "not a url"])
def test_the_jobs_runtime_needs_postgresql(url: str) -> None:
    with pytest.raises(JobsConfigurationError) as refused:
        require_postgresql(url)
    assert refused.value.field == "CALSYNC_DATABASE_URL"
    assert "needs PostgreSQL" in refused.value.message


def test_the_crm_url_becomes_a_libpq_conninfo() -> None:
    conninfo = conninfo_of(
        "postgresql+psycopg://calsync:s%40cret@db.internal:6432/crm?sslmode=require"
    )
    assert conninfo_to_dict(conninfo) == {
        "host": "db.internal",
        "port": "6432",
        "user": "calsync",
        "password": "s@cret",
        "dbname": "crm",
        "sslmode": "require",
    }


def test_procrastinate_migrations_are_chosen_after_the_installed_version_in_order(
    tmp_path: Path,
) -> None:
    for name in (
        "03.00.00_50_post_cancel_notification.sql",
        "03.00.00_01_pre_cancel_notification.sql",
        "02.06.00_01_add_cancel_states.sql",
        "03.04.00_01_pre_add_retry.sql",
        "03.10.00_01_future.sql",
        "README.txt",
    ):
        (tmp_path / name).write_text("SELECT 1;")
    chosen = pending_migrations((2, 6, 0), (3, 4, 0), tmp_path)
    assert [path.name for path in chosen] == [
        "03.00.00_01_pre_cancel_notification.sql",
        "03.00.00_50_post_cancel_notification.sql",
        "03.04.00_01_pre_add_retry.sql",
    ]
    assert pending_migrations((3, 4, 0), (3, 4, 0), tmp_path) == []


def test_first_pulls_are_spread_over_the_first_minute() -> None:
    mailboxes = [f"advisor{number}@harborview.example" for number in range(200)]
    planned = plan_pulls(mailboxes, {}, timedelta(minutes=15), NOW, timedelta(seconds=60))
    assert sorted(pull.mailbox for pull in planned) == sorted(mailboxes)
    moments = [pull.at for pull in planned]
    assert all(NOW <= at < NOW + timedelta(minutes=1) for at in moments)
    # Spread, not all at once: every 10-second slice of the minute gets some of them.
    slices = {int((at - NOW).total_seconds() // 10) for at in moments}
    assert slices == set(range(6))


def test_a_pull_is_planned_at_its_slot_only_when_the_slot_comes_before_the_next_tick() -> None:
    period = timedelta(minutes=15)
    mailboxes = [f"advisor{number}@harborview.example" for number in range(100)]
    last = {mailbox: NOW - timedelta(minutes=12) for mailbox in mailboxes}
    planned = {pull.mailbox: pull.at for pull in plan_pulls(mailboxes, last, period, NOW, period)}
    for mailbox in mailboxes:
        slot = next_run_at(mailbox, last[mailbox], period, NOW)
        if slot < NOW + period:
            assert planned[mailbox] == max(slot, NOW)
        else:
            assert mailbox not in planned
    soon = plan_pulls(mailboxes, last, period, NOW, timedelta(seconds=60))
    assert all(NOW <= pull.at < NOW + timedelta(seconds=60) for pull in soon)
    assert len(soon) < len(planned)


def test_a_mailbox_just_pulled_is_not_planned_again() -> None:
    mailbox = "ana@harborview.example"
    planned = plan_pulls(
        [mailbox],
        {mailbox: NOW - timedelta(seconds=5)},
        timedelta(minutes=5),
        NOW,
        timedelta(seconds=60),
    )
    assert planned == []


def test_a_failed_push_waits_longer_each_time_up_to_five_minutes() -> None:
    waits = [push_backoff(attempt).total_seconds() for attempt in range(12)]
    assert waits[:4] == [1, 2, 4, 8]
    assert waits == sorted(waits)
    assert waits[-1] == 300
