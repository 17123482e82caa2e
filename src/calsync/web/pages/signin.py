"""Signing in and out of the web app with an email address and password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from calsync.web.database import DbSession
from calsync.web.pages.forms import read_form, text
from calsync.web.pages.rendering import browser_sessions, render
from calsync.web.pages.signed_in import safe_next_path
from calsync.web.pages.signin_throttle import SignInThrottle
from calsync.web.passwords import (
    decoy_hash,
    needs_rehash,
    rehash_password,
    user_with_email,
    verify_password,
)

router = APIRouter()


def signin_throttle(request: Request) -> SignInThrottle:
    """The app's failure counts, attached by `install_pages`."""
    throttle: SignInThrottle = request.app.state.signin_throttle
    return throttle


WRONG_CREDENTIALS = "The email or password is not right. Check both and try again."


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str | None = None) -> Response:
    return render(
        request, "signin.html", {"email": "", "errors": {}, "next_path": safe_next_path(next)}
    )


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, db: DbSession) -> Response:
    form = await read_form(request)
    email, password = text(form, "email"), form.get("password")
    password = password if isinstance(password, str) else ""
    next_path = safe_next_path(text(form, "next"))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email address."
    if not password:
        errors["password"] = "Enter your password."
    throttle = signin_throttle(request)
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(email, address) if not errors else None
    if wait is not None:
        minutes = -(-wait // 60)
        errors["_form"] = (
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )
        context = {"email": email, "errors": errors, "next_path": next_path}
        refusal = render(request, "signin.html", context, status_code=429)
        refusal.headers["Retry-After"] = str(wait)
        return refusal
    user = user_with_email(db, email) if not errors else None
    if not errors:
        stored = user.password_hash if user is not None else None
        if not verify_password(stored or decoy_hash(), password) or user is None or not stored:
            errors["password"] = WRONG_CREDENTIALS
            throttle.record_failure(email, address)
    if errors or user is None or user.password_hash is None:
        context = {"email": email, "errors": errors, "next_path": next_path}
        return render(request, "signin.html", context, status_code=401 if email else 422)
    throttle.record_success(email, address)
    if needs_rehash(user.password_hash):
        user.password_hash = rehash_password(password)
        db.commit()
    response = RedirectResponse(next_path, status_code=303)
    browser_sessions(request).start(
        request, response, user_id=user.id, password_hash=user.password_hash
    )
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    await read_form(request)
    response = RedirectResponse("/signin?notice=signed-out", status_code=303)
    browser_sessions(request).end(response)
    return response
