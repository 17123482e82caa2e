"""API tokens: the secret is shown once, each user manages their own, admins anyone's."""

from __future__ import annotations

from tests.web.conftest import Caller, assert_error


def test_a_new_tokens_secret_is_shown_once_and_never_listed(advisor: Caller) -> None:
    issued = advisor.post("/tokens", json={"name": "reporting"})
    assert issued.status_code == 201
    assert issued.json()["token"].startswith("csk_")
    listed = advisor.get("/tokens").json()["items"]
    assert {token["name"] for token in listed} == {"tests", "reporting"}
    assert all("token" not in token and "token_hash" not in token for token in listed)


def test_staff_cannot_issue_a_token_for_someone_else(advisor: Caller, colleague: Caller) -> None:
    response = advisor.post("/tokens", json={"user_id": colleague.user_id})
    assert_error(response, 403, "admin_only", "user_id")


def test_an_admin_issues_a_token_that_works_for_the_other_user(
    admin: Caller, advisor: Caller
) -> None:
    issued = admin.post("/tokens", json={"user_id": advisor.user_id, "name": "set up by IT"})
    assert issued.status_code == 201
    as_advisor = Caller(admin.client, advisor.user_id, issued.json()["token"])
    assert as_advisor.get("/users/me").json()["id"] == advisor.user_id


def test_staff_cannot_revoke_a_colleagues_token(advisor: Caller, colleague: Caller) -> None:
    colleagues_token = colleague.get("/tokens").json()["items"][0]["id"]
    assert_error(advisor.delete(f"/tokens/{colleagues_token}"), 404, "not_found", "token_id")
    assert colleague.get("/users/me").status_code == 200


def test_a_token_for_an_unknown_user_is_not_found(admin: Caller) -> None:
    assert_error(admin.post("/tokens", json={"user_id": 999_999}), 404, "not_found", "user_id")
