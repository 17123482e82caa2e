"""JSON ``$batch``: up to 20 requests in one round trip, with a result and retries per item.

Graph answers a well-formed batch with 200 even when items failed, and throttles each item on its
own, so a 429 or 503 can hide inside a successful batch (GRAPH.md §7). ``send_batch`` therefore
looks at every item: finished items (success or a final error) keep their result, transient failures
are resent together in a new batch after the longest ``Retry-After`` among them, and the same
attempt and time caps as single requests apply. The items are independent (no ``dependsOn``), so
Graph may run them in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, ValidationError

from calsync.graph.errors import GraphError, InvalidArgument, InvalidResponse, error_from_response
from calsync.graph.models import GraphModel
from calsync.graph.transport import IMMUTABLE_ID, GraphTransport
from calsync.graph.writes import RequestSpec

MAX_BATCH_ITEMS = 20


@dataclass(frozen=True, slots=True)
class BatchItemResult:
    """What Graph answered for one item; ``error`` is set (and typed) when the item failed."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    error: GraphError | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


class _ItemResponse(GraphModel):
    id: str
    status: int
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None


class _BatchResponse(GraphModel):
    responses: list[_ItemResponse]


def _item_json(item_id: str, spec: RequestSpec) -> dict[str, Any]:
    headers = {"Prefer": IMMUTABLE_ID, **dict(spec.headers)}
    entry: dict[str, Any] = {"id": item_id, "method": spec.method, "url": spec.path}
    if spec.body is not None:
        headers["Content-Type"] = (
            "application/json"  # a body needs its Content-Type inside the batch
        )
        entry["body"] = spec.body
    entry["headers"] = headers
    return entry


async def send_batch(
    transport: GraphTransport, specs: Sequence[RequestSpec], *, mailbox: str | None
) -> list[BatchItemResult]:
    """Run the requests as one ``$batch`` (resending only throttled or failed-transiently items).

    Results come back in the order of ``specs``. The whole batch is refused with ``InvalidArgument``
    when it is empty or longer than 20; a batch that fails as a whole raises like any request.
    """
    if not specs:
        raise InvalidArgument("requests", "a batch needs at least one request")
    if len(specs) > MAX_BATCH_ITEMS:
        raise InvalidArgument(
            "requests", f"a batch holds at most {MAX_BATCH_ITEMS} requests, not {len(specs)}"
        )
    policy = transport.retry_policy
    started = policy.clock()
    pending = {str(position + 1): spec for position, spec in enumerate(specs)}
    attempts = dict.fromkeys(pending, 0)
    results: dict[str, BatchItemResult] = {}
    round_number = 0
    while pending:
        round_number += 1
        answers = await _post(transport, pending, mailbox)
        waits: list[float] = []
        retry: dict[str, RequestSpec] = {}
        for item_id, spec in pending.items():
            attempts[item_id] += 1
            answer = answers.get(item_id)
            if answer is None:
                raise InvalidResponse(f"the $batch answer has no response for item {item_id}")
            headers = {name.lower(): value for name, value in answer.headers.items()}
            error = (
                error_from_response(answer.status, answer.body, headers=headers)
                if answer.status >= 400
                else None
            )
            if error is not None:
                error.attempts = attempts[item_id]
            if error is not None and policy.is_transient(error):
                retry[item_id] = spec
                waits.append(policy.delay(round_number, error))
            results[item_id] = BatchItemResult(
                answer.status, answer.body, headers, error, attempts[item_id]
            )
        if not retry:
            break
        delay = max(waits)
        if policy.gives_up(round_number, started, delay):
            break  # the transient errors stay as those items' results: reported, not swallowed
        await transport.sleep(delay)
        pending = retry
    return [results[str(position + 1)] for position in range(len(specs))]


async def _post(
    transport: GraphTransport, pending: dict[str, RequestSpec], mailbox: str | None
) -> dict[str, _ItemResponse]:
    payload = {"requests": [_item_json(item_id, spec) for item_id, spec in pending.items()]}
    response = await transport.send(
        "POST", "/$batch", mailbox=mailbox, json=payload, items=len(pending)
    )
    try:
        parsed = _BatchResponse.model_validate_json(response.content)
    except ValidationError as exc:
        raise InvalidResponse("the $batch answer is not a list of responses") from exc
    return {answer.id: answer for answer in parsed.responses}
