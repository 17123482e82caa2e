"""Refuse query parameters an endpoint does not know.

A misspelt filter (`?owner=3` instead of `?owner_id=3`) would otherwise be ignored silently and
the client would get everyone's events back believing they were filtered. Refusing it with
`unknown_parameter` turns that silent mistake into an error the client sees at once.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from calsync.web.errors import ApiError


def _declared_query_parameters(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub_dependant in dependant.dependencies:
        names |= _declared_query_parameters(sub_dependant)
    return names


def reject_unknown_query_parameters(request: Request) -> None:
    """Router-wide dependency: 400 `unknown_parameter` for a query parameter the route lacks."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _declared_query_parameters(route.dependant)
    for name in request.query_params:
        if name not in known:
            accepted = ", ".join(sorted(known)) or "none"
            raise ApiError(
                400,
                "unknown_parameter",
                f"unknown query parameter {name!r}; this endpoint accepts: {accepted}",
                name,
            )
