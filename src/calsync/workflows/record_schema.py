"""What a workflow may refer to on the record it runs on: fields, User-valued fields, custom fields.

A definition is checked against this description when it is saved, so that `{record.custom.tier}` or
a trigger on `custom.stage` is refused at once if the record type has no such field. The description
is plain data (built from the CRM's custom field definitions by the service), so the checks need no
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from calsync.crm.models import FieldType, RecordType

# Standard fields of each record type, by the name workflows use. `name` is the display name.
STANDARD_FIELDS: Mapping[RecordType, tuple[str, ...]] = MappingProxyType(
    {
        RecordType.INDIVIDUAL: (
            "first_name",
            "last_name",
            "name",
            "email",
            "alternate_email",
            "phone",
        ),
        RecordType.CONTACT: (
            "first_name",
            "last_name",
            "name",
            "email",
            "alternate_email",
            "phone",
            "organization_name",
        ),
    }
)

# Fields whose value is a staff User, by workflow name → the record's id column.
USER_FIELDS: Mapping[RecordType, Mapping[str, str]] = MappingProxyType(
    {
        RecordType.INDIVIDUAL: MappingProxyType({"advisor": "advisor_id"}),
        RecordType.CONTACT: MappingProxyType({}),
    }
)

# What can be said about a User in a template (`{owner.name}`, `{record.advisor.email}`).
USER_ATTRIBUTES = ("name", "email")

# Values that belong to the run rather than to the record.
RUN_PLACEHOLDERS = ("run.date", "run.workflow", "event.date", "event.time")

# A changing display name is not something a process reacts to; every other standard field is.
_NOT_TRIGGER_FIELDS = frozenset({"name"})

CUSTOM_PREFIX = "custom."


@dataclass(frozen=True)
class RecordSchema:
    """The fields of one record type that a workflow can read."""

    record_type: RecordType
    custom_fields: Mapping[str, FieldType] = field(default_factory=dict)

    @property
    def standard_fields(self) -> tuple[str, ...]:
        return STANDARD_FIELDS[self.record_type]

    @property
    def user_fields(self) -> Mapping[str, str]:
        """User-valued fields, by workflow name → id column on the record."""
        return USER_FIELDS[self.record_type]

    def placeholders(self) -> frozenset[str]:
        """Every placeholder a template of a workflow on this record type may use."""
        names = {f"record.{name}" for name in self.standard_fields}
        names.update(f"record.custom.{key}" for key in self.custom_fields)
        for user_field in self.user_fields:
            names.update(f"record.{user_field}.{attr}" for attr in USER_ATTRIBUTES)
        names.update(f"owner.{attr}" for attr in USER_ATTRIBUTES)
        names.update(RUN_PLACEHOLDERS)
        return frozenset(names)

    def trigger_fields(self) -> frozenset[str]:
        """Fields a `on_field_change` trigger may watch: standard ones and `custom.<key>`."""
        names = {name for name in self.standard_fields if name not in _NOT_TRIGGER_FIELDS}
        names.update(f"{CUSTOM_PREFIX}{key}" for key in self.custom_fields)
        return frozenset(names)
