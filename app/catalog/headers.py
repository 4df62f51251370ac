"""HTTP conventions of the catalogue: ETags from versions, If-Match / If-None-Match, the caller's language.

ETags are strong and derived from the aggregate version: ``"v12"`` for an admin resource, ``"v12-en"``
for a product view in a language. The controllers parse ``If-Match`` here into the typed
:class:`~app.catalog.domain.ExpectedVersion` the services check (``writes.check_version``): REQUIRED on
updates of properties, products and details (missing: 428 ``precondition_required``; stale: 412
``precondition_failed``); on bulk price and inventory writes optional, checked when sent.
"""

from __future__ import annotations

import re

from app.catalog.domain import ANY_VERSION, ExpectedVersion

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
_ETAG = re.compile(r'^(?:W/)?"v(\d+)(?:-[a-z]{2})?"$')


def etag(version: int, lang: str | None = None) -> str:
    return f'"v{version}-{lang}"' if lang else f'"v{version}"'


def expected_version(if_match: str | None) -> ExpectedVersion | None:
    """The versions an ``If-Match`` header names, for the services: None when absent or blank, any
    version for ``*``; a tag that names no version of ours matches none."""
    if if_match is None or not if_match.strip():
        return None
    if if_match.strip() == "*":
        return ANY_VERSION
    matches = (_ETAG.match(part.strip()) for part in if_match.split(","))
    return ExpectedVersion(frozenset(int(m[1]) for m in matches if m))


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
