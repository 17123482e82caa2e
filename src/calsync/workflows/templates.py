"""Text templates of a workflow step: `"Annual review: {record.first_name} {record.last_name}"`.

A placeholder is a dotted name in braces; `{{` and `}}` stand for literal braces, as in Python's own
format strings (whose parser, `string.Formatter.parse`, does the scanning here). Format specs and
conversions (`{x:>10}`, `{x!r}`) are refused: a template is something an administrator types, not
code.

Templates are checked twice, on purpose:
- when the definition is saved, every placeholder must be one the record type offers
  (`check_placeholders`), so an unknown placeholder is refused with its name instead of surfacing
  months later in a run;
- when a run renders them, a placeholder whose value is empty on this record fails the run with the
  placeholder named (`render`), rather than producing a subject like "Annual review with ".
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from calsync.workflows.errors import InvalidDefinitionError, RunFailedError

# `record.first_name`, `record.custom.risk_profile`, `owner.name`: two or three dotted parts.
_PLACEHOLDER_NAME = re.compile(r"[a-z][a-z_]*(\.[A-Za-z0-9_-]+){1,2}")
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Placeholder:
    """One `{name}` in a template."""

    name: str


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and placeholders in order."""

    source: str
    parts: tuple[str | Placeholder, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholder names in the order they appear (repeats kept once)."""
        names = (part.name for part in self.parts if isinstance(part, Placeholder))
        return tuple(dict.fromkeys(names))


def parse_template(source: str, *, field: str) -> Template:
    """Split `source` into text and placeholders; a malformed one is refused naming `field`."""
    try:
        pieces = list(_FORMATTER.parse(source))
    except ValueError as exc:
        raise InvalidDefinitionError(
            f"the template is malformed ({exc}); write {{{{ and }}}} for a literal brace",
            field=field,
        ) from exc
    parts: list[str | Placeholder] = []
    for literal, name, spec, conversion in pieces:
        if literal:
            parts.append(literal)
        if name is None:
            continue
        shown = "{" + name + "}"
        if conversion is not None or spec:
            raise InvalidDefinitionError(
                f"placeholder {shown} has formatting options (':' or '!'); write only {{name}}",
                field=field,
            )
        if not _PLACEHOLDER_NAME.fullmatch(name):
            raise InvalidDefinitionError(
                f"{shown} is not a placeholder; placeholders look like {{record.first_name}} or "
                "{record.custom.key}",
                field=field,
            )
        parts.append(Placeholder(name))
    return Template(source=source, parts=tuple(parts))


def check_placeholders(template: Template, known: Collection[str], *, field: str) -> None:
    """Refuse a placeholder the record type does not offer, naming it and the nearest known one."""
    for name in template.placeholders:
        if name in known:
            continue
        message = f"unknown placeholder {{{name}}}"
        nearest = difflib.get_close_matches(name, list(known), n=1)
        if nearest:
            message += f"; did you mean {{{nearest[0]}}}?"
        raise InvalidDefinitionError(message, field=field)


def render(template: Template, values: Mapping[str, str | None], *, field: str) -> str:
    """Fill the placeholders from `values`; an empty value fails the run, naming the placeholder."""
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = values.get(part.name)
        if value is None or not value.strip():
            raise RunFailedError(
                f"placeholder {{{part.name}}} has no value on this record",
                field=field,
                code="missing_value",
            )
        out.append(value)
    return "".join(out)
