"""Individuals, Contacts, their Contact Point Emails and custom field values in the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from calsync.web.api.schemas.base import PatchBody, RequestBody
from calsync.web.api.schemas.common import (
    MAX_RECORD_ID,
    Email,
    FieldKey,
    Label,
    LongText,
    Name,
    OptionalName,
    Phone,
)

CustomValueOut = Annotated[
    bool | date | Decimal | str,
    Field(description="Text/Email: string; Number: decimal string; Date: YYYY-MM-DD; Checkbox."),
]
CustomValueIn = bool | int | float | LongText | None
CustomValues = Annotated[
    dict[FieldKey, CustomValueIn],
    Field(
        max_length=200,
        description="Custom field values by key; null or an empty string clears a value.",
    ),
]
AdvisorId = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str
    last_name: str
    display_name: str
    email: str | None
    alternate_email: str | None
    phone: str | None
    custom_fields: dict[str, CustomValueOut] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class IndividualOut(PersonOut):
    """A person the firm serves."""

    advisor_id: int | None = Field(description="The staff user looking after them.")


class ContactOut(PersonOut):
    """A person at another organisation."""

    organization_name: str | None


class PersonCreate(RequestBody):
    first_name: OptionalName = ""
    last_name: Name
    email: Email | None = None
    alternate_email: Email | None = None
    phone: Phone | None = None
    custom_fields: CustomValues = Field(default_factory=dict)


class IndividualCreate(PersonCreate):
    advisor_id: AdvisorId | None = None


class ContactCreate(PersonCreate):
    organization_name: OptionalName | None = None


class PersonUpdate(PatchBody):
    nullable_fields = frozenset({"email", "alternate_email", "phone"})

    first_name: OptionalName | None = None
    last_name: Name | None = None
    email: Email | None = None
    alternate_email: Email | None = None
    phone: Phone | None = None
    custom_fields: CustomValues | None = Field(
        default=None, description="Only the keys sent change; null clears a value."
    )


class IndividualUpdate(PersonUpdate):
    nullable_fields = PersonUpdate.nullable_fields | {"advisor_id"}

    advisor_id: AdvisorId | None = None


class ContactUpdate(PersonUpdate):
    nullable_fields = PersonUpdate.nullable_fields | {"organization_name"}

    organization_name: OptionalName | None = None


class ContactPointEmailOut(BaseModel):
    """An extra address of one Individual or Contact; it takes part in attendee matching."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    individual_id: int | None
    contact_id: int | None
    email: str
    label: str
    created_at: datetime
    updated_at: datetime


class ContactPointEmailCreate(RequestBody):
    email: Email
    label: Label = Field(default="", description="e.g. `work`, `personal`.")


class ContactPointEmailUpdate(PatchBody):
    email: Email | None = None
    label: Label | None = None
