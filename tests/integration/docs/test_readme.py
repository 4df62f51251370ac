"""README.md names only addresses the app answers: each local URL and API path in it is requested."""

from __future__ import annotations

import re

from app.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()
BASE = "http://127.0.0.1:8000"
FULL_URL = re.compile(re.escape(BASE) + r"(/[^\s`'\"<>()]*)?")
METHOD_PATH = re.compile(r"`((?:GET|POST|PUT|PATCH|DELETE)(?:\|(?:GET|POST|PUT|PATCH|DELETE))*) +(/[^`\s]*)`")
BARE_PATH = re.compile(r"`(/[A-Za-z0-9._/{}<>?=&-]*)`")


def _path(raw: str) -> str:
    """Placeholders (``{sub}``, ``<role>``) become a concrete segment; sentence punctuation is dropped."""
    return re.sub(r"\{[^}]*\}|<[^>]*>", "readme", raw.rstrip(".,;:"))


def full_urls() -> list[str]:
    return sorted({_path(match.group(1) or "/") for match in FULL_URL.finditer(README)})


def named_paths() -> list[tuple[str, str]]:
    named = {(method, _path(m.group(2))) for m in METHOD_PATH.finditer(README) for method in m.group(1).split("|")}
    named |= {("GET", _path(m.group(1))) for m in BARE_PATH.finditer(README)}
    return sorted(named)


def test_readme_names_the_pages_people_open() -> None:
    assert {"/", "/docs", "/docs/swagger", "/docs/openapi.json", "/health/ready"} <= set(full_urls())
    assert ("GET", "/metrics") in named_paths()


async def test_every_local_url_in_the_readme_answers(client) -> None:
    for path in full_urls():
        response = await client.get(path, follow_redirects=False)
        assert response.status_code < 400, f"README.md names {BASE}{path}: {response.status_code}"


async def test_every_api_path_in_the_readme_exists(client) -> None:
    for method, path in named_paths():
        response = await client.request(method, path, follow_redirects=False)
        assert response.status_code not in (404, 405), f"README.md names `{method} {path}`: {response.status_code}"
