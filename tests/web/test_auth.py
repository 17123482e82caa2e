"""Bearer tokens name the caller; roles decide what they may do."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.models import User
from tests.web.conftest import API, Caller, TestClient, assert_error


def test_a_request_without_a_token_is_challenged_for_a_bearer_token(api: TestClient) -> None:
    response = api.get(f"{API}/users/me")
    assert_error(response, 401, "unauthenticated", "Authorization")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_request_with_another_authorization_scheme_is_challenged(api: TestClient) -> None:
    response = api.get(f"{API}/users/me", headers={"Authorization": "Basic ZGFuYTpzZWNyZXQ="})
    assert_error(response, 401, "unauthenticated")


def test_an_unknown_token_is_refused_as_invalid_token(api: TestClient, admin: Caller) -> None:
    response = api.get(f"{API}/users/me", headers={"Authorization": "Bearer csk_not-a-real-token"})
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_names_its_user(admin: Caller, advisor: Caller) -> None:
    me = advisor.get("/users/me")
    assert me.status_code == 200
    assert me.json()["email"] == "marcus@harborview.example"
    assert me.json()["role"] == "staff"


def test_staff_may_not_create_users_and_nothing_is_written(
    advisor: Caller, api_session: Session
) -> None:
    before = api_session.scalar(select(func.count()).select_from(User))
    response = advisor.post(
        "/users",
        json={"name": "Eve Mallory", "email": "eve@harborview.example", "time_zone": "UTC"},
    )
    assert_error(response, 403, "admin_only")
    assert api_session.scalar(select(func.count()).select_from(User)) == before


def test_a_revoked_token_is_refused_from_then_on(advisor: Caller) -> None:
    issued = advisor.post("/tokens", json={"name": "laptop"})
    assert issued.status_code == 201
    laptop = Caller(advisor.client, advisor.user_id, issued.json()["token"])
    assert laptop.get("/users/me").status_code == 200
    assert advisor.delete(f"/tokens/{issued.json()['id']}").status_code == 204
    assert_error(laptop.get("/users/me"), 401, "invalid_token")
