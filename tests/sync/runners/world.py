"""A CRM database, the TLS emulator and a `SyncEngine` between them, with helpers that act like
people: a staff member saving events in the CRM, and the same people using Outlook (a second Graph
client on the emulator, standing in for Outlook)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import Event
from calsync.crm.services.event_input import AttendeeInput, EventInput, event_input_of
from calsync.crm.services.events import create_event, delete_event, update_event
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user
from calsync.graph.client import GraphClient
from calsync.graph.drafts import DraftAttendee, EventDraft
from calsync.graph.models import Event as GraphModelEvent
from calsync.graph.models import (
    ItemBody,
    PatternedRecurrence,
    RecurrencePattern,
    RecurrenceRange,
)
from calsync.sync.engine import SyncEngine
from calsync.sync.runners.common import Checkpoint, no_checkpoint
from calsync.sync.storage.models import SyncLinkRecord, SyncLogEntry
from tests.fixtures.emulator import ADELE, KIOSK, LEE, MEGAN

MAILBOXES = (ADELE, MEGAN, LEE, KIOSK)
NEW_YORK = ZoneInfo("America/New_York")


def soon(days: int, hour: int = 10) -> datetime:
    """A whole hour `days` from today (UTC), inside the default window."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days, hours=hour)


def daily(start: datetime, count: int) -> PatternedRecurrence:
    """Every day, `count` times, from `start`'s date in New York (where the test staff work)."""
    return PatternedRecurrence(
        pattern=RecurrencePattern(type="daily", interval=1),
        range=RecurrenceRange(
            type="numbered",
            start_date=start.astimezone(NEW_YORK).date(),
            number_of_occurrences=count,
        ),
    )


def weekly(start: datetime, count: int) -> PatternedRecurrence:
    """Every week on `start`'s weekday in New York, `count` times."""
    local = start.astimezone(NEW_YORK)
    return PatternedRecurrence(
        pattern=RecurrencePattern(
            type="weekly",
            interval=1,
            days_of_week=[local.strftime("%A").lower()],
            first_day_of_week="sunday",
        ),
        range=RecurrenceRange(
            type="numbered", start_date=local.date(), number_of_occurrences=count
        ),
    )


class World:
    """Both sides and the engine; every helper commits like a person's save."""

    def __init__(self, database_url: str, graph: GraphClient, outlook: GraphClient) -> None:
        self.engine_db = create_database_engine(database_url)
        self.sessions: sessionmaker[Session] = create_session_factory(self.engine_db)
        self.graph = graph
        self.outlook = outlook
        self.users: dict[str, int] = {}
        self.checkpoint: Checkpoint = no_checkpoint
        with self.sessions() as session:
            update_sync_settings(session, SyncSettingsChanges(sync_enabled=True))
            for address, zone in zip(
                MAILBOXES,
                ("America/New_York", "Europe/London", "Europe/Berlin", "America/Chicago"),
                strict=True,
            ):
                user = create_user(
                    session,
                    name=address.split("@")[0].replace(".", " ").title(),
                    email=address,
                    time_zone=zone,
                    sync_enabled=True,
                )
                self.users[address] = user.id
            session.commit()
        self.sync = SyncEngine(self.sessions, graph, checkpoint=self._checkpoint)

    def _checkpoint(self, point: str) -> None:
        self.checkpoint(point)

    def close(self) -> None:
        self.engine_db.dispose()

    # ----- the CRM side

    def individual(self, last_name: str, email: str | None, **extra: Any) -> int:
        with self.sessions() as session:
            person = create_individual(
                session,
                IndividualInput(first_name="Chris", last_name=last_name, email=email, **extra),
            )
            session.commit()
            return person.id

    def crm_create(
        self,
        owner: str,
        subject: str,
        start: datetime | date,
        *,
        hours: int = 1,
        attendees: tuple[AttendeeInput, ...] = (),
        **fields: Any,
    ) -> int:
        end: datetime | date
        if isinstance(start, datetime):
            end = start + timedelta(hours=hours)
        else:
            end = start + timedelta(days=1)
        with self.sessions() as session:
            event = create_event(
                session,
                EventInput(
                    owner_id=self.users[owner],
                    subject=subject,
                    start=start,
                    end=end,
                    attendees=attendees,
                    **fields,
                ),
            )
            session.commit()
            return event.id

    def crm_update(self, event_id: int, **changes: Any) -> None:
        with self.sessions() as session:
            event = session.get(Event, event_id)
            assert event is not None
            update_event(
                session, event_id, event.version, replace(event_input_of(event), **changes)
            )
            session.commit()

    def crm_delete(self, event_id: int) -> None:
        with self.sessions() as session:
            delete_event(session, event_id)
            session.commit()

    def crm_event(self, event_id: int) -> Event | None:
        with self.sessions() as session:
            event = session.get(Event, event_id)
            if event is not None:
                _ = list(event.attendees)
            return event

    def crm_events(self, owner: str) -> list[Event]:
        """The owner's own events (no attendee copies), attendees loaded."""
        with self.sessions() as session:
            events = session.scalars(
                select(Event)
                .where(Event.owner_id == self.users[owner], Event.copy_of_event_id.is_(None))
                .order_by(Event.id)
            ).all()
            for event in events:
                _ = list(event.attendees)
            return list(events)

    def link_of(self, event_id: int) -> SyncLinkRecord | None:
        with self.sessions() as session:
            return session.scalar(
                select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == event_id)
            )

    def log(self, code: str | None = None) -> list[SyncLogEntry]:
        with self.sessions() as session:
            query = select(SyncLogEntry).order_by(SyncLogEntry.id)
            if code is not None:
                query = query.where(SyncLogEntry.code == code)
            return list(session.scalars(query).all())

    # ----- the Outlook side

    async def outlook_create(
        self,
        mailbox: str,
        subject: str,
        start: datetime,
        *,
        hours: int = 1,
        attendees: tuple[str, ...] = (),
        zone: str = "America/New_York",
        **fields: Any,
    ) -> GraphModelEvent:
        draft = EventDraft(
            subject=subject,
            start=start,
            end=start + timedelta(hours=hours),
            time_zone=zone,
            attendees=tuple(DraftAttendee(address) for address in attendees),
            **fields,
        )
        return await self.outlook.create_event(
            mailbox, draft, transaction_id=f"outlook-{uuid.uuid4()}"
        )

    async def outlook_update(self, mailbox: str, graph_id: str, **fields: Any) -> GraphModelEvent:
        if "body" in fields and isinstance(fields["body"], str):
            fields["body"] = ItemBody(content_type="text", content=fields["body"])
        return await self.outlook.update_event(mailbox, graph_id, EventDraft(**fields), etag="*")

    async def outlook_delete(self, mailbox: str, graph_id: str) -> None:
        await self.outlook.delete_event(mailbox, graph_id, etag="*")

    async def instances(self, master_id: str, mailbox: str = ADELE) -> list[str]:
        """The ids of a series' occurrences and exceptions in the next 90 days, in time order."""
        found = [e async for e in self.outlook.instances(mailbox, master_id, soon(0), soon(90))]
        return [e.id for e in sorted(found, key=lambda e: e.times().start)]

    async def outlook_events(self, mailbox: str) -> list[GraphModelEvent]:
        """Everything the mailbox shows in the window (cancelled copies left out)."""
        start = datetime.now(UTC) - timedelta(days=29)
        end = datetime.now(UTC) + timedelta(days=360)
        return [
            event
            async for event in self.outlook.calendar_view(mailbox, start, end)
            if not event.is_cancelled
        ]

    async def sent_items(self, mailbox: str) -> list[str]:
        """Subjects of the meeting mail in the mailbox's Sent Items, newest first."""
        response = await self.outlook.transport.send(
            "GET", f"/users/{mailbox}/mailFolders/sentitems/messages", mailbox=mailbox
        )
        return [message.get("subject", "") for message in response.json()["value"]]

    async def outlook_event(self, mailbox: str, graph_id: str) -> GraphModelEvent:
        return await self.outlook.get_event(mailbox, graph_id)
