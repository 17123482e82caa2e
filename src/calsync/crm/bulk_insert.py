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


@dataclass(frozen=True)
class _Prepared:
    """The statement for one dialect: its SQL, and for each of its parameters in the order the SQL
    binds them, where its value is in a row followed by the shared values, and the column's bind
    processor (None: the value goes as is; shared values are processed once per statement).
    `names`: the driver's parameter names when it takes named parameters (None: positional)."""

    sql: str
    parameters: tuple[tuple[int, BindProcessor | None], ...]
    shared_processors: tuple[BindProcessor | None, ...]
    names: tuple[str, ...] | None


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
        tail = tuple(
            value if p is None else p(value)
            for p, value in zip(prepared.shared_processors, shared, strict=True)
        )
        parameters = prepared.parameters
        if prepared.names is None:
            positional = [
                tuple([full[i] if p is None else p(full[i]) for i, p in parameters])
                for full in (tuple(row) + tail for row in rows)
            ]
            connection.exec_driver_sql(prepared.sql, positional)
            return
        names = prepared.names
        named = [
            {
                name: full[i] if p is None else p(full[i])
                for name, (i, p) in zip(names, parameters, strict=True)
            }
            for full in (tuple(row) + tail for row in rows)
        ]
        connection.exec_driver_sql(prepared.sql, named)

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
        parameters = tuple(
            (
                every.index(name),
                None if name in self.shared else self._processor(name, dialect),
            )
            for name in names
        )
        shared_processors = tuple(self._processor(name, dialect) for name in self.shared)
        return _Prepared(
            str(compiled), parameters, shared_processors, None if compiled.positional else names
        )

    def _processor(self, name: str, dialect: Dialect) -> BindProcessor | None:
        processor: BindProcessor | None = (
            self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        )
        return processor
