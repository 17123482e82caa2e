"""One database session per API request, committed only when the whole request succeeded.

A request that fails part-way (a rule refused by a service, a stale ETag) is rolled back, so the
API never leaves anything partly written (SPEC §9).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.database import create_database_engine, create_session_factory


def attach_database(app: FastAPI, url: str) -> Engine:
    """Open the CRM database for `app`; the engine is returned so its owner can dispose of it."""
    engine = create_database_engine(url, pool_pre_ping=True)
    app.state.session_factory = create_session_factory(engine)
    app.state.engine = engine
    return engine


def get_db_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a session whose transaction commits if the endpoint returned normally.

    Endpoints turn ORM objects into response schemas before returning, so nothing is loaded from
    the database after this session is closed.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


# "function" scope: commit before the response is sent, so a client never sees a success that was
# not saved.
DbSession = Annotated[Session, Depends(get_db_session, scope="function")]
