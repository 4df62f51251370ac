"""Response bodies of the auth endpoints, as the OpenAPI document describes them (see app.problem_docs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from msgspec import UNSET, Struct, UnsetType


class LoginStart(Struct, kw_only=True):
    authorization_url: str
    state: str
    login_binding: str  # the app sends it back as X-Login-Binding with the callback


class Tokens(Struct, kw_only=True):
    """The app's tokens (mobile: JSON body); a browser gets cookies and only ``expires_in``."""

    expires_in: int
    access_token: str | UnsetType = UNSET
    token_type: str | UnsetType = UNSET
    refresh_token: str | UnsetType = UNSET
    session_id: str | UnsetType = UNSET


class LoggedOut(Struct, kw_only=True):
    logged_out: bool
    end_session_url: str | None


class SessionsEnded(Struct, kw_only=True):
    sessions_ended: int


class KeySet(Struct, kw_only=True):
    keys: list[dict[str, Any]]


class Profile(Struct, kw_only=True):
    email: str | None
    email_verified: bool | None
    name: str | None
    locale: str | None
    groups: list[str]
    last_login_at: dt.datetime | None


class Me(Struct, kw_only=True):
    subject: str
    kind: str
    roles: list[str]
    scopes: list[str]
    locale: str | None
    name: str | None
    email: str | None
    session_id: str | None
    client_id: str | None
    profile: Profile | UnsetType = UNSET  # users known to the database


class SessionOut(Struct, kw_only=True):
    id: str
    created: int
    last_seen: int
    expires: int
    ip: str
    user_agent: str


class MySession(SessionOut, kw_only=True):
    current: bool


class MySessions(Struct, kw_only=True):
    items: list[MySession]


class UserSessions(Struct, kw_only=True):
    subject: str
    items: list[SessionOut]


class SessionsRevoked(Struct, kw_only=True):
    subject: str
    revoked: list[str]
