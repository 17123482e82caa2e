"""Request body bases: unknown fields are refused, and PATCH bodies know what was sent."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class RequestBody(BaseModel):
    """A request body; a misspelt field is refused (`unknown_field`) instead of silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PatchBody(RequestBody):
    """A partial update: fields left out keep their value.

    Every field is optional, but `null` is accepted only for the fields listed in
    `nullable_fields` (where it means "clear this value"); elsewhere it is refused by name.
    """

    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _null_only_where_it_clears_a_value(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable_fields:
            raise ValueError("may be left out, but not set to null")
        return value

    def sent_fields(self) -> dict[str, Any]:
        """The fields the client actually sent, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}
