"""Conformance: Microsoft's own msgraph-sdk drives the emulator over TLS.

If the SDK can create, read, page, delta-sync, update and delete against the emulator, the
emulator speaks Graph's wire format closely enough for an independent client, which is the
point of having it (compare h11's test against the standard library).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.attendee import Attendee
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.day_of_week import DayOfWeek
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.event_type import EventType
from msgraph.generated.models.patterned_recurrence import PatternedRecurrence
from msgraph.generated.models.recurrence_pattern import RecurrencePattern
from msgraph.generated.models.recurrence_pattern_type import RecurrencePatternType
from msgraph.generated.models.recurrence_range import RecurrenceRange
from msgraph.generated.models.recurrence_range_type import RecurrenceRangeType
from msgraph.generated.models.response_type import ResponseType
from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import (
    DeltaRequestBuilder,
)
from msgraph.generated.users.item.events.item.accept.accept_post_request_body import (
    AcceptPostRequestBody,
)
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
    CancelPostRequestBody,
)
from msgraph.generated.users.item.events.item.instances.instances_request_builder import (
    InstancesRequestBuilder,
)
from msgraph_core import GraphClientFactory

from calsync.emulator.config import GRAPH_SCOPE
from calsync.emulator.server import EmulatorServer
from tests.fixtures.emulator import ADELE, MEGAN


class EmulatorTokenProvider(AccessTokenProvider):  # type: ignore[misc]
    """Fetches an app token from the emulator's token endpoint, as MSAL would."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.token: str | None = None

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        if self.token is None:
            self.token = await self._fetch()
        return self.token

    async def _fetch(self) -> str:
        config = self.server.config
        async with httpx.AsyncClient(verify=str(self.server.ca_path)) as client:
            reply = await client.post(
                f"{self.server.base_url}/{config.tenant}/oauth2/v2.0/token",
                data={
                    "client_id": config.client_id,
                    "client_secret": config.client_secret,
                    "scope": GRAPH_SCOPE,
                    "grant_type": "client_credentials",
                },
            )
        reply.raise_for_status()
        return str(reply.json()["access_token"])

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator(["127.0.0.1"])


@pytest.fixture
async def graph(emulator_server: EmulatorServer) -> AsyncIterator[GraphServiceClient]:
    auth = BaseBearerTokenAuthenticationProvider(EmulatorTokenProvider(emulator_server))
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(
            verify=str(emulator_server.ca_path), base_url=emulator_server.graph_url
        )
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = emulator_server.graph_url
    yield GraphServiceClient(request_adapter=adapter)
    await http.aclose()


def sdk_event(subject: str, day: str, **extra: Any) -> Event:
    return Event(
        subject=subject,
        start=DateTimeTimeZone(date_time=f"{day}T09:00:00", time_zone="W. Europe Standard Time"),
        end=DateTimeTimeZone(date_time=f"{day}T10:00:00", time_zone="W. Europe Standard Time"),
        **extra,
    )


async def test_sdk_creates_reads_updates_and_deletes_an_event(graph: GraphServiceClient) -> None:
    events = graph.users.by_user_id(ADELE).events
    created = await events.post(sdk_event("Northwind kickoff", "2024-06-10"))
    assert created is not None
    assert created.id
    assert created.type == EventType.SingleInstance
    assert created.start.time_zone == "UTC"
    assert created.start.date_time.startswith("2024-06-10T07:00:00")
    assert created.original_start_time_zone == "W. Europe Standard Time"
    assert created.is_organizer is True

    read = await events.by_event_id(created.id).get()
    assert read is not None
    assert read.subject == "Northwind kickoff"
    assert read.change_key == created.change_key

    updated = await events.by_event_id(created.id).patch(Event(subject="Northwind kickoff v2"))
    assert updated is not None
    assert updated.subject == "Northwind kickoff v2"
    assert updated.change_key != created.change_key

    await events.by_event_id(created.id).delete()
    with pytest.raises(APIError) as caught:
        await events.by_event_id(created.id).get()
    assert caught.value.response_status_code == 404
    assert caught.value.error.code == "ErrorItemNotFound"


async def test_sdk_pages_through_events_with_next_links(graph: GraphServiceClient) -> None:
    events = graph.users.by_user_id(ADELE).events
    for n in range(13):
        await events.post(sdk_event(f"Call {n}", f"2024-06-{n + 1:02d}"))
    page = await events.get()
    assert page is not None
    assert len(page.value) == 10
    assert page.odata_next_link
    rest = await events.with_url(page.odata_next_link).get()
    assert rest is not None
    assert len(rest.value) == 3
    assert rest.odata_next_link is None


async def test_sdk_delta_sync_round_trip(graph: GraphServiceClient) -> None:
    user = graph.users.by_user_id(ADELE)
    first = await user.events.post(sdk_event("Review", "2024-06-10"))
    await user.events.post(sdk_event("Planning", "2024-06-11"))
    query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
        start_date_time="2024-06-01T00:00:00Z", end_date_time="2024-07-01T00:00:00Z"
    )
    config = RequestConfiguration(query_parameters=query)
    config.headers.add("Prefer", "odata.maxpagesize=1")
    seen: dict[str, Event] = {}
    response = await user.calendar_view.delta.get(request_configuration=config)
    while response is not None and response.odata_next_link:
        seen.update({e.id: e for e in response.value})
        response = await user.calendar_view.delta.with_url(response.odata_next_link).get(
            request_configuration=config
        )
    assert response is not None
    assert response.odata_delta_link
    seen.update({e.id: e for e in response.value})
    assert sorted(e.subject for e in seen.values()) == ["Planning", "Review"]

    assert first is not None
    assert first.id
    await user.events.by_event_id(first.id).delete()
    changes = await user.calendar_view.delta.with_url(response.odata_delta_link).get()
    assert changes is not None
    (removed,) = changes.value
    assert removed.id == first.id
    assert removed.additional_data.get("@removed") == {"reason": "deleted"}


async def test_sdk_meeting_reaches_the_attendee_and_cancel_works(
    graph: GraphServiceClient,
) -> None:
    organizer = graph.users.by_user_id(ADELE)
    meeting = await organizer.events.post(
        sdk_event(
            "Budget",
            "2024-06-12",
            attendees=[Attendee(email_address=EmailAddress(address=MEGAN, name="Megan Bowen"))],
        )
    )
    assert meeting is not None
    assert meeting.id
    copies = await graph.users.by_user_id(MEGAN).events.get()
    assert copies is not None
    (copy,) = copies.value
    assert copy.i_cal_u_id == meeting.i_cal_u_id
    assert copy.is_organizer is False
    await organizer.events.by_event_id(meeting.id).cancel.post(
        CancelPostRequestBody(comment="Budget approved by mail")
    )
    after = await graph.users.by_user_id(MEGAN).events.get()
    assert after is not None
    assert after.value[0].is_cancelled is True


async def test_sdk_accepts_one_occurrence_of_a_series_meeting(graph: GraphServiceClient) -> None:
    series = await graph.users.by_user_id(ADELE).events.post(
        sdk_event(
            "Weekly pipeline",
            "2024-06-10",
            attendees=[Attendee(email_address=EmailAddress(address=MEGAN))],
            recurrence=PatternedRecurrence(
                pattern=RecurrencePattern(
                    type=RecurrencePatternType.Weekly,
                    interval=1,
                    days_of_week=[DayOfWeek.Monday],
                ),
                range=RecurrenceRange(
                    type=RecurrenceRangeType.Numbered,
                    start_date=date(2024, 6, 10),
                    number_of_occurrences=3,
                ),
            ),
        )
    )
    assert series is not None
    megan = graph.users.by_user_id(MEGAN).events
    copies = await megan.get()
    assert copies is not None
    (copy,) = copies.value
    assert copy.type == EventType.SeriesMaster
    query = InstancesRequestBuilder.InstancesRequestBuilderGetQueryParameters(
        start_date_time="2024-06-01T00:00:00Z", end_date_time="2024-07-01T00:00:00Z"
    )
    config = RequestConfiguration(query_parameters=query)
    instances = await megan.by_event_id(copy.id).instances.get(request_configuration=config)
    assert instances is not None
    second = instances.value[1]
    await megan.by_event_id(second.id).accept.post(
        AcceptPostRequestBody(comment="Just this one", send_response=True)
    )
    after = await megan.by_event_id(copy.id).instances.get(request_configuration=config)
    assert after is not None
    assert [e.type for e in after.value] == [
        EventType.Occurrence,
        EventType.Exception,
        EventType.Occurrence,
    ]
    assert [e.response_status.response for e in after.value] == [
        ResponseType.NotResponded,
        ResponseType.Accepted,
        ResponseType.NotResponded,
    ]
