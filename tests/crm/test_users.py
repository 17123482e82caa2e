"""Staff users: unique mailboxes whatever the spelling, checked roles and time zones."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.errors import DuplicateError, InvalidInputError, NotFoundError
from calsync.crm.models import Role, User
from calsync.crm.services.users import (
    UserChanges,
    create_user,
    find_user_by_email,
    get_user,
    list_users,
    update_user,
)


def test_a_user_is_created_with_a_trimmed_mailbox_and_their_zone(db_session: Session) -> None:
    user = create_user(
        db_session,
        name=" Maria Keller ",
        email=" Maria.Keller@KellerWealth.com ",
        time_zone="America/New_York",
    )
    db_session.commit()
    stored = get_user(db_session, user.id)
    assert stored.name == "Maria Keller"
    assert stored.email == "Maria.Keller@KellerWealth.com"
    assert stored.role is Role.STAFF
    assert stored.sync_enabled is False
    assert stored.password_hash is None
    assert stored.time_zone == "America/New_York"


def test_two_users_cannot_share_a_mailbox_in_any_spelling(
    db_session: Session, advisor: User
) -> None:
    with pytest.raises(DuplicateError) as refused:
        create_user(
            db_session, name="Impostor", email="  MARIA.keller@kellerwealth.com", time_zone="UTC"
        )
    assert refused.value.field == "email"
    assert refused.value.code == "duplicate"
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(User)) == 1


def test_users_are_found_by_mailbox_in_any_case(db_session: Session, advisor: User) -> None:
    assert find_user_by_email(db_session, " maria.KELLER@kellerwealth.com ") == advisor
    assert find_user_by_email(db_session, "nobody@kellerwealth.com") is None


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"name": "  "}, "name"),
        ({"email": "maria at keller"}, "email"),
        ({"email": ""}, "email"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone"),
        ({"role": "owner"}, "role"),
    ],
)
def test_bad_user_fields_are_refused_naming_the_field(
    db_session: Session, fields: dict[str, str], bad_field: str
) -> None:
    values = {"name": "Ana Silva", "email": "ana@kellerwealth.com", "time_zone": "Europe/Lisbon"}
    values.update(fields)
    with pytest.raises(InvalidInputError) as refused:
        create_user(db_session, **values)  # type: ignore[arg-type]
    assert refused.value.field == bad_field
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


def test_an_update_changes_only_the_fields_given(db_session: Session, advisor: User) -> None:
    update_user(db_session, advisor.id, UserChanges(time_zone="Europe/Berlin", role="staff"))
    db_session.commit()
    stored = get_user(db_session, advisor.id)
    assert (stored.time_zone, stored.role, stored.name) == (
        "Europe/Berlin",
        Role.STAFF,
        "Maria Keller",
    )
    assert stored.email == "Maria.Keller@kellerwealth.com"


def test_an_update_with_a_bad_field_changes_nothing(db_session: Session, advisor: User) -> None:
    with pytest.raises(InvalidInputError) as refused:
        update_user(db_session, advisor.id, UserChanges(name="Maria K.", time_zone="Nowhere"))
    assert refused.value.field == "time_zone"
    db_session.commit()
    db_session.expire_all()
    assert get_user(db_session, advisor.id).name == "Maria Keller"


def test_a_user_may_keep_their_own_mailbox_in_another_spelling(
    db_session: Session, advisor: User, assistant: User
) -> None:
    update_user(db_session, advisor.id, UserChanges(email="maria.keller@KELLERWEALTH.com"))
    with pytest.raises(DuplicateError):
        update_user(db_session, assistant.id, UserChanges(email="maria.keller@kellerwealth.com"))


def test_unknown_users_are_reported_as_not_found(db_session: Session) -> None:
    with pytest.raises(NotFoundError) as missing:
        get_user(db_session, 4242)
    assert missing.value.code == "not_found"
    assert missing.value.field == "user_id"


def test_users_are_listed_by_name(db_session: Session, advisor: User, assistant: User) -> None:
    assert [user.name for user in list_users(db_session)] == ["Maria Keller", "Tom Brandt"]
