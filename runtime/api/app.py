"""The FastAPI application: shared resources opened once by the lifespan, middleware around
every request, problem+json for every error, and the routers of each resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from simptu.runtime.api.cors import TenantCors
from simptu.runtime.api.middleware import BodySizeLimit, RequestContext
from simptu.runtime.api.openapi import describe_wall_clock_times
from simptu.runtime.api.platform import open_platform
from simptu.runtime.api.problems import install_problem_handlers
from simptu.runtime.api.routes import (
    access_codes,
    admin,
    bookings,
    catalogue,
    deliveries,
    guest,
    guides,
    health,
    inbox,
    invitation_pages,
    invitations,
    knowledge,
    me,
    meta_webhooks,
    platform_mails,
    rating_pages,
    ratings,
    sessions,
    twilio_webhooks,
    widget,
)
from simptu.runtime.api.settings import ApiSettings


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()  # type: ignore[call-arg]  # read from the environment

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_platform(settings) as platform:
            app.state.platform = platform
            yield

    app = FastAPI(title="Simptu API", version="1", lifespan=lifespan,
                  description="Multi-tenant API of the Simptu business assistant. The tenant "
                  "comes from the host (<slug>.<base domain>), the X-Simptu-Tenant header or "
                  "the bearer token's issuer; errors are RFC 9457 problem+json.")
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(guest.router)
    app.include_router(me.router)
    app.include_router(sessions.router)
    app.include_router(catalogue.router)
    app.include_router(bookings.router)
    app.include_router(knowledge.router)
    app.include_router(invitations.router)
    app.include_router(invitation_pages.router)
    app.include_router(platform_mails.router)
    app.include_router(rating_pages.router)
    app.include_router(access_codes.router)
    app.include_router(ratings.router)
    app.include_router(admin.router)
    app.include_router(widget.router)
    app.include_router(inbox.router)
    app.include_router(meta_webhooks.router)
    app.include_router(deliveries.router)
    app.include_router(twilio_webhooks.router)
    guides.mount(app, settings.api_guides_dir)
    describe_wall_clock_times(app)
    # Added last = outermost: the trace id is bound before anything else runs.
    app.add_middleware(TenantCors)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestContext)
    return app
