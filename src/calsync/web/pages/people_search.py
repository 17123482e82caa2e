"""The event form's person search: `GET /people/search?q=…&limit=…` answers the *Add a person*
box as the user types, with the Individuals, Contacts and staff users whose name or email address
contains every word typed.

The firm may have thousands of people, so the page no longer lists them all: this route asks the
database for the few that match (one `UNION ALL` query ordered and limited in SQL, nothing loaded
beyond what is shown) and the picker script (`static/js/person-picker.js`) shows them. A pick
becomes the same `attendee` field value the form always sent (`individual:12`, `contact:3`,
`user:7`), so saving the event is unchanged.

Only signed-in users may search (the answer names people and their addresses); a browser without a
valid session gets 401 in the API's error shape rather than the sign-in page, since a script asked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import ColumnElement, Select, case, exists, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from calsync.crm.models import Contact, Individual, User
from calsync.crm.models.email_index import EmailIndexEntry
from calsync.web.database import DbSession
from calsync.web.errors import error_response
from calsync.web.pages.signed_in import SignInRequired, signed_in_user

router = APIRouter()

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_QUERY_LENGTH = 200

KIND_LABELS = {"individual": "Individual", "contact": "Contact", "user": "Staff user"}


class PeopleSearchError(Exception):
    """A search request the route cannot answer: which parameter, what is wrong, and a code."""

    def __init__(self, code: str, field: str | None, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PersonMatch:
    """One person the search found, as the picker shows and submits them."""

    token: str
    kind: str
    kind_label: str
    id: int
    name: str
    email: str | None


def search_limit(raw: str | None) -> int:
    """The `limit` parameter: a whole number from 1 to `MAX_LIMIT`, `DEFAULT_LIMIT` when absent."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = raw.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise PeopleSearchError(
            "invalid_limit",
            "limit",
            f"limit must be a whole number from 1 to {MAX_LIMIT}, not '{raw[:20]}'",
        )
    return int(value)


def search_words(raw: str) -> list[str]:
    """The words of `q`, lower-cased; every one of them must be found in a person's name or an
    address for the person to match."""
    if len(raw) > MAX_QUERY_LENGTH:
        raise PeopleSearchError(
            "query_too_long", "q", f"q must be at most {MAX_QUERY_LENGTH} characters"
        )
    return raw.lower().split()


def _contains(
    expression: ColumnElement[str] | InstrumentedAttribute[str], word: str
) -> ColumnElement[bool]:
    # autoescape: a typed % or _ is a character to find, not a LIKE wildcard.
    return expression.contains(word, autoescape=True)


def _starts(expression: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    return expression.startswith(prefix, autoescape=True)


def _person_query(
    model: type[Individual] | type[Contact], kind: str, words: list[str]
) -> Select[Any]:
    """Individuals or Contacts whose name or any of their addresses (email, alternate email, email
    custom fields, Contact Point Emails: the attendee matching index) contain every word."""
    name = func.trim(model.first_name + " " + model.last_name)
    lowered = func.lower(name)
    owner = EmailIndexEntry.individual_id if model is Individual else EmailIndexEntry.contact_id
    conditions = [
        _contains(lowered, word)
        | exists().where(owner == model.id, _contains(EmailIndexEntry.email_normalized, word))
        for word in words
    ]
    prefix = " ".join(words)
    starts_a_name = (
        _starts(lowered, prefix)
        | _starts(func.lower(model.last_name), prefix)
        | _starts(func.lower(model.first_name), prefix)
    )
    return select(
        literal(kind).label("kind"),
        model.id.label("id"),
        name.label("name"),
        func.coalesce(model.email, model.alternate_email).label("email"),
        case((starts_a_name, 0), else_=1).label("rank"),
        lowered.label("sort_name"),
    ).where(*conditions)


def _user_query(words: list[str]) -> Select[Any]:
    lowered = func.lower(User.name)
    conditions = [
        _contains(lowered, word) | _contains(User.email_normalized, word) for word in words
    ]
    return select(
        literal("user").label("kind"),
        User.id.label("id"),
        User.name.label("name"),
        User.email.label("email"),
        case((_starts(lowered, " ".join(words)), 0), else_=1).label("rank"),
        lowered.label("sort_name"),
    ).where(*conditions)


def search_people(session: Session, words: list[str], limit: int) -> tuple[list[PersonMatch], bool]:
    """Up to `limit` people matching every word, names starting with the text first, then by name;
    and whether more matched than were returned."""
    if not words:
        return [], False
    union = union_all(
        _person_query(Individual, "individual", words),
        _person_query(Contact, "contact", words),
        _user_query(words),
    ).subquery()
    rows = session.execute(
        select(union.c.kind, union.c.id, union.c.name, union.c.email)
        .order_by(union.c.rank, union.c.sort_name, union.c.kind, union.c.id)
        .limit(limit + 1)
    ).all()
    matches = [
        PersonMatch(
            token=f"{kind}:{record_id}",
            kind=kind,
            kind_label=KIND_LABELS[kind],
            id=record_id,
            name=name or email or KIND_LABELS[kind],
            email=email,
        )
        for kind, record_id, name, email in rows[:limit]
    ]
    return matches, len(rows) > limit


@router.get("/people/search")
def people_search(
    request: Request, db: DbSession, q: str = "", limit: str | None = None
) -> Response:
    """JSON for the *Add a person* box: `{"query", "limit", "people": [...], "more"}`."""
    try:
        signed_in_user(request, db)
    except SignInRequired:
        return error_response(401, "sign_in_required", "Sign in to search people.")
    try:
        count = search_limit(limit)
        words = search_words(q)
    except PeopleSearchError as refused:
        return error_response(refused.status, refused.code, refused.message, refused.field)
    people, more = search_people(db, words, count)
    return JSONResponse(
        {"query": q, "limit": count, "people": [asdict(p) for p in people], "more": more},
        headers={"Cache-Control": "no-store"},
    )
