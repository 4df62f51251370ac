"""The interactive API docs, served entirely by the app: no CDN, no inline script.

``/docs`` and ``/docs/swagger`` are Swagger UI 5.31.0 from the pinned PyPI package
``swagger-ui-bundle-v2`` (Apache-2.0); its JS and CSS, and the app's own start-up script
(``app/static/swagger-init.js``, which reads the document's URL from a data attribute), are served under
``/docs/assets/``. ``/docs/openapi.json`` is the document. ``/swagger`` redirects to ``/docs/swagger``.
Scalar is not used: no pinned package ships its standalone bundle, and it injects inline styles, which
the pages' Content-Security-Policy forbids (see :mod:`app.security_headers`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.response import File, Redirect
from swagger_ui_bundle import swagger_ui_path

from app.errors import NotFound

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
SWAGGER_UI_VERSION = "5.31.0"
_VENDOR = Path(str(swagger_ui_path))
_OWN = Path(__file__).parent / "static"
# The only files served under /docs/assets/ (the vendor folder also holds a demo page pointing elsewhere).
ASSETS: dict[str, Path] = {
    "swagger-ui-bundle.js": _VENDOR / "swagger-ui-bundle.js",
    "swagger-ui.css": _VENDOR / "swagger-ui.css",
    "swagger-init.js": _OWN / "swagger-init.js",
    "pages.css": _OWN / "pages.css",
}
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css?v={version}">
<link rel="stylesheet" href="{assets}/pages.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js?v={version}"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


class SwaggerUIPage(OpenAPIRenderPlugin):
    """Swagger UI from the app's own assets; the page itself holds no script or style."""

    def __init__(self, path: str | list[str]) -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _PAGE.format(
            title=html.escape(str(openapi_schema["info"]["title"])),
            assets=ASSETS_PATH,
            version=SWAGGER_UI_VERSION,
            openapi_url=html.escape(self.get_openapi_json_route(request)),
        ).encode()


def openapi_config(title: str, version: str, description: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title=title, version=version, description=description, path=DOCS_PATH,
        render_plugins=[SwaggerUIPage(path=["/", "/swagger"])],
    )


@get(f"{ASSETS_PATH}/{{name:str}}", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def docs_asset(name: str) -> File:
    """One of the files above; anything else is a 404."""
    path = ASSETS.get(name)
    if path is None:
        raise NotFound(f"No asset {name!r}.", code="asset_not_found")
    return File(path=path, filename=name, content_disposition_type="inline",
                headers={"Cache-Control": "public, max-age=3600"})


@get("/swagger", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def swagger_redirect() -> Redirect:
    """The old address of the Swagger UI page."""
    return Redirect(f"{DOCS_PATH}/swagger", status_code=308)


ROUTES = [docs_asset, swagger_redirect]
