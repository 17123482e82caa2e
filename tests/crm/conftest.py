"""Realistic records for the CRM tests: a small advisory firm, its advisors and clients."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from calsync.crm.models import Role, User
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.users import create_user

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def advisor(db_session: Session) -> User:
    """Maria Keller, an advisor in New York, whose mailbox is maria.keller@kellerwealth.com."""
    user = create_user(
        db_session,
        name="Maria Keller",
        email="Maria.Keller@kellerwealth.com",
        time_zone="America/New_York",
        role=Role.ADMIN,
        sync_enabled=True,
    )
    db_session.commit()
    return user


@pytest.fixture
def assistant(db_session: Session) -> User:
    """Tom Brandt, Maria's assistant, in London."""
    user = create_user(
        db_session,
        name="Tom Brandt",
        email="tom.brandt@kellerwealth.com",
        time_zone="Europe/London",
    )
    db_session.commit()
    return user


def meeting(owner: User, **overrides: object) -> EventInput:
    """A one-hour review meeting on 10 March 2026 at 10:00 New York time, changed by `overrides`."""
    values: dict[str, object] = {
        "owner_id": owner.id,
        "subject": "Annual portfolio review",
        "start": datetime(2026, 3, 10, 10, 0),
        "end": datetime(2026, 3, 10, 11, 0),
        "time_zone": "America/New_York",
        "location": "Keller Wealth, 5th Avenue",
    }
    values.update(overrides)
    return EventInput(**values)  # type: ignore[arg-type]


def bare(email: str) -> AttendeeInput:
    """An attendee given only by address."""
    return AttendeeInput(email=email)
