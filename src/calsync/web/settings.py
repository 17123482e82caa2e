"""What the web app needs to know to start: where the CRM's database is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from calsync.crm.database import database_url


@dataclass(frozen=True)
class WebSettings:
    """Settings of one running app.

    `database_url` follows the CRM's rule (`CALSYNC_DATABASE_URL`, else a SQLite file), so the API
    and `calsync db upgrade` always agree on which database they mean.
    """

    database_url: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        return cls(database_url=database_url(None if environ is None else dict(environ)))
