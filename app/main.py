"""``create_app()``: the api role. Each feature package contributes routes, middleware, a lifespan, links."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from litestar import Litestar, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.plugins.prometheus import PrometheusConfig

from app import docs, index
from app.clientaddr import parse_networks
from app.contract.names import PublicNames
from app.contract.version import stamp_version
from app.errors import EXCEPTION_HANDLERS
from app.health import HealthController
from app.health.checks import Readiness
from app.health.controller import ProbeLimiter
from app.http_semantics.caching import read_caching
from app.http_semantics.head import http_semantics
from app.observability import MetricsController, RequestContextMiddleware, configure_logging
from app.problem_docs import document_api
from app.resources import Resources, open_resources
from app.security_headers import SecurityHeadersMiddleware
from app.settings import Settings, get_settings
from app.strict_bodies import StrictRequest
from app.tracing import http as tracing_http
from app.tracing import setup as tracing_setup
from realtime.endpoint import RawSend

# The composition root: each feature declares itself in its ``api`` module, with ``ROUTES`` and optionally
# ``MIDDLEWARE``, ``lifespan(app, resources)``, ``DOCUMENTS`` (beanie models, bound by ``open_resources``)
# and ``PAGES`` (``app.index.Link`` entries for the index at ``/``; HTML pages get the security headers
# anyway). Only this module knows the list; the infrastructure (``app.resources``, ``app.db``) imports no
# feature, and a feature's domain imports no web stack.
FEATURES = ("app.auth.api", "app.catalog.api", "app.search.api", "app.holds.api", "app.bookings.api",
            "app.frontdesk.api", "realtime.api", "app.activity.api", "app.recommend.api")


def _features() -> list[ModuleType]:
    return [importlib.import_module(name) for name in FEATURES]


def documents_of(features: list[ModuleType]) -> list[Any]:
    """The beanie document models the features declare, each once, in feature order."""
    return list(dict.fromkeys(model for feature in features for model in getattr(feature, "DOCUMENTS", ())))


def provide_resources(state: State) -> Resources:
    return state.resources


def provide_settings(state: State) -> Settings:
    return state.settings


@get("/ping", summary="A bare JSON endpoint: the benchmarks' baseline", opt={"public": True}, include_in_schema=False)
async def ping() -> dict[str, str]:
    return {"pong": "ok"}


# What a browser page of an allowed origin may read of an answer (besides the CORS-safelisted headers).
EXPOSED_HEADERS = ["ETag", "Location", "Retry-After", "Content-Language", "X-Request-Id"]


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for exactly the origins the settings name (none: no CORS headers at all)."""
    if not settings.cors_origins:
        return None
    return CORSConfig(allow_origins=settings.cors_origins, expose_headers=EXPOSED_HEADERS)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)
    tracing_setup.configure(settings, "api")
    features = _features()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_resources(settings, documents_of(features)) as resources, contextlib.AsyncExitStack() as stack:
            app.state.resources = resources
            app.state.readiness = Readiness(resources)
            stack.push_async_callback(app.state.readiness.close)
            stack.callback(tracing_setup.shutdown)  # the last spans exported on the way out
            for feature in features:
                if hasattr(feature, "lifespan"):
                    await stack.enter_async_context(feature.lifespan(app, resources))
            yield

    prometheus = PrometheusConfig(app_name="resort", prefix="resort", group_path=True, exclude=["/metrics"])
    middleware: list[Any] = [prometheus.middleware, read_caching(settings)]
    for feature in features:
        middleware.extend(getattr(feature, "MIDDLEWARE", []))
    routes: list[Any] = [HealthController, MetricsController, ping, index.index, *docs.ROUTES]
    links = list(index.CORE_LINKS)
    for feature in features:
        routes.extend(feature.ROUTES)
        links.extend(getattr(feature, "PAGES", []))

    app = Litestar(
        route_handlers=routes,
        middleware=middleware,
        plugins=[PublicNames(), *tracing_http.plugins()],  # schema names; HTTP spans, only when tracing is on
        lifespan=[lifespan],
        on_startup=[document_api, stamp_version, index.publish_links(links)],
        state=State({"settings": settings, "probe_limiter": ProbeLimiter()}),
        dependencies={"resources": Provide(provide_resources, sync_to_thread=False),
                      "settings": Provide(provide_settings, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_class=StrictRequest,
        cors_config=cors_config(settings),
        openapi_config=docs.openapi_config(
            title="G Resort API",
            version="0.1.0",
            description="Single sign-on, catalogue, search, availability and bookings of the G Resort group. "
            "Live updates: the WebSocket `/live`, documented by the AsyncAPI document at "
            "[/asyncapi.json](/asyncapi.json); pages [/live/guest](/live/guest) and "
            "[/live/frontdesk](/live/frontdesk).",
        ),
        logging_config=None,  # app.observability configures structlog and the stdlib once
        debug=False,
    )
    # Outermost, so unknown routes and errors raised before any handler get a request id and the headers too.
    # RawSend (realtime): /live writes its frames with the server's own send, past the per-call wrappers.
    # http_semantics: HEAD on every GET route, whatever the feature; Vary merged past CORS.
    app.asgi_handler = RawSend(http_semantics(SecurityHeadersMiddleware(
        RequestContextMiddleware(app.asgi_handler, parse_networks(settings.trusted_proxies)), settings)))
    return app


def asgi() -> Litestar:
    """Factory for ``uvicorn --factory app.main:asgi``."""
    return create_app()
