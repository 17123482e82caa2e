"""Custom field definitions (admin-defined fields on Individuals and Contacts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from calsync.crm.models import FieldType, RecordType
from calsync.web.api.schemas.base import PatchBody, RequestBody
from calsync.web.api.schemas.common import FieldKey, Name


class CustomFieldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    record_type: RecordType
    key: str = Field(description="Stable machine name, used in `custom_fields` of records.")
    label: str
    field_type: FieldType = Field(description="Fields of type Email take part in matching.")
    created_at: datetime
    updated_at: datetime


class CustomFieldCreate(RequestBody):
    record_type: RecordType
    key: FieldKey = Field(description="Lower-case letters, digits and _, starting with a letter.")
    label: Name
    field_type: FieldType


class CustomFieldUpdate(PatchBody):
    label: Name | None = None
    field_type: FieldType | None = Field(
        default=None, description="Existing values are converted; refused if one does not fit."
    )
