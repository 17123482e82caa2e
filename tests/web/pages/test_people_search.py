"""GET /people/search: the event form's *Add a person* box asks it as the user types. On SQLite and
PostgreSQL, whose case rules and string functions differ."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from calsync.crm.models import Contact, Individual, User
from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)
from calsync.crm.services.users import create_user


@pytest.fixture
def pages_database_url(database_url: str) -> str:
    """The search is one SQL query over three tables: run it on both databases."""
    return database_url


@pytest.fixture
def people(db: Session) -> dict[str, Individual | Contact | User]:
    ada = create_individual(
        db, IndividualInput(first_name="Ada", last_name="Lovelace", email="ada@lovelace.example")
    )
    adam = create_individual(
        db, IndividualInput(first_name="Adam", last_name="Smith", email="adam@wealth.example")
    )
    nadia = create_contact(
        db,
        ContactInput(
            first_name="Nadia",
            last_name="Armada",
            email="NADIA@Conservatoire.example",
            organization_name="Conservatoire",
        ),
    )
    no_email = create_contact(db, ContactInput(first_name="", last_name="Percent_Sign"))
    colleague = create_user(
        db, name="Adaeze Okafor", email="adaeze@northwind.example", time_zone="Europe/London"
    )
    db.commit()
    return {"ada": ada, "adam": adam, "nadia": nadia, "no_email": no_email, "adaeze": colleague}


def _tokens(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [person["token"] for person in response.json()["people"]]


def test_signing_in_is_required_and_answered_in_json(client: TestClient) -> None:
    response = client.get("/people/search", params={"q": "ada"})
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "sign_in_required",
            "message": "Sign in to search people.",
            "field": None,
        }
    }


def test_individuals_contacts_and_staff_match_by_name_ignoring_case(
    signed_in: TestClient, people: dict[str, Any]
) -> None:
    response = signed_in.get("/people/search", params={"q": "ADA"})
    body = response.json()
    assert body["more"] is False
    found = {person["token"]: person for person in body["people"]}
    assert set(found) == {
        f"individual:{people['ada'].id}",
        f"individual:{people['adam'].id}",
        f"contact:{people['nadia'].id}",  # ArmADA
        f"user:{people['adaeze'].id}",
    }
    assert found[f"individual:{people['ada'].id}"] == {
        "token": f"individual:{people['ada'].id}",
        "kind": "individual",
        "kind_label": "Individual",
        "id": people["ada"].id,
        "name": "Ada Lovelace",
        "email": "ada@lovelace.example",
    }
    assert found[f"user:{people['adaeze'].id}"]["kind_label"] == "Staff user"
    # Names that start with the text come first; a match inside a name ("Armada") comes last.
    assert body["people"][-1]["token"] == f"contact:{people['nadia'].id}"


def test_an_email_address_matches_ignoring_case_and_every_word_must_match(
    signed_in: TestClient, people: dict[str, Any]
) -> None:
    assert _tokens(signed_in.get("/people/search", params={"q": "conservatoire.EX"})) == [
        f"contact:{people['nadia'].id}"
    ]
    assert _tokens(signed_in.get("/people/search", params={"q": "ada lovelace.example"})) == [
        f"individual:{people['ada'].id}"
    ]
    assert _tokens(signed_in.get("/people/search", params={"q": "ada nobody"})) == []


def test_a_contact_point_email_finds_its_person(
    signed_in: TestClient, people: dict[str, Any], db: Session
) -> None:
    add_contact_point_email(
        db, "individual", people["adam"].id, "a.smith@glasgow.example", "University"
    )
    db.commit()
    assert _tokens(signed_in.get("/people/search", params={"q": "glasgow"})) == [
        f"individual:{people['adam'].id}"
    ]


def test_like_wildcards_typed_are_searched_for_literally(
    signed_in: TestClient, people: dict[str, Any]
) -> None:
    assert _tokens(signed_in.get("/people/search", params={"q": "t_s"})) == [
        f"contact:{people['no_email'].id}"
    ]
    assert _tokens(signed_in.get("/people/search", params={"q": "%"})) == []
    (person,) = signed_in.get("/people/search", params={"q": "percent"}).json()["people"]
    assert (person["name"], person["email"]) == ("Percent_Sign", None)


def test_the_limit_cuts_the_list_and_says_more_matched(
    signed_in: TestClient, people: dict[str, Any]
) -> None:
    body = signed_in.get("/people/search", params={"q": "ada", "limit": "2"}).json()
    assert body["limit"] == 2
    assert len(body["people"]) == 2
    assert body["more"] is True
    assert signed_in.get("/people/search", params={"q": "ada"}).json()["limit"] == 20


@pytest.mark.parametrize("limit", ["0", "51", "ten", "-1", "2.5"])
def test_a_bad_limit_is_refused_by_name(
    signed_in: TestClient, people: dict[str, Any], limit: str
) -> None:
    response = signed_in.get("/people/search", params={"q": "ada", "limit": limit})
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "invalid_limit",
            "message": f"limit must be a whole number from 1 to 50, not '{limit}'",
            "field": "limit",
        }
    }


def test_an_overlong_query_is_refused_by_name(signed_in: TestClient) -> None:
    response = signed_in.get("/people/search", params={"q": "a" * 201})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "q"
    assert response.json()["error"]["code"] == "query_too_long"


def test_an_empty_query_finds_nobody(signed_in: TestClient, people: dict[str, Any]) -> None:
    assert _tokens(signed_in.get("/people/search", params={"q": "   "})) == []


def test_one_query_answers_a_search_whatever_the_number_of_people(
    signed_in: TestClient, db: Session
) -> None:
    for number in range(60):
        create_individual(
            db,
            IndividualInput(
                first_name="Client", last_name=f"{number:03}", email=f"c{number}@firm.example"
            ),
        )
    db.commit()
    engine = signed_in.app.state.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        body = signed_in.get("/people/search", params={"q": "client", "limit": "5"}).json()
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)
    assert [person["name"] for person in body["people"]] == [
        f"Client {number:03}" for number in range(5)
    ]
    searches = [sql for sql in statements if "UNION ALL" in sql]
    assert len(searches) == 1
    assert "LIMIT" in searches[0]
