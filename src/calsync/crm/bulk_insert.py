"""Many rows into one table with one driver executemany, stored exactly as SQLAlchemy stores them.

An initial import writes a round's events, attendees, links and sync log lines with one multi-row
insert each. Through SQLAlchemy Core (`session.execute(insert(table), list_of_dicts)`) every row
still goes through the statement's parameter processing: a dict of every bind per row, then each
type's bind processor looked up and applied. That cost about as much as the database's own work
for those inserts (docs/benchmarks.md).

`BulkInsert` does the same work once per statement instead of once per row: the INSERT of a fixed
list of columns is compiled once per dialect (so its SQL is whatever SQLAlchemy would send, bind
casts and all), each column's bind processor is taken from the column's own type for that dialect
(`TypeEngine.dialect_impl(dialect).bind_processor(dialect)`, which is what SQLAlchemy applies: our
`UTCDateTime`, enums as their values, JSON serialised, SQLite's date strings), and the rows go to
the driver as plain tuples through `Connection.exec_driver_sql`, in the session's transaction.

The caller gives every value: a column left out must be one the database fills (the autoincrement
primary key, a server default) or may be NULL, never one with a Python-side default, since nothing
here would apply it. A column list that breaks this is refused when the `BulkInsert` is made.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Table, insert
from sqlalchemy.orm import Session

BindProcessor = Callable[[Any], Any]


class BulkInsertColumnsError(ValueError):
    """A `BulkInsert` was given a column list it cannot insert faithfully (a programming error)."""

    code = "bulk_insert_columns"

    def __init__(self, table: str, message: str) -> None:
        super().__init__(f"{table}: {message}")
        self.table = table
        self.message = message


RowMaker = Callable[[Sequence[Any], tuple[Any, ...]], Any]
"""Builds one row's driver parameters from the caller's row and the processed shared values."""


@dataclass(frozen=True)
class _Prepared:
    """The statement for one dialect: its SQL, the bind processors of the shared columns, and the
    function that turns a row into the driver's parameters (a tuple for positional parameters, a
    dict for named ones)."""

    sql: str
    shared_processors: tuple[BindProcessor | None, ...]
    make_row: RowMaker


def _row_maker(
    sources: Sequence[tuple[int, BindProcessor | None]],
    row_length: int,
    names: Sequence[str] | None,
) -> RowMaker:
    """The function building a row's parameters, in the order the SQL binds them. `sources` gives
    for each parameter the index of its value among the row's values followed by the shared ones,
    and its bind processor (None for a shared value, processed once already, or a type without).

    It is generated once per statement, so that each value is read, processed and placed by one
    expression rather than by a step of a loop: this runs for every value of every row an import
    writes. Only column names (quoted with `repr`) and indexes go into the generated source.
    """
    namespace: dict[str, Any] = {}
    values: list[str] = []
    for position, (index, processor) in enumerate(sources):
        value = f"row[{index}]" if index < row_length else f"shared[{index - row_length}]"
        if processor is not None:
            namespace[f"process_{position}"] = processor
            value = f"process_{position}({value})"
        values.append(value)
    if names is None:
        body = "(" + "".join(f"{value}, " for value in values) + ")"
    else:
        body = (
            "{" + ", ".join(f"{name!r}: {v}" for name, v in zip(names, values, strict=True)) + "}"
        )
    exec(f"def make_row(row, shared):\n    return {body}\n", namespace)
    make_row: RowMaker = namespace["make_row"]
    return make_row


class BulkInsert:
    """An INSERT of `columns` into `table`, for many rows at a time (see the module docstring).

    Rows are sequences of values in the order of `columns`, as the application holds them (aware
    datetimes, enum members, dicts for JSON); they are stored as the ORM stores them. `shared`
    names more columns whose value is the same for every row of one `execute` (a creation time, a
    constant): given once per call, and processed once instead of once per row.
    """

    def __init__(self, table: Table, columns: Sequence[str], *, shared: Sequence[str] = ()) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.shared = tuple(shared)
        every = (*self.columns, *self.shared)
        unknown = [name for name in every if name not in table.c]
        if unknown:
            raise BulkInsertColumnsError(table.name, f"no column named {', '.join(unknown)}")
        if len(set(every)) != len(every):
            raise BulkInsertColumnsError(table.name, "a column is named twice")
        for column in table.c:
            if column.key in every:
                continue
            if column.default is not None:
                raise BulkInsertColumnsError(
                    table.name,
                    f"column {column.key} has a Python-side default, which a bulk insert does "
                    "not apply: give its value",
                )
            filled_by_database = column.server_default is not None or (
                column is table.autoincrement_column
            )
            if not (column.nullable or filled_by_database):
                raise BulkInsertColumnsError(
                    table.name, f"column {column.key} cannot be NULL: give its value"
                )
        self._prepared: weakref.WeakKeyDictionary[Dialect, _Prepared] = weakref.WeakKeyDictionary()

    def execute(
        self, session: Session, rows: Sequence[Sequence[Any]], shared: Sequence[Any] = ()
    ) -> None:
        """Insert `rows` in `session`'s transaction with one executemany (nothing when empty);
        `shared`: the values of the shared columns, in their order, for every row."""
        if len(shared) != len(self.shared):
            raise BulkInsertColumnsError(
                self.table.name,
                f"{len(shared)} shared values given for {len(self.shared)} shared columns",
            )
        if not rows:
            return
        connection = session.connection()
        prepared = self._prepare(connection.dialect)
        shared_values = tuple(
            value if p is None else p(value)
            for p, value in zip(prepared.shared_processors, shared, strict=True)
        )
        make_row = prepared.make_row
        connection.exec_driver_sql(prepared.sql, [make_row(row, shared_values) for row in rows])

    def _prepare(self, dialect: Dialect) -> _Prepared:
        prepared = self._prepared.get(dialect)
        if prepared is None:
            prepared = self._prepared[dialect] = self._compile(dialect)
        return prepared

    def _compile(self, dialect: Dialect) -> _Prepared:
        every = (*self.columns, *self.shared)
        # `for_executemany`: no RETURNING of the new primary key, which PostgreSQL would add for a
        # single-row insert.
        compiled = insert(self.table).compile(
            dialect=dialect, column_keys=list(every), for_executemany=True
        )
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
        if sorted(names) != sorted(every):
            raise BulkInsertColumnsError(
                self.table.name,
                f"the compiled INSERT binds {', '.join(names)}, not the columns given",
            )
        sources = tuple(
            (every.index(name), None if name in self.shared else self._processor(name, dialect))
            for name in names
        )
        shared_processors = tuple(self._processor(name, dialect) for name in self.shared)
        make_row = _row_maker(sources, len(self.columns), None if compiled.positional else names)
        return _Prepared(str(compiled), shared_processors, make_row)

    def _processor(self, name: str, dialect: Dialect) -> BindProcessor | None:
        processor: BindProcessor | None = (
            self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        )
        return processor
