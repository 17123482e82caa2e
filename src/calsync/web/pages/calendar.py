"""My calendar: the signed-in user's events in FullCalendar's day, week and month views."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import CurrentUser

router = APIRouter()

VIEWS = {"day": "timeGridDay", "week": "timeGridWeek", "month": "dayGridMonth"}


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, user: CurrentUser, view: str = "week") -> Response:
    context = {
        "nav": "calendar",
        "time_zone": user.time_zone,
        "initial_view": VIEWS.get(view, VIEWS["week"]),
    }
    return render(request, "calendar.html", context, user=user)
