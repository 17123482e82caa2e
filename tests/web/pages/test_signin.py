"""Signing in and out of the web app, and the protections around it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from calsync.crm.models import User
from calsync.web.passwords import hash_password
from calsync.web.sessions import CSRF_COOKIE, SESSION_COOKIE
from tests.web.pages.conftest import STAFF_PASSWORD, csrf_token, sign_in


def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(
    client: TestClient,
) -> None:
    response = client.get("/calendar?view=month")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/calendar%3Fview%3Dmonth"


def test_the_right_password_signs_in_with_an_http_only_session_cookie(
    client: TestClient, staff_user: User
) -> None:
    page = client.get("/signin?next=/people")
    response = client.post(
        "/signin",
        data={
            "email": "  GRACE.hopper@northwind.example ",
            "password": STAFF_PASSWORD,
            "next": "/people",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/people"
    session_cookie = next(
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie


def test_a_wrong_password_is_refused_with_the_error_next_to_the_password(
    client: TestClient, staff_user: User
) -> None:
    page = client.get("/signin")
    response = client.post(
        "/signin",
        data={
            "email": staff_user.email,
            "password": "not the password",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 401
    assert SESSION_COOKIE not in response.cookies
    assert 'id="error-password"' in response.text
    assert "The email or password is not right" in response.text
    assert client.get("/calendar").status_code == 303


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, staff_user: User
) -> None:
    page = client.get("/signin")
    response = client.post(
        "/signin",
        data={
            "email": "nobody@northwind.example",
            "password": STAFF_PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 401
    assert "The email or password is not right" in response.text


def test_empty_fields_are_named_in_the_errors(client: TestClient) -> None:
    page = client.get("/signin")
    response = client.post(
        "/signin", data={"email": "", "password": "", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 422
    assert "Enter your email address." in response.text
    assert "Enter your password." in response.text


def test_a_sign_in_form_without_the_csrf_token_is_refused(
    client: TestClient, staff_user: User
) -> None:
    client.get("/signin")
    response = client.post("/signin", data={"email": staff_user.email, "password": STAFF_PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def test_a_csrf_token_from_another_browser_is_refused(client: TestClient, staff_user: User) -> None:
    their_token = csrf_token(client.get("/signin").text)
    client.cookies.delete(CSRF_COOKIE)
    client.get("/signin")  # this browser gets its own token
    response = client.post(
        "/signin",
        data={"email": staff_user.email, "password": STAFF_PASSWORD, "csrf_token": their_token},
    )
    assert response.status_code == 403


def test_sign_in_only_follows_local_paths_afterwards(client: TestClient, staff_user: User) -> None:
    page = client.get("/signin")
    response = client.post(
        "/signin",
        data={
            "email": staff_user.email,
            "password": STAFF_PASSWORD,
            "next": "//evil.example/phish",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.headers["location"] == "/calendar"


def test_signing_out_ends_the_session(client: TestClient, staff_user: User) -> None:
    sign_in(client, staff_user.email, STAFF_PASSWORD)
    page = client.get("/signin")
    response = client.post("/signout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/calendar").status_code == 303


def test_changing_the_password_ends_sessions_made_with_the_old_one(
    client: TestClient, staff_user: User, db: Session
) -> None:
    sign_in(client, staff_user.email, STAFF_PASSWORD)
    assert client.get("/calendar").status_code == 200
    stored = db.get(User, staff_user.id)
    assert stored is not None
    stored.password_hash = hash_password("a brand new passphrase")
    db.commit()
    assert client.get("/calendar").status_code == 303


def test_a_forged_session_cookie_is_not_accepted(client: TestClient, staff_user: User) -> None:
    client.cookies.set(SESSION_COOKIE, '{"uid": 1, "pwd": "x"}.forged.signature')
    assert client.get("/calendar").status_code == 303


def test_pages_forbid_framing_and_scripts_from_elsewhere(client: TestClient) -> None:
    page = client.get("/signin")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def _try(client: TestClient, email: str, password: str) -> Response:
    page = client.get("/signin")
    return client.post(
        "/signin", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)}
    )


def test_after_five_wrong_passwords_even_the_right_one_waits(
    client: TestClient, staff_user: User
) -> None:
    now = [1000.0]
    client.app.state.signin_throttle.clock = lambda: now[0]  # type: ignore[attr-defined]
    for _ in range(5):
        assert _try(client, staff_user.email, "guess guess guess").status_code == 401
    refused = _try(client, staff_user.email, STAFF_PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in refused.text
    assert refused.headers["retry-after"] == "900"
    assert SESSION_COOKIE not in refused.cookies
    now[0] += 15 * 60
    assert _try(client, staff_user.email, STAFF_PASSWORD).status_code == 303


def test_a_right_password_forgives_earlier_mistakes(client: TestClient, staff_user: User) -> None:
    for _ in range(4):
        _try(client, staff_user.email, "guess guess guess")
    assert _try(client, staff_user.email, STAFF_PASSWORD).status_code == 303
    for _ in range(4):
        assert _try(client, staff_user.email, "guess guess guess").status_code == 401
    assert _try(client, staff_user.email, STAFF_PASSWORD).status_code == 303
