"""The sync service's Prometheus metrics, served at `/metrics`.

They live in their own registry (`REGISTRY`), so the endpoint shows CalSync's numbers and the
process's standard ones without anything another library registers by accident. Names follow
Prometheus conventions (`_total` counters, base units).
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

RUNS = Counter(
    "calsync_sync_runs",
    "Sync runs finished by this process, by kind (push, pull) and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
CHANGES = Counter(
    "calsync_sync_changes",
    "Writes made by the sync, by direction (crm_to_microsoft365, microsoft365_to_crm).",
    ["direction"],
    registry=REGISTRY,
)
CONFLICTS = Counter(
    "calsync_sync_conflicts",
    "Fields changed on both sides between two runs (Microsoft 365 won; each is in the sync log).",
    registry=REGISTRY,
)
ERRORS = Counter(
    "calsync_sync_errors",
    "Errors of sync runs (failed pushes, failed pulls, errors written to the sync log).",
    ["kind"],
    registry=REGISTRY,
)
GRAPH_REQUESTS = Counter(
    "calsync_graph_requests",
    "HTTP requests sent to Microsoft Graph, by response status class (2xx, 4xx, 5xx).",
    ["status_class"],
    registry=REGISTRY,
)
GRAPH_THROTTLED = Counter(
    "calsync_graph_throttled",
    "Graph answers with 429 Too Many Requests (each one is retried after Retry-After).",
    registry=REGISTRY,
)
PUSH_LATENCY = Histogram(
    "calsync_push_latency_seconds",
    "From the CRM commit of a change to its write in Microsoft 365.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0),
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "calsync_outbox_depth",
    "CRM changes waiting to be pushed to Microsoft 365 (the outbox), as last counted.",
    registry=REGISTRY,
)
SYNCED_MAILBOXES = Gauge(
    "calsync_synced_mailboxes",
    "Mailboxes the scheduler runs, as last counted.",
    registry=REGISTRY,
)


async def count_graph_response(response: httpx.Response) -> None:
    """httpx response hook on the Graph client: every answer counted, 429s separately."""
    GRAPH_REQUESTS.labels(f"{response.status_code // 100}xx").inc()
    if response.status_code == 429:
        GRAPH_THROTTLED.inc()


def serve_metrics(host: str, port: int) -> WSGIServer:
    """Serve `REGISTRY` at http://host:port/metrics from a daemon thread (a `calsync worker`,
    which has no web app of its own); raises OSError when the address cannot be bound."""
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    return server
