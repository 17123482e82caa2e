"""Held deletions (SPEC §9) as the API shows them: the guard's message and the events at stake."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from calsync.runtime.held_deletions import HeldDeletions


class HeldEventOut(BaseModel):
    crm_event_id: int
    graph_id: str = Field(description="The event's id in the Microsoft 365 mailbox.")
    subject: str
    start: datetime | date | None = Field(description="Start (a date for all-day events).")
    would_be_deleted_from: Literal["crm", "microsoft365"] = Field(
        description="Where confirming deletes it: `crm` (it was deleted in Outlook) or "
        "`microsoft365` (it was deleted in the CRM)."
    )


class HeldDeletionsOut(BaseModel):
    user_id: int | None
    name: str
    mailbox: str
    message: str = Field(description="What the mass-deletion guard stopped, in words.")
    count: int = Field(description="How many events are listed below.")
    listed: bool = Field(
        description="False while the events deleted in Outlook have not been listed yet (the "
        "mailbox's next run lists them); `message` gives the counts meanwhile."
    )
    events: list[HeldEventOut]

    @classmethod
    def of(cls, held: HeldDeletions) -> HeldDeletionsOut:
        return cls(
            user_id=held.user_id,
            name=held.name,
            mailbox=held.mailbox,
            message=held.message,
            count=held.count,
            listed=held.listed,
            events=[
                HeldEventOut(
                    crm_event_id=event.crm_event_id,
                    graph_id=event.graph_id,
                    subject=event.subject,
                    start=event.start,
                    would_be_deleted_from=event.would_be_deleted_from,
                )
                for event in held.events
            ],
        )


class HeldDecisionOut(BaseModel):
    mailbox: str
    decision: Literal["confirmed", "discarded"]
    run_started: bool = Field(description="The mailbox's run that carries it out has started.")
