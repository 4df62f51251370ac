"""``GET /``: what a person (HTML) or a program (``Accept: application/json``) can open from here.

Data-driven: :data:`CORE_LINKS` plus each feature package's optional ``PAGES`` (a list of :class:`Link`),
collected by ``app.main``. At start-up only the links whose path the app really routes are kept, so an
entry may be declared before its route exists (``/asyncapi.json``) and shows up once it does.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.enums import MediaType


class Link(msgspec.Struct, frozen=True):
    href: str
    title: str
    description: str = ""


CORE_LINKS: tuple[Link, ...] = (
    Link("/docs", "API docs", "Interactive API reference (Swagger UI), served by the app itself"),
    Link("/docs/openapi.json", "OpenAPI document", "The HTTP API, machine-readable"),
    Link("/asyncapi.json", "AsyncAPI document", "The WebSocket channels, machine-readable"),
    Link("/health/ready", "Readiness", "PostgreSQL and Redis answer (operators: /health/detail)"),
)
TITLE = "G Resort API"


def routed_paths(app: Litestar) -> set[str]:
    return {route.path for route in app.routes}


def publish_links(links: Iterable[Link]) -> Callable[[Litestar], None]:
    """An ``on_startup`` hook keeping the links whose path exists in ``app`` (in order, no duplicates)."""
    wanted = list(links)

    def publish(app: Litestar) -> None:
        paths = routed_paths(app)
        kept = {link.href: link for link in wanted if link.href.split("?", 1)[0] in paths}
        app.state.index_links = tuple(kept.values())

    return publish


def render_html(links: Iterable[Link]) -> str:
    items = "\n".join(
        f'<li><a href="{html.escape(link.href)}">{html.escape(link.title)}</a> <code>{html.escape(link.href)}</code>'
        f"<br>{html.escape(link.description)}</li>"
        for link in links
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{TITLE}</title>\n<link rel="icon" href="data:,">\n'
        '<link rel="stylesheet" href="/docs/assets/pages.css">\n</head>\n'
        f'<body>\n<main class="index">\n<h1>{TITLE}</h1>\n<ul>\n{items}\n</ul>\n</main>\n</body>\n</html>\n'
    )


@get("/", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def index(request: Request[Any, Any, Any]) -> Response[Any]:
    """An HTML page of links, or the same links as JSON for ``Accept: application/json``."""
    links: tuple[Link, ...] = request.app.state.index_links
    vary = {"Vary": "Accept"}
    if request.accept.best_match([MediaType.HTML, MediaType.JSON], default=MediaType.HTML) == MediaType.JSON:
        return Response({"title": TITLE, "links": msgspec.to_builtins(links)}, media_type=MediaType.JSON,
                        headers=vary)
    return Response(render_html(links), media_type=MediaType.HTML, headers=vary)
