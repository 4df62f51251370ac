"""The live pages (plain HTML, external scripts only: the security headers forbid inline ones) and
their static files: ``/live/guest``, ``/live/frontdesk``, ``/live/housekeeping``, ``/live/static/*``."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).resolve().parent / "static"


def _page(name: str) -> Response[bytes]:
    return Response((STATIC / f"{name}.html").read_bytes(), media_type="text/html",
                    headers={"Cache-Control": "no-cache"})


@get("/live/guest", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def guest_page() -> Response[bytes]:
    """Live availability of a resort over a date range, and a booking's progress."""
    return _page("guest")


@get("/live/frontdesk", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def frontdesk_page() -> Response[bytes]:
    """The front-desk dashboard (its data needs a front-desk or admin session)."""
    return _page("frontdesk")


@get("/live/housekeeping", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def housekeeping_page() -> Response[bytes]:
    """Housekeeping on a phone: rooms and their state (its data needs a housekeeping, front-desk or admin
    session of the property)."""
    return _page("housekeeping")


static_files = create_static_files_router(path="/live/static", directories=[STATIC], name="live-static",
                                          opt={"public": True}, include_in_schema=False)
ROUTES = [guest_page, frontdesk_page, housekeeping_page, static_files]
