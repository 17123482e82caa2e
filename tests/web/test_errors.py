"""Whatever goes wrong, the answer is a 4xx with `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from tests.web.conftest import API, Caller, TestClient, assert_error


def test_an_unknown_path_is_a_json_not_found(api: TestClient) -> None:
    assert_error(api.get(f"{API}/meetings"), 404, "not_found")


def test_a_wrong_method_is_a_json_method_not_allowed(admin: Caller) -> None:
    assert_error(admin.put("/users/me", json={}), 405, "method_not_allowed")


def test_a_body_that_is_not_json_is_a_bad_request(admin: Caller) -> None:
    response = admin.post(
        "/users", content=b'{"name": "Ann", ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")


def test_a_misspelt_query_parameter_is_refused_instead_of_ignored(admin: Caller) -> None:
    error = assert_error(admin.get("/users", params={"limt": 2}), 400, "unknown_parameter", "limt")
    assert "limit" in error["message"]


def test_a_forged_cursor_is_refused(admin: Caller) -> None:
    assert_error(
        admin.get("/users", params={"cursor": "b2Zmc2V0"}), 400, "invalid_cursor", "cursor"
    )


def test_an_out_of_range_page_size_names_the_parameter(admin: Caller) -> None:
    assert_error(admin.get("/users", params={"limit": 0}), 422, "invalid_value", "limit")
    assert_error(admin.get("/users", params={"limit": "ten"}), 422, "invalid_value", "limit")


def test_an_id_too_large_for_any_record_is_refused_before_the_database(admin: Caller) -> None:
    assert_error(admin.get(f"/users/{2**63}"), 422, "invalid_value", "user_id")


def test_even_an_internal_error_answers_in_the_error_shape(api_app: FastAPI) -> None:
    """Bugs still happen; a client then gets JSON it can parse, and the error is logged."""

    def broken_endpoint() -> None:
        raise RuntimeError("a bug in an endpoint")

    api_app.add_api_route(f"{API}/broken", broken_endpoint)
    with TestClient(api_app, raise_server_exceptions=False) as client:
        response = client.get(f"{API}/broken")
    assert_error(response, 500, "internal_error")


def test_outside_the_api_an_unknown_path_keeps_the_default_answer(api: TestClient) -> None:
    response = api.get("/no-such-page")
    assert response.status_code == 404
    assert "error" not in response.text


def test_a_constraint_that_fails_at_commit_is_a_conflict_to_retry(api_app: FastAPI) -> None:
    """The services check before they write; a unique index that still fires means a concurrent
    request won the race, so the client is told to retry rather than shown a server error."""

    def lost_a_race() -> None:
        raise IntegrityError("INSERT INTO users …", {}, Exception("duplicate key value"))

    api_app.add_api_route(f"{API}/race", lost_a_race, methods=["POST"])
    with TestClient(api_app, raise_server_exceptions=False) as client:
        assert_error(client.post(f"{API}/race"), 409, "concurrent_change")
