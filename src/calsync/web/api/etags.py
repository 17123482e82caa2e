"""ETags of events: the ETag is the event's `version`, and If-Match guards changes.

If-Match is optional. Without it a change applies to whatever version is current (what a person
editing by hand expects); with it the change applies only if the event is still at that version,
otherwise 412 `version_conflict` (what a client that read the event first and must not overwrite
someone else's edit wants). `*` matches any version.
"""

from __future__ import annotations

import re

from fastapi import Response

from calsync.web.errors import ApiError

_TAG = re.compile(r'^(?:"(\d{1,9})"|(\d{1,9}))$')


def etag_of(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


def expected_version(if_match: str | None, current_version: int) -> int:
    """The version a change must be based on, from If-Match (the current one when absent).

    A list of tags is accepted if it names the current version. A tag that is not one of ours can
    never match, so it is a 412 like a stale one.
    """
    if if_match is None or not if_match.strip():
        return current_version
    versions: list[int] = []
    for raw_tag in if_match.split(","):
        tag = raw_tag.strip()
        if tag == "*":
            return current_version
        found = _TAG.match(tag)
        if found is not None:
            versions.append(int(found.group(1) or found.group(2)))
    if current_version in versions:
        return current_version
    if versions:
        # The CRM's service refuses a stale version with its own `version_conflict` message.
        return versions[0]
    raise ApiError(
        412,
        "version_conflict",
        f"If-Match {if_match.strip()[:80]!r} is not an ETag of this event; send the ETag of your "
        f"last read (the event is now at {etag_of(current_version)})",
        "If-Match",
    )
