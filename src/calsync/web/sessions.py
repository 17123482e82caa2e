"""Who is signed in to the web app, and proof that a form was sent by our own page.

The API keeps its bearer tokens; people in a browser get a session cookie instead. The cookie holds
only the user's id and a fingerprint of their password hash, signed with the server's secret key
(itsdangerous), so it cannot be forged and changing a password ends every session made with the old
one. It is HttpOnly, SameSite=Lax, and Secure whenever the page was served over HTTPS.

Forms are protected against cross-site request forgery with a signed double-submit token: a random
token lives in its own cookie, every form carries a copy in a hidden field (scripts send it in the
`X-CSRF-Token` header), and a write is accepted only when both are present, validly signed and
equal.
A site that cannot read our cookies cannot produce the matching field.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

SECRET_KEY_ENV = "CALSYNC_SECRET_KEY"
SECRET_KEY_FILE = "web-secret-key"

SESSION_COOKIE = "calsync_session"
CSRF_COOKIE = "calsync_csrf"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

SESSION_MAX_AGE_SECONDS = 12 * 60 * 60
"""A working day and then some: staff sign in again the next morning."""

CSRF_MAX_AGE_SECONDS = 24 * 60 * 60


class WebSessionError(Exception):
    """A browser request the web app refused before reaching any service; nothing was written."""

    code = "web_session_error"
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfError(WebSessionError):
    """The form's anti-forgery token is missing, expired or does not match the cookie."""

    code = "csrf_failed"
    status_code = 403


def load_secret_key(data_dir: Path) -> str:
    """The key that signs session and CSRF cookies.

    `CALSYNC_SECRET_KEY` wins when set, so several server processes can share one key. Otherwise a
    key is generated once and kept (readable by the owner only) in the data directory, so sessions
    survive a restart of `calsync serve` without anyone having to configure anything.
    """
    from_env = os.environ.get(SECRET_KEY_ENV, "").strip()
    if from_env:
        return from_env
    key_file = data_dir / SECRET_KEY_FILE
    if key_file.exists():
        stored = key_file.read_text(encoding="utf-8").strip()
        if stored:
            return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def password_fingerprint(password_hash: str | None) -> str:
    """A short digest of the stored hash: a session made before a password change stops matching."""
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SessionClaim:
    """What a valid session cookie says: the user and the password they signed in with."""

    user_id: int
    password_fingerprint: str


class BrowserSessions:
    """Issues, reads and clears the session and CSRF cookies of one app."""

    def __init__(self, secret_key: str) -> None:
        self._sessions = URLSafeTimedSerializer(secret_key, salt="calsync.web.session")
        self._csrf = URLSafeTimedSerializer(secret_key, salt="calsync.web.csrf")

    # Session --------------------------------------------------------------------------------------

    def start(
        self, request: Request, response: Response, *, user_id: int, password_hash: str
    ) -> None:
        """Sign the user in on this browser with a fresh CSRF token (none outlives a sign-in)."""
        claim = {"uid": user_id, "pwd": password_fingerprint(password_hash)}
        response.set_cookie(
            SESSION_COOKIE,
            self._sessions.dumps(claim),
            max_age=SESSION_MAX_AGE_SECONDS,
            httponly=True,
            samesite="lax",
            secure=_is_https(request),
            path="/",
        )
        self.set_csrf_cookie(request, response, self.new_csrf_token())

    def read(self, request: Request) -> SessionClaim | None:
        """The claim of a valid, unexpired session cookie, or None."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._sessions.loads(raw, max_age=SESSION_MAX_AGE_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user_id, fingerprint = data.get("uid"), data.get("pwd")
        if not isinstance(user_id, int) or not isinstance(fingerprint, str):
            return None
        return SessionClaim(user_id=user_id, password_fingerprint=fingerprint)

    def end(self, response: Response) -> None:
        """Sign out: both cookies go."""
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")

    # CSRF -----------------------------------------------------------------------------------------

    @staticmethod
    def new_csrf_token() -> str:
        return secrets.token_urlsafe(32)

    def csrf_token_for(self, request: Request) -> tuple[str, bool]:
        """The token to put in this page's forms, and whether the cookie must be (re)issued."""
        current = self._unsign_csrf(request.cookies.get(CSRF_COOKIE))
        if current is not None:
            return current, False
        return self.new_csrf_token(), True

    def set_csrf_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            self._csrf.dumps(token),
            max_age=CSRF_MAX_AGE_SECONDS,
            httponly=True,
            samesite="strict",
            secure=_is_https(request),
            path="/",
        )

    def check_csrf(self, request: Request, submitted: str | None) -> None:
        """Refuse the write unless the submitted token equals the one in the signed cookie."""
        expected = self._unsign_csrf(request.cookies.get(CSRF_COOKIE))
        if expected is None or not submitted or not hmac.compare_digest(expected, submitted):
            raise CsrfError(
                "This form has expired or did not come from CalSync. Reload the page and try again."
            )

    def _unsign_csrf(self, raw: str | None) -> str | None:
        if not raw:
            return None
        try:
            token = self._csrf.loads(raw, max_age=CSRF_MAX_AGE_SECONDS)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"
