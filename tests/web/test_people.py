"""Individuals, Contacts, Contact Point Emails and custom fields through the API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.models import Individual
from tests.web.conftest import Caller, assert_error

OLIVIA = {
    "first_name": "Olivia",
    "last_name": "Hartman",
    "email": "olivia.hartman@mail.example",
    "alternate_email": "ohartman@work.example",
    "phone": "+1 617 555 0142",
}


@pytest.fixture
def spouse_email_field(admin: Caller) -> dict[str, Any]:
    response = admin.post(
        "/custom-fields",
        json={
            "record_type": "individual",
            "key": "spouse_email",
            "label": "Spouse email",
            "field_type": "Email",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_admin_adds_an_individual_with_custom_values_and_an_advisor(
    admin: Caller, advisor: Caller, spouse_email_field: dict[str, Any]
) -> None:
    response = admin.post(
        "/individuals",
        json={
            **OLIVIA,
            "advisor_id": advisor.user_id,
            "custom_fields": {"spouse_email": "daniel.hartman@mail.example"},
        },
    )
    assert response.status_code == 201, response.text
    olivia = response.json()
    assert olivia["display_name"] == "Olivia Hartman"
    assert olivia["advisor_id"] == advisor.user_id
    assert olivia["custom_fields"] == {"spouse_email": "daniel.hartman@mail.example"}
    assert advisor.get(f"/individuals/{olivia['id']}").json() == olivia


def test_a_patch_changes_only_what_was_sent(
    admin: Caller, spouse_email_field: dict[str, Any]
) -> None:
    created = admin.post(
        "/individuals",
        json={**OLIVIA, "custom_fields": {"spouse_email": "daniel.hartman@mail.example"}},
    ).json()
    response = admin.patch(
        f"/individuals/{created['id']}", json={"phone": None, "last_name": "Hartman-Lee"}
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["last_name"], changed["phone"], changed["email"]) == (
        "Hartman-Lee",
        None,
        OLIVIA["email"],
    )
    assert changed["custom_fields"] == {"spouse_email": "daniel.hartman@mail.example"}


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"email": "olivia.hartman.mail.example"}, 422, "invalid_input", "email"),
        ({"alternate_email": "ohartman@"}, 422, "invalid_input", "alternate_email"),
        ({"last_name": ""}, 422, "invalid_value", "last_name"),
        ({"phone": "call me"}, 422, "invalid_input", "phone"),
        ({"advisor_id": 987_654}, 404, "not_found", "advisor_id"),
        ({"custom_fields": {"spouse_email": "not an address"}}, 422, "invalid_input", None),
        ({"favourite_colour": "teal"}, 422, "unknown_field", "favourite_colour"),
    ],
)
def test_bad_individual_input_is_refused_by_field_and_nothing_is_written(
    admin: Caller,
    api_session: Session,
    spouse_email_field: dict[str, Any],
    change: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    error = assert_error(admin.post("/individuals", json={**OLIVIA, **change}), status, code, field)
    if "custom_fields" in change:
        assert error["field"] == "custom_fields.spouse_email"
    assert api_session.scalar(select(func.count()).select_from(Individual)) == 0


def test_a_missing_last_name_is_named(admin: Caller) -> None:
    body = {key: value for key, value in OLIVIA.items() if key != "last_name"}
    assert_error(admin.post("/individuals", json=body), 422, "missing_field", "last_name")


def test_staff_read_people_but_only_admins_change_them(admin: Caller, advisor: Caller) -> None:
    created = admin.post("/contacts", json={**OLIVIA, "organization_name": "Lakeshore CPA"}).json()
    assert advisor.get("/contacts").json()["items"][0]["organization_name"] == "Lakeshore CPA"
    assert_error(
        advisor.patch(f"/contacts/{created['id']}", json={"phone": None}), 403, "admin_only"
    )
    assert_error(advisor.delete(f"/contacts/{created['id']}"), 403, "admin_only")
    assert_error(advisor.post("/contacts", json=OLIVIA), 403, "admin_only")


def test_contact_point_emails_are_added_changed_and_removed(admin: Caller) -> None:
    contact = admin.post("/contacts", json=OLIVIA).json()
    added = admin.post(
        f"/contacts/{contact['id']}/contact-point-emails",
        json={"email": "olivia@lakeshorecpa.example", "label": "work"},
    )
    assert added.status_code == 201, added.text
    point = added.json()
    assert point["contact_id"] == contact["id"]
    changed = admin.patch(f"/contact-point-emails/{point['id']}", json={"label": "billing"})
    assert changed.json()["label"] == "billing"
    assert changed.json()["email"] == "olivia@lakeshorecpa.example"
    listed = admin.get(f"/contacts/{contact['id']}/contact-point-emails").json()["items"]
    assert [item["id"] for item in listed] == [point["id"]]
    assert admin.delete(f"/contact-point-emails/{point['id']}").status_code == 204
    assert_error(admin.get(f"/contact-point-emails/{point['id']}"), 404, "not_found")


def test_a_malformed_contact_point_email_is_refused(admin: Caller) -> None:
    individual = admin.post("/individuals", json=OLIVIA).json()
    response = admin.post(
        f"/individuals/{individual['id']}/contact-point-emails", json={"email": "olivia@@x"}
    )
    assert_error(response, 422, "invalid_input", "email")


def test_custom_fields_are_defined_renamed_retyped_and_deleted(admin: Caller) -> None:
    created = admin.post(
        "/custom-fields",
        json={
            "record_type": "contact",
            "key": "referrals",
            "label": "Referrals",
            "field_type": "Text",
        },
    ).json()
    contact = admin.post("/contacts", json={**OLIVIA, "custom_fields": {"referrals": "12"}}).json()
    retyped = admin.patch(f"/custom-fields/{created['id']}", json={"field_type": "Number"})
    assert retyped.status_code == 200, retyped.text
    assert admin.get(f"/contacts/{contact['id']}").json()["custom_fields"] == {"referrals": "12"}
    values = admin.patch(f"/contacts/{contact['id']}/custom-fields", json={"referrals": 13.5})
    assert values.json() == {"referrals": "13.5"}
    assert admin.delete(f"/custom-fields/{created['id']}").status_code == 204
    assert admin.get(f"/contacts/{contact['id']}").json()["custom_fields"] == {}


def test_a_duplicate_custom_field_key_is_a_conflict(
    admin: Caller, spouse_email_field: dict[str, Any]
) -> None:
    again = {
        "record_type": "individual",
        "key": "spouse_email",
        "label": "Spouse",
        "field_type": "Email",
    }
    assert_error(admin.post("/custom-fields", json=again), 409, "duplicate", "key")


def test_a_custom_field_key_with_capitals_is_refused(admin: Caller) -> None:
    bad = {
        "record_type": "individual",
        "key": "SpouseEmail",
        "label": "Spouse",
        "field_type": "Email",
    }
    assert_error(admin.post("/custom-fields", json=bad), 422, "invalid_input", "key")


def test_a_value_that_does_not_fit_a_new_field_type_blocks_the_change(admin: Caller) -> None:
    field = admin.post(
        "/custom-fields",
        json={
            "record_type": "contact",
            "key": "referrals",
            "label": "Referrals",
            "field_type": "Text",
        },
    ).json()
    admin.post("/contacts", json={**OLIVIA, "custom_fields": {"referrals": "a few"}})
    response = admin.patch(f"/custom-fields/{field['id']}", json={"field_type": "Number"})
    assert_error(response, 422, "invalid_input", "field_type")
    assert admin.get(f"/custom-fields/{field['id']}").json()["field_type"] == "Text"
