"""API tokens: the secret is shown once, only its hash is kept, and it resolves to its user."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidTokenError, NotFoundError
from calsync.crm.models import ApiToken, User
from calsync.crm.models.base import utc_now
from calsync.crm.services.api_tokens import (
    LAST_USE_PRECISION,
    create_api_token,
    list_api_tokens,
    resolve_api_token,
    revoke_api_token,
)


def test_a_token_resolves_to_its_user_and_records_its_use(
    db_session: Session, advisor: User
) -> None:
    issued = create_api_token(db_session, advisor.id, "Reporting script")
    db_session.commit()
    assert issued.token.last_used_at is None
    assert resolve_api_token(db_session, issued.secret) == advisor
    assert resolve_api_token(db_session, f"Bearer {issued.secret}") == advisor
    db_session.commit()
    assert list_api_tokens(db_session, advisor.id)[0].last_used_at is not None


def test_a_token_used_again_within_a_minute_writes_nothing(
    db_session: Session, advisor: User
) -> None:
    issued = create_api_token(db_session, advisor.id)
    db_session.commit()
    resolve_api_token(db_session, issued.secret)
    db_session.commit()
    first_use = list_api_tokens(db_session, advisor.id)[0].last_used_at
    resolve_api_token(db_session, issued.secret)
    assert not db_session.dirty
    assert not db_session.new
    assert list_api_tokens(db_session, advisor.id)[0].last_used_at == first_use


def test_a_token_used_after_a_minute_records_the_new_use(
    db_session: Session, advisor: User
) -> None:
    issued = create_api_token(db_session, advisor.id)
    issued.token.last_used_at = utc_now() - LAST_USE_PRECISION
    db_session.commit()
    resolve_api_token(db_session, issued.secret)
    db_session.commit()
    last_used_at = list_api_tokens(db_session, advisor.id)[0].last_used_at
    assert last_used_at is not None
    assert utc_now() - last_used_at < LAST_USE_PRECISION


def test_only_the_sha256_of_the_secret_is_stored(db_session: Session, advisor: User) -> None:
    issued = create_api_token(db_session, advisor.id)
    db_session.commit()
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    assert stored == [hashlib.sha256(issued.secret.encode()).hexdigest()]
    assert issued.secret not in stored


def test_each_token_has_its_own_secret(db_session: Session, advisor: User) -> None:
    secrets = {create_api_token(db_session, advisor.id).secret for _ in range(3)}
    assert len(secrets) == 3
    assert all(len(secret) >= 40 for secret in secrets)


@pytest.mark.parametrize("presented", ["", "   ", "Bearer ", "csk_not-a-real-token"])
def test_unknown_or_empty_tokens_are_refused(
    db_session: Session, advisor: User, presented: str
) -> None:
    create_api_token(db_session, advisor.id)
    with pytest.raises(InvalidTokenError) as refused:
        resolve_api_token(db_session, presented)
    assert refused.value.code == "invalid_token"


def test_a_revoked_token_no_longer_resolves(db_session: Session, advisor: User) -> None:
    issued = create_api_token(db_session, advisor.id)
    revoke_api_token(db_session, issued.token.id)
    db_session.commit()
    with pytest.raises(InvalidTokenError):
        resolve_api_token(db_session, issued.secret)


def test_tokens_are_issued_only_to_existing_users(db_session: Session) -> None:
    with pytest.raises(NotFoundError) as missing:
        create_api_token(db_session, 77)
    assert missing.value.field == "user_id"
