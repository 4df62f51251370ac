"""HTTP conventions of the catalogue: ETags from versions, If-Match / If-None-Match, the caller's language.

ETags are strong and derived from the aggregate version: ``"v12"`` for an admin resource, ``"v12-en"``
for a product view in a language. ``If-Match`` is REQUIRED on updates of properties, products and
details (missing: 428 ``precondition_required``; stale: 412 ``precondition_failed``); on bulk price and
inventory writes it is optional and checked against the product's version when sent.
"""

from __future__ import annotations

import re

from app.errors import PreconditionFailed, PreconditionRequired

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
_ETAG = re.compile(r'^(?:W/)?"v(\d+)(?:-[a-z]{2})?"$')


def etag(version: int, lang: str | None = None) -> str:
    return f'"v{version}-{lang}"' if lang else f'"v{version}"'


def etag_versions(header: str) -> list[int] | None:
    """Versions named by an ``If-Match`` header; None for ``*`` (any version)."""
    if header.strip() == "*":
        return None
    versions = []
    for part in header.split(","):
        match = _ETAG.match(part.strip())
        if match:
            versions.append(int(match[1]))
    return versions


def check_if_match(header: str | None, current: int, *, required: bool = True) -> None:
    """Refuse a write whose ``If-Match`` does not name the current version."""
    if header is None or not header.strip():
        if required:
            raise PreconditionRequired("send If-Match with the ETag you read")
        return
    versions = etag_versions(header)
    if versions is not None and current not in versions:
        raise PreconditionFailed(
            f"the resource is at version {current}; re-read it and retry",
            extra={"current_etag": etag(current)},
            headers={"ETag": etag(current)},
        )


def not_modified(if_none_match: str | None, current_etag: str) -> bool:
    """True when the client's ``If-None-Match`` already names ``current_etag`` (answer 304)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or current_etag in tags


def pick_language(query: str | None, accept_language: str | None, principal_locale: str | None) -> str:
    """``?lang=`` first, then ``Accept-Language`` (by q-value), then the user's locale, then Korean."""
    if query and query.lower()[:2] in LANGUAGES:
        return query.lower()[:2]
    best = _from_accept_language(accept_language or "")
    if best:
        return best
    if principal_locale and principal_locale.lower()[:2] in LANGUAGES:
        return principal_locale.lower()[:2]
    return DEFAULT_LANGUAGE


def _from_accept_language(header: str) -> str | None:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in LANGUAGES and q > 0:
            ranked.append((-q, index, lang))
    return min(ranked)[2] if ranked else None
