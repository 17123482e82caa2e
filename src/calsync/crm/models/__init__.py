"""The CRM's tables, one module per record family; importing this package registers them all."""

from calsync.crm.models.base import Base
from calsync.crm.models.custom_fields import CustomFieldDefinition, CustomFieldValue, FieldType
from calsync.crm.models.email_index import EmailIndexEntry, EmailSource
from calsync.crm.models.events import (
    AttendeeType,
    Event,
    EventAttendee,
    Origin,
    ResponseStatus,
    ShowAs,
    SyncStatus,
)
from calsync.crm.models.organization import Organization
from calsync.crm.models.people import Contact, ContactPointEmail, Individual, RecordType
from calsync.crm.models.users import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "AttendeeType",
    "Base",
    "Contact",
    "ContactPointEmail",
    "CustomFieldDefinition",
    "CustomFieldValue",
    "EmailIndexEntry",
    "EmailSource",
    "Event",
    "EventAttendee",
    "FieldType",
    "Individual",
    "Organization",
    "Origin",
    "RecordType",
    "ResponseStatus",
    "Role",
    "ShowAs",
    "SyncStatus",
    "User",
]
