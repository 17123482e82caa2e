"""`/users`: admins manage staff users; bad input is refused by name and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.models import User
from tests.web.conftest import Caller, assert_error

NEW_ADVISOR = {
    "name": "Elliot Brandt",
    "email": "Elliot.Brandt@harborview.example",
    "time_zone": "Europe/London",
    "role": "staff",
}


def test_an_admin_adds_a_user_and_the_api_never_shows_a_password_hash(admin: Caller) -> None:
    response = admin.post("/users", json=NEW_ADVISOR)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "Elliot.Brandt@harborview.example"
    assert created["time_zone"] == "Europe/London"
    assert created["sync_enabled"] is False
    assert "password_hash" not in created
    assert admin.get(f"/users/{created['id']}").json() == created


def test_a_second_user_with_the_same_mailbox_in_other_case_is_a_duplicate(admin: Caller) -> None:
    assert admin.post("/users", json=NEW_ADVISOR).status_code == 201
    again = {**NEW_ADVISOR, "email": " elliot.brandt@HARBORVIEW.example "}
    assert_error(admin.post("/users", json=again), 409, "duplicate", "email")


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"email": "elliot at harborview"}, "invalid_input", "email"),
        ({"time_zone": "Mars/Olympus_Mons"}, "invalid_input", "time_zone"),
        ({"role": "owner"}, "invalid_value", "role"),
        ({"name": "   "}, "invalid_input", "name"),
        ({"name": "x" * 201}, "invalid_value", "name"),
        ({"name": "Elliot\x00Brandt"}, "invalid_value", "name"),
        ({"nickname": "El"}, "unknown_field", "nickname"),
    ],
)
def test_bad_user_input_is_refused_by_field_and_nothing_is_written(
    admin: Caller, api_session: Session, change: dict[str, Any], code: str, field: str
) -> None:
    before = api_session.scalar(select(func.count()).select_from(User))
    status = 422
    assert_error(admin.post("/users", json={**NEW_ADVISOR, **change}), status, code, field)
    assert api_session.scalar(select(func.count()).select_from(User)) == before


@pytest.mark.parametrize("missing", ["name", "email", "time_zone"])
def test_a_missing_required_field_is_named(admin: Caller, missing: str) -> None:
    body = {key: value for key, value in NEW_ADVISOR.items() if key != missing}
    assert_error(admin.post("/users", json=body), 422, "missing_field", missing)


def test_an_admin_changes_only_the_fields_sent(admin: Caller, advisor: Caller) -> None:
    response = admin.patch(f"/users/{advisor.user_id}", json={"time_zone": "Asia/Singapore"})
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == "Asia/Singapore"
    assert response.json()["name"] == "Marcus Reyes"


def test_null_is_refused_for_a_field_that_cannot_be_empty(admin: Caller, advisor: Caller) -> None:
    assert_error(
        admin.patch(f"/users/{advisor.user_id}", json={"name": None}), 422, "invalid_value", "name"
    )


def test_staff_may_look_colleagues_up_but_not_change_them(
    advisor: Caller, colleague: Caller
) -> None:
    assert advisor.get(f"/users/{colleague.user_id}").json()["name"] == "Priya Natarajan"
    assert_error(
        advisor.patch(f"/users/{colleague.user_id}", json={"name": "P."}), 403, "admin_only"
    )


def test_an_unknown_user_is_not_found(admin: Caller) -> None:
    assert_error(admin.get("/users/424242"), 404, "not_found", "user_id")


def test_the_user_list_is_paged_with_a_next_link(
    admin: Caller, advisor: Caller, colleague: Caller
) -> None:
    first = admin.get("/users", params={"limit": 2}).json()
    assert len(first["items"]) == 2
    assert first["next"].startswith("/api/v1/users?")
    second = admin.client.get(first["next"], headers={"Authorization": f"Bearer {admin.token}"})
    assert second.status_code == 200
    rest = second.json()
    assert rest["next"] is None
    names = [user["name"] for user in first["items"] + rest["items"]]
    assert names == ["Dana Whitfield", "Marcus Reyes", "Priya Natarajan"]
