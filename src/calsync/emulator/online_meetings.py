"""Teams meetings created through the calendar API (GRAPH.md §4).

`isOnlineMeeting: true` with `teamsForBusiness` gives the event an `onlineMeeting` with a join URL
and appends Outlook's join block to the body. The meeting can be switched on later but never off,
and a mailbox that cannot host Teams (or any other provider) fails silently: the create succeeds
with `isOnlineMeeting: false` and provider `unknown`.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from calsync.emulator.store import Mailbox

TEAMS = "teamsForBusiness"
_JOIN_BLOCK = (
    '<div style="width:100%">________________________________________________________________'
    '</div><div class="me-email-text"><span style="font-size:24px">Microsoft Teams meeting</span>'
    "<br><b>Join on your computer, mobile app or room device</b><br>"
    '<a href="{url}" target="_blank">Click here to join the meeting</a><br>'
    "Meeting ID: {conference}</div>"
)


def apply_online_meeting(
    mailbox: Mailbox, data: dict[str, Any], previous: dict[str, Any] | None
) -> None:
    """Teams can be switched on, never off; a mailbox that cannot host Teams fails silently."""
    if previous is not None and previous.get("isOnlineMeeting"):
        for name in ("isOnlineMeeting", "onlineMeetingProvider", "onlineMeeting"):
            data[name] = copy.deepcopy(previous[name])
        return
    if not data["isOnlineMeeting"]:
        data["onlineMeetingProvider"] = "unknown"
        data["onlineMeeting"] = None
        return
    provider = data["onlineMeetingProvider"]
    if provider == "unknown":
        provider = TEAMS
    if provider != TEAMS or not mailbox.can_host_teams:
        data.update(
            {
                "isOnlineMeeting": False,
                "onlineMeetingProvider": "unknown",
                "onlineMeeting": None,
            }
        )
        return
    thread = secrets.token_hex(16)
    conference = str(secrets.randbelow(900_000_000) + 100_000_000)
    join_url = (
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
        + thread
        + "%40thread.v2/0?context=%7b%22Tid%22%3a%22emulator%22%7d"
    )
    data["onlineMeetingProvider"] = TEAMS
    data["onlineMeeting"] = {
        "joinUrl": join_url,
        "conferenceId": conference,
        "tollNumber": "+1 555-0100",
    }
    block = _JOIN_BLOCK.format(url=join_url, conference=conference)
    body = data["body"]
    if body["contentType"] == "html":
        body["content"] = body["content"] + block
    else:
        data["body"] = {
            "contentType": "html",
            "content": body["content"].replace("\n", "<br>") + block,
        }
