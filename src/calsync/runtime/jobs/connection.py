"""From the CRM's SQLAlchemy URL to the libpq connection string procrastinate and psycopg take."""

from __future__ import annotations

from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from calsync.runtime.jobs.settings import require_postgresql


def conninfo_of(database_url: str) -> str:
    """`postgresql+psycopg://user:secret@host:5432/db?sslmode=require` → a libpq conninfo string
    (query parameters such as `sslmode` carry over)."""
    url = make_url(require_postgresql(database_url))
    parts: dict[str, str] = {}
    if url.host:
        parts["host"] = url.host
    if url.port:
        parts["port"] = str(url.port)
    if url.username:
        parts["user"] = url.username
    if url.password is not None:
        parts["password"] = str(url.password)
    if url.database:
        parts["dbname"] = url.database
    for key, value in url.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    return make_conninfo(**parts)
