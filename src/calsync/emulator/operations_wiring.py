"""Adds the operator side (faults, throttling, request counts, `$batch`, subscriptions, control
API) to the emulator app that engineer A's `create_app` builds: one call at its end."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from calsync.emulator.batch import batch_endpoint
from calsync.emulator.control import control_routes
from calsync.emulator.delta_quirks import DeltaQuirks
from calsync.emulator.faults import FaultInjectionMiddleware, FaultInjector
from calsync.emulator.operations import EmulatorCore, EmulatorOperations, throttle_settings_of
from calsync.emulator.request_counts import RequestCountingMiddleware, RequestCounts
from calsync.emulator.subscriptions import (
    SubscriptionService,
    create_subscription,
    delete_subscription,
    get_subscription,
    list_subscriptions,
    reauthorize_subscription,
    update_subscription,
)
from calsync.emulator.throttling import MailboxThrottle, ThrottlingMiddleware
from calsync.emulator.webhook_delivery import DeliveryLoopMiddleware


def install_operations(
    app: Starlette,
    emulator: EmulatorCore,
    faults: FaultInjector | None = None,
    delta_quirks: DeltaQuirks | None = None,
) -> EmulatorOperations:
    """Wire everything in; call after the core's own routes and middleware are in place.

    Request counting goes outside everything (every request that arrives is counted); faults
    and throttling go inside the core's middleware (its bearer-token check and request ids come
    first, as Graph authenticates before Outlook throttles), faults before throttling. The routes
    go first in the routing table so a catch-all cannot shadow them. `delta_quirks` is the
    core's switchboard for delta's optional oddities (a fresh one when the core has none).
    """
    config = emulator.config
    operations = EmulatorOperations(
        emulator=emulator,
        faults=faults or FaultInjector(),
        throttle=MailboxThrottle(throttle_settings_of(config)),
        requests=RequestCounts(),
        delta_quirks=delta_quirks or DeltaQuirks(config),
        subscriptions=SubscriptionService(
            emulator.store,
            tenant=config.tenant,
            client_id=config.client_id,
            graph_url=lambda: config.graph_url,
        ),
    )
    app.state.operations = operations
    resolve = operations.resolve_mailbox
    app.user_middleware.insert(
        0,
        Middleware(RequestCountingMiddleware, counts=operations.requests, resolve_mailbox=resolve),
    )
    app.user_middleware.insert(
        0, Middleware(DeliveryLoopMiddleware, delivery=operations.subscriptions.delivery)
    )
    app.user_middleware.append(
        Middleware(FaultInjectionMiddleware, injector=operations.faults, resolve_mailbox=resolve)
    )
    app.user_middleware.append(
        Middleware(ThrottlingMiddleware, throttle=operations.throttle, resolve_mailbox=resolve)
    )
    graph_routes = [
        Route("/v1.0/$batch", batch_endpoint, methods=["POST"]),
        Route("/v1.0/subscriptions", create_subscription, methods=["POST"]),
        Route("/v1.0/subscriptions", list_subscriptions, methods=["GET"]),
        Route("/v1.0/subscriptions/{subscription_id}", get_subscription, methods=["GET"]),
        Route("/v1.0/subscriptions/{subscription_id}", update_subscription, methods=["PATCH"]),
        Route("/v1.0/subscriptions/{subscription_id}", delete_subscription, methods=["DELETE"]),
        Route(
            "/v1.0/subscriptions/{subscription_id}/reauthorize",
            reauthorize_subscription,
            methods=["POST"],
        ),
    ]
    app.router.routes[0:0] = [*graph_routes, *control_routes()]
    return operations
