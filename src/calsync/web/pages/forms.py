"""Reading what a person submitted: the CSRF check every write starts with, and typed values.

HTML forms send strings. These helpers turn them into the types the CRM's services take and, when a
value cannot be read at all (a date that is not a date), raise `FieldError` naming the field, so the
page can show the message next to it. Whether a readable value is *allowed* (end after start, a
valid email, …) is for the services to decide; their `CrmError` names the field the same way.
"""

from __future__ import annotations

from datetime import date, datetime, time

from starlette.datastructures import FormData
from starlette.requests import Request

from calsync.web.pages.rendering import browser_sessions
from calsync.web.sessions import CSRF_FORM_FIELD, CSRF_HEADER


def field_message(label: str, message: str) -> str:
    """A message that names its field: "Alternate email: 'x' is not a valid email address"."""
    if message.lower().startswith(label.lower()):
        return message[:1].upper() + message[1:]
    return f"{label}: {message}"


class FieldError(Exception):
    """A submitted value that cannot be read as the type its field needs; nothing was written."""

    code = "unreadable_value"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


async def read_form(request: Request) -> FormData:
    """The submitted form, after checking its CSRF token (raises `CsrfError` when it fails)."""
    form = await request.form()
    submitted = form.get(CSRF_FORM_FIELD)
    browser_sessions(request).check_csrf(request, submitted if isinstance(submitted, str) else None)
    return form


def check_csrf_header(request: Request) -> None:
    """The CSRF check for script requests (drag and drop), which send the token in a header."""
    browser_sessions(request).check_csrf(request, request.headers.get(CSRF_HEADER))


def text(form: FormData, name: str) -> str:
    """A text field, trimmed; a missing field reads as empty."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional_text(form: FormData, name: str) -> str | None:
    """A text field where empty means "no value"."""
    return text(form, name) or None


def checkbox(form: FormData, name: str) -> bool:
    """An HTML checkbox is sent only when ticked."""
    return name in form


def texts(form: FormData, name: str) -> list[str]:
    """Every non-empty value of a repeated field, in the order the page sent them."""
    return [
        value.strip() for value in form.getlist(name) if isinstance(value, str) and value.strip()
    ]


def date_value(form: FormData, name: str, label: str) -> date:
    """A `<input type=date>` value (YYYY-MM-DD)."""
    raw = text(form, name)
    if not raw:
        raise FieldError(name, f"{label} is required")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, f"{label} must be a date like 2027-03-15") from None


def time_value(form: FormData, name: str, label: str) -> time:
    """A `<input type=time>` value (HH:MM)."""
    raw = text(form, name)
    if not raw:
        raise FieldError(name, f"{label} is required")
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, f"{label} must be a time like 09:30") from None


def integer(form: FormData, name: str, label: str) -> int:
    """A whole number."""
    raw = text(form, name)
    try:
        return int(raw)
    except ValueError:
        raise FieldError(name, f"{label} must be a whole number") from None


def parse_iso_instant(raw: str, field: str, label: str) -> datetime:
    """An ISO 8601 instant with an offset, as FullCalendar sends after a drag."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(field, f"{label} must be an ISO 8601 date and time") from None
    if value.tzinfo is None:
        raise FieldError(field, f"{label} must include its UTC offset")
    return value
