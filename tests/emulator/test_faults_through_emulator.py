"""Faults on the real TLS emulator server, where a dropped connection is a real dropped socket."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from calsync.emulator.control_client import EmulatorControl
from tests.fixtures.emulator import ADELE

WEEK = {"startDateTime": "2026-12-07T00:00:00Z", "endDateTime": "2026-12-14T00:00:00Z"}


def review(subject: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": "2026-12-08T15:00:00", "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": "2026-12-08T16:00:00", "timeZone": "Eastern Standard Time"},
    }


def subjects_this_week(graph: httpx.Client) -> list[str]:
    reply = graph.get(f"/users/{ADELE}/calendarView", params=WEEK)
    return [event["subject"] for event in reply.json()["value"]]


def test_apply_then_drop_fails_the_call_but_the_event_exists(
    control: EmulatorControl, graph: httpx.Client
) -> None:
    control.add_fault("apply_then_drop", next_requests=1, method="POST", mailbox=ADELE)
    with pytest.raises(httpx.RemoteProtocolError):
        graph.post(f"/users/{ADELE}/events", json=review("Estate planning"))
    assert subjects_this_week(graph) == ["Estate planning"]


def test_drop_fails_the_call_and_nothing_is_written(
    control: EmulatorControl, graph: httpx.Client
) -> None:
    control.add_fault("drop", next_requests=1, method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        graph.post(f"/users/{ADELE}/events", json=review("Estate planning"))
    assert subjects_this_week(graph) == []


def test_next_n_faults_then_recovery_with_retry_after(
    control: EmulatorControl, graph: httpx.Client
) -> None:
    control.add_fault(
        "throttled", next_requests=2, path_pattern="/calendarView$", retry_after_seconds=4
    )
    replies = [graph.get(f"/users/{ADELE}/calendarView", params=WEEK) for _ in range(3)]
    assert [r.status_code for r in replies] == [429, 429, 200]
    assert replies[0].headers["Retry-After"] == "4"
    assert replies[0].headers["request-id"]  # the core's request ids are on faulted answers too
    assert control.request_counts()["mailboxes"] == {ADELE: 3}
