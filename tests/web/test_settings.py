"""`/settings`: administrators change the run frequency and the sync window; secrets never show."""

from __future__ import annotations

from tests.web.conftest import Caller, assert_error


def test_an_admin_changes_the_run_frequency_and_window(admin: Caller) -> None:
    response = admin.patch("/settings", json={"run_frequency_minutes": 5, "window_past_days": 7})
    assert response.status_code == 200, response.text
    settings = admin.get("/settings").json()
    assert (settings["run_frequency_minutes"], settings["window_past_days"]) == (5, 7)
    assert settings["window_future_days"] == 365
    assert settings["has_client_secret"] is False
    assert not any("secret" in key and key != "has_client_secret" for key in settings)


def test_a_run_frequency_of_zero_is_refused_by_name(admin: Caller) -> None:
    assert_error(
        admin.patch("/settings", json={"run_frequency_minutes": 0}),
        422,
        "invalid_input",
        "run_frequency_minutes",
    )
    assert_error(
        admin.patch("/settings", json={"run_frequency_minutes": 10**30}),
        422,
        "invalid_input",
        "run_frequency_minutes",
    )


def test_turning_the_sync_on_is_not_a_plain_setting(admin: Caller) -> None:
    assert_error(
        admin.patch("/settings", json={"sync_enabled": True}), 422, "unknown_field", "sync_enabled"
    )


def test_staff_may_not_see_or_change_settings(advisor: Caller) -> None:
    assert_error(advisor.get("/settings"), 403, "admin_only")
    assert_error(advisor.patch("/settings", json={"window_past_days": 1}), 403, "admin_only")
