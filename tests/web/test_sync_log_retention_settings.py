"""`/settings`: how many days the sync log is kept, validated by name, nothing partly written."""

from __future__ import annotations

import pytest

from tests.web.conftest import Caller, assert_error


def test_the_sync_log_is_kept_90_days_until_an_admin_changes_it(admin: Caller) -> None:
    assert admin.get("/settings").json()["sync_log_retention_days"] == 90

    response = admin.patch("/settings", json={"sync_log_retention_days": 30})

    assert response.status_code == 200, response.text
    assert response.json()["sync_log_retention_days"] == 30
    assert admin.get("/settings").json()["sync_log_retention_days"] == 30


@pytest.mark.parametrize("days", [0, -5, 3651, 10**30])
def test_a_retention_out_of_range_is_refused_by_name_and_nothing_is_saved(
    admin: Caller, days: int
) -> None:
    response = admin.patch(
        "/settings", json={"window_past_days": 7, "sync_log_retention_days": days}
    )

    error = assert_error(response, 422, "invalid_input", "sync_log_retention_days")
    assert "between 1 and 3650" in error["message"]
    settings = admin.get("/settings").json()
    assert (settings["window_past_days"], settings["sync_log_retention_days"]) == (30, 90)


@pytest.mark.parametrize("days", ["a quarter", None])
def test_a_retention_that_is_not_a_number_is_refused_by_name(
    admin: Caller, days: str | None
) -> None:
    response = admin.patch("/settings", json={"sync_log_retention_days": days})

    assert_error(response, 422, "invalid_value", "sync_log_retention_days")
    assert admin.get("/settings").json()["sync_log_retention_days"] == 90


def test_staff_may_not_change_the_retention(advisor: Caller) -> None:
    response = advisor.patch("/settings", json={"sync_log_retention_days": 1})

    assert_error(response, 403, "admin_only")
