"""The OData query options Graph supports on event lists: $top, $skip, $select, $filter, $orderby.

$filter understands comparisons (eq ne gt ge lt le) on event properties and paths such as
`start/dateTime`, `and`/`or`/`not`, parentheses and startswith/endswith/contains. Options or
expressions outside that set are refused with 400 instead of being silently ignored, so a client
never believes a filter was applied when it was not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from calsync.emulator.errors import GraphApiError, unsupported_query
from calsync.emulator.render import EVENT_PROPERTIES

Predicate = Callable[[dict[str, Any]], bool]
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),])|"
    r"(?P<num>-?\d[\dT:.\-+Z]*)|(?P<word>[A-Za-z_@][\w/.@]*))"
)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
_FUNCTIONS: dict[str, Callable[[Any, Any], bool]] = {
    "startswith": lambda a, b: isinstance(a, str) and a.lower().startswith(str(b).lower()),
    "endswith": lambda a, b: isinstance(a, str) and a.lower().endswith(str(b).lower()),
    "contains": lambda a, b: isinstance(a, str) and str(b).lower() in a.lower(),
}
ORDERABLE = ("start/dateTime", "end/dateTime", "subject", "createdDateTime", "lastModifiedDateTime")
LIST_OPTIONS = ("$top", "$skip", "$select", "$filter", "$orderby")


def bad_filter(message: str) -> GraphApiError:
    return GraphApiError(400, "ErrorInvalidUrlQueryFilter", message)


def _comparable(value: Any) -> Any:
    """Datetime-looking strings compare as instants (no offset means UTC), others as they are."""
    if isinstance(value, str) and _DATETIME.match(value):
        text = value.replace("Z", "+00:00")
        if "." in text:
            head, _, tail = text.partition(".")
            digits = re.match(r"\d+", tail)
            rest = tail[digits.end() :] if digits else tail
            text = head + "." + (digits.group(0)[:6] if digits else "0") + rest
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def _lookup(event: Mapping[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise bad_filter(f"Invalid filter clause near {text[pos : pos + 20]!r}.")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise bad_filter("The $filter expression ends too early.")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        _, text = self.take()
        if text != value:
            raise bad_filter(f"Expected {value!r} in $filter, found {text!r}.")

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise bad_filter(f"Unexpected {self.peek()[1]!r} in $filter.")  # type: ignore[index]
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek() == ("word", "or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else lambda e: any(p(e) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() == ("word", "and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else lambda e: all(p(e) for p in parts)

    def unary(self) -> Predicate:
        if self.peek() == ("word", "not"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.or_expr()
            self.expect(")")
            return inner
        kind, text = self.take()
        if kind == "word" and self.peek() == ("punct", "("):
            return self.function(text)
        left = self.operand(kind, text)
        _, op = self.take()
        if op not in _COMPARISONS:
            raise bad_filter(f"The operator {op!r} is not supported in $filter.")
        right = self.operand(*self.take())
        compare = _COMPARISONS[op]
        return lambda e: bool(compare(_comparable(left(e)), _comparable(right(e))))

    def function(self, name: str) -> Predicate:
        if name not in _FUNCTIONS:
            raise bad_filter(f"The function {name!r} is not supported in $filter.")
        self.expect("(")
        first = self.operand(*self.take())
        self.expect(",")
        second = self.operand(*self.take())
        self.expect(")")
        call = _FUNCTIONS[name]
        return lambda e: bool(call(first(e), second(e)))

    def operand(self, kind: str, text: str) -> Callable[[dict[str, Any]], Any]:
        if kind == "str":
            literal: Any = text[1:-1].replace("''", "'")
            return lambda e: literal
        if kind == "num":
            if _DATETIME.match(text):
                return lambda e: text
            try:
                number = float(text) if "." in text else int(text)
            except ValueError as exc:
                raise bad_filter(f"{text!r} is not a number or date in $filter.") from exc
            return lambda e: number
        if kind == "word":
            constants = {"true": True, "false": False, "null": None}
            if text in constants:
                constant = constants[text]
                return lambda e: constant
            if text.split("/")[0] not in EVENT_PROPERTIES:
                raise bad_filter(
                    f"Could not find a property named '{text}' on type 'microsoft.graph.event'."
                )
            return lambda e: _lookup(e, text)
        raise bad_filter(f"Unexpected {text!r} in $filter.")


def parse_filter(text: str) -> Predicate:
    return _Parser(text).parse()


@dataclass(frozen=True)
class ListQuery:
    """The paging and shaping options of one list request."""

    top: int | None = None
    skip: int = 0
    select: tuple[str, ...] | None = None
    filter: Predicate | None = None
    orderby: tuple[tuple[str, bool], ...] = ()

    def sort(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply $orderby to rendered (UTC) events; later keys first so earlier ones win."""
        result = list(events)
        for path, descending in reversed(self.orderby):
            result.sort(key=lambda e: _sort_key(_lookup(e, path)), reverse=descending)
        return result


def _sort_key(value: Any) -> tuple[int, Any]:
    value = _comparable(value)
    return (0, "") if value is None else (1, value)


def _int_option(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    if name not in params:
        return None
    text = params[name]
    if not text.isdigit() or not low <= int(text) <= high:
        raise unsupported_query(
            f"{name} must be a whole number from {low} to {high}, got {text!r}."
        )
    return int(text)


def parse_select(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if name not in EVENT_PROPERTIES:
            raise unsupported_query(
                f"Could not find a property named '{name}' on type 'microsoft.graph.event'."
            )
    return names


def parse_list_query(
    params: Mapping[str, str], allowed: tuple[str, ...] = LIST_OPTIONS, max_top: int = 1000
) -> ListQuery:
    """Read the list options; any other `$` option is refused with 400."""
    for name in params:
        if name.startswith("$") and name not in allowed:
            raise unsupported_query(f"The query option '{name}' is not supported here.")
    orderby: list[tuple[str, bool]] = []
    for clause in (params.get("$orderby") or "").split(","):
        words = clause.split()
        if not words:
            continue
        if (
            words[0] not in ORDERABLE
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
        ):
            raise unsupported_query(
                f"$orderby {clause.strip()!r} is not supported; use one of {', '.join(ORDERABLE)}"
                " with asc or desc."
            )
        orderby.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return ListQuery(
        top=_int_option(params, "$top", 1, max_top),
        skip=_int_option(params, "$skip", 0, 10**9) or 0,
        select=parse_select(params["$select"]) if "$select" in params else None,
        filter=parse_filter(params["$filter"]) if params.get("$filter") else None,
        orderby=tuple(orderby),
    )
