"""Browser cookies: HttpOnly access and refresh tokens, and the readable CSRF double-submit value."""

from __future__ import annotations

from typing import Any

from litestar import Response

from app.auth.gateway import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from app.settings import Settings

REFRESH_PATH = "/auth/token"


def set_auth_cookies(response: Response[Any], settings: Settings, access: str, refresh: str, csrf: str) -> None:
    secure = settings.cookie_secure
    response.set_cookie(ACCESS_COOKIE, access, max_age=settings.access_token_ttl, path="/", secure=secure,
                        httponly=True, samesite="lax")
    response.set_cookie(REFRESH_COOKIE, refresh, max_age=settings.session_absolute_timeout, path=REFRESH_PATH,
                        secure=secure, httponly=True, samesite="strict")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=settings.session_absolute_timeout, path="/", secure=secure,
                        httponly=False, samesite="lax")


def clear_auth_cookies(response: Response[Any], settings: Settings) -> None:
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(name, path=path)
