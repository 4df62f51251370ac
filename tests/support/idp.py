"""Scripted use of the local OpenID Connect provider (``oidc/provider.mjs``) in tests.

The provider runs oidc-provider's built-in development login and consent forms.
These helpers fill them in with plain HTTP form posts, the way a browser would,
and hand back the redirect that points at the relying party without following it.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

__all__ = [
    "IdpError",
    "IdpLoginError",
    "client_credentials_token",
    "complete_idp_login",
    "complete_idp_logout",
    "discover",
]

_MAX_STEPS = 20
_TIMEOUT = 10.0


class IdpError(RuntimeError):
    """The provider answered something the scripted flow did not expect."""


class IdpLoginError(IdpError):
    """The provider rejected the login name or password."""


class _Form:
    """One HTML form: its action, method and the named input values."""

    def __init__(self, action: str, method: str, form_id: str | None) -> None:
        self.action = action
        self.method = method
        self.id = form_id
        self.fields: dict[str, str] = {}


class _FormParser(HTMLParser):
    """Collects the forms of a page and whether it shows a login error."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.login_error = False
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._current = _Form(
                attributes.get("action", ""),
                attributes.get("method", "get").lower(),
                attributes.get("id"),
            )
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attributes.get("name"):
            self._current.fields[attributes["name"]] = attributes.get("value", "")
        if attributes.get("id") == "login-error":
            self.login_error = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


_PageAnswer = Callable[[_FormParser, httpx.Response], "tuple[_Form, dict[str, str]] | None"]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


def _snippet(response: httpx.Response) -> str:
    return f"{response.status_code} {response.request.method} {response.request.url}: {response.text[:500]}"


async def _walk(
    client: httpx.AsyncClient,
    response: httpx.Response,
    provider_origin: tuple[str, str],
    answer_page: _PageAnswer,
) -> str:
    """Follow redirects and answer forms on the provider until a redirect leaves it."""
    for _ in range(_MAX_STEPS):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if _origin(location) != provider_origin:
                return location
            response = await client.get(location, follow_redirects=False)
            continue
        if response.status_code != 200:
            raise IdpError(f"unexpected answer from the provider: {_snippet(response)}")
        page = _parse(response.text)
        step = answer_page(page, response)
        if step is None:
            # A page with nothing left to submit (e.g. the logout success page).
            return str(response.url)
        form, data = step
        action = urljoin(str(response.url), form.action or str(response.url))
        if form.method == "post":
            response = await client.post(action, data=data, follow_redirects=False)
        else:
            response = await client.get(action, params=data, follow_redirects=False)
    raise IdpError(f"no redirect back to the client after {_MAX_STEPS} steps")


async def discover(issuer: str, *, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """Fetch the provider's ``/.well-known/openid-configuration`` document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    if client is None:
        async with httpx.AsyncClient(timeout=_TIMEOUT) as own:
            response = await own.get(url)
    else:
        response = await client.get(url)
    response.raise_for_status()
    return response.json()


async def complete_idp_login(
    authorize_url: str,
    login: str,
    password: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
) -> str:
    """Sign ``login`` in through the provider's dev forms and return the redirect back.

    ``authorize_url`` is the full authorization request URL (as the backend's
    login endpoint redirects to). The login form is posted with ``login`` and
    ``password`` (default ``<login>-password``), the consent form is confirmed
    when shown, and redirects are followed while they stay on the provider.
    The returned URL is the one that leaves the provider, normally
    ``<redirect_uri>?code=...&state=...&iss=...`` (or ``?error=...``); it is
    not requested. Pass ``client`` to keep the provider's session cookie for a
    later silent login or logout; otherwise a private client is used.
    """
    secret = password if password is not None else f"{login}-password"
    provider_origin = _origin(authorize_url)
    submitted_login = False

    def answer(page: _FormParser, response: httpx.Response) -> tuple[_Form, dict[str, str]]:
        nonlocal submitted_login
        if page.login_error:
            raise IdpLoginError(f"the provider rejected the login {login!r}")
        for form in page.forms:
            prompt = form.fields.get("prompt")
            if prompt == "login":
                if submitted_login:
                    raise IdpLoginError(f"the provider asked for the login of {login!r} again")
                submitted_login = True
                return form, {**form.fields, "login": login, "password": secret}
            if prompt == "consent":
                return form, dict(form.fields)
        raise IdpError(f"no login or consent form on the provider's page: {_snippet(response)}")

    own_client = client is None
    http = client if client is not None else httpx.AsyncClient(timeout=_TIMEOUT)
    try:
        response = await http.get(authorize_url, follow_redirects=False)
        return await _walk(http, response, provider_origin, answer)
    finally:
        if own_client:
            await http.aclose()


async def complete_idp_logout(
    end_session_url: str,
    *,
    client: httpx.AsyncClient,
) -> str:
    """Confirm an RP-initiated logout on the provider and return where it sends the user.

    ``client`` must be the one that signed in (it holds the provider's session
    cookie). The "sign me out" form is submitted with ``logout=yes``, which
    ends the whole provider session and makes the provider post back-channel
    logout tokens to each client that has a ``backchannel_logout_uri``. The
    result is the ``post_logout_redirect_uri`` (with ``state``) when one was
    sent, else the provider's own logout success page URL.
    """
    provider_origin = _origin(end_session_url)

    def answer(page: _FormParser, response: httpx.Response) -> tuple[_Form, dict[str, str]] | None:
        for form in page.forms:
            if "xsrf" in form.fields:
                return form, {**form.fields, "logout": "yes"}
        return None

    response = await client.get(end_session_url, follow_redirects=False)
    return await _walk(client, response, provider_origin, answer)


async def client_credentials_token(
    issuer: str,
    client_id: str,
    secret: str,
    scope: str,
    *,
    resource: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """Run the client credentials grant (client_secret_basic) and return the JSON answer.

    Errors are returned too (e.g. ``{"error": "invalid_scope", ...}``); without
    ``resource`` the provider issues a JWT for its default API audience.
    """
    data = {"grant_type": "client_credentials", "scope": scope}
    if resource is not None:
        data["resource"] = resource
    own_client = client is None
    http = client if client is not None else httpx.AsyncClient(timeout=_TIMEOUT)
    try:
        metadata = await discover(issuer, client=http)
        response = await http.post(
            metadata["token_endpoint"],
            data=data,
            auth=httpx.BasicAuth(client_id, secret),
        )
        try:
            return response.json()
        except ValueError as exc:
            raise IdpError(f"token endpoint answered no JSON: {_snippet(response)}") from exc
    finally:
        if own_client:
            await http.aclose()
