"""The gateway: one middleware in front of every route that authenticates the caller.

Policy: every route requires a valid token unless its handler has ``opt={"public": True}``. On a public
route a valid token still sets the principal (personalisation); an invalid, expired or revoked token is
refused with 401 everywhere. ``/docs``, ``/swagger``, ``/metrics`` and ``/health`` bypass it entirely.
Roles and scopes are then enforced per route by the guards in :mod:`app.auth.guards`.

Token floods: every refused token counts against its client address (``rate_limit_bad_tokens_per_minute``);
once an address has spent that budget, a token this instance has not verified before is answered 429 before
any verification work, and only a sample of the flood's refusals (the first few, then one in a hundred,
each with the count so far) becomes an audit row. Tokens already verified (cached) still pass.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.exceptions import RedisError

from app.auth.audit import AUTH_REFUSALS
from app.auth.guards import sign_in_required
from app.auth.jwtcheck import TokenRejected, scopes_of, split_token
from app.auth.principal import Principal
from app.auth.ratelimit import limited
from app.auth.service import AuthService
from app.clientaddr import client_ip
from app.errors import PROBLEM_JSON, AppError, Forbidden, Unauthorized, problem_document

ACCESS_COOKIE = "resort_access"
REFRESH_COOKIE = "resort_refresh"
CSRF_COOKIE = "resort_csrf"
CSRF_HEADER = b"x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PARTNER_TYP = "at+jwt"
BAD_TOKENS = "bad-token"
AUDIT_FIRST, AUDIT_EVERY = 5, 100
DENIAL = "websocket.http.response"  # the ASGI extension a server offers for refusing a handshake over HTTP
log = structlog.get_logger("app.auth.gateway")


class TokenFlood(Exception):
    """This address sent too many invalid tokens in the current window."""


def sampled(count: int) -> bool:
    """Whether the ``count``-th refusal of an address in a window is written to the audit log."""
    return count <= AUDIT_FIRST or count % AUDIT_EVERY == 0


def parse_cookies(raw: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in raw.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def bearer_or_cookie(scope: Scope) -> tuple[str | None, bool]:
    """The access token and whether it came from the cookie (then CSRF applies to unsafe methods)."""
    authorization = header(scope, b"authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected("malformed_authorization")
        return token.strip(), False
    cookie = header(scope, b"cookie")
    if cookie:
        token = parse_cookies(cookie).get(ACCESS_COOKIE)
        if token:
            return token, True
    return None, False


def _same(a: str, b: str) -> bool:
    """Constant-time equality of header-borne strings (as bytes: ``compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(a.encode(), b.encode())


def check_csrf(scope: Scope, session_csrf: str | None = None) -> None:
    """Double submit: the header must equal the cookie, and both the session's own CSRF value when given."""
    sent = header(scope, CSRF_HEADER) or ""
    cookie = parse_cookies(header(scope, b"cookie") or "").get(CSRF_COOKIE, "")
    if not sent or not _same(sent, cookie) or (session_csrf is not None and not _same(sent, session_csrf)):
        raise Forbidden("The CSRF token is missing or does not match.", code="csrf_failed")


async def _user(auth: AuthService, token: str, claims: dict[str, Any], scope: Scope, via_cookie: bool) -> Principal:
    session = await auth.live.get(claims["sid"])
    if session is None or session.subject != claims["sub"]:
        raise TokenRejected("session_ended")
    if via_cookie and scope.get("method", "GET") not in SAFE_METHODS:
        check_csrf(scope, session.csrf)
    return Principal(
        subject=claims["sub"], kind="user", roles=tuple(claims["roles"]), session_id=session.id,
        locale=session.locale or None, name=session.name or None, email=session.email or None,
        token_id=claims.get("jti"), expires_at=int(claims["exp"]),
    )


def _partner(claims: dict[str, Any]) -> Principal:
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise TokenRejected("missing_client_id")
    return Principal(
        subject=str(claims["sub"]), kind="partner", roles=("partner",), scopes=scopes_of(claims),
        client_id=client_id, token_id=claims.get("jti"), expires_at=int(claims["exp"]),
    )


async def flooding(auth: AuthService, ip: str) -> bool:
    """Whether ``ip`` has spent its budget of refused tokens. The budget is a shield, not a gate: with Redis
    unreachable or its pool exhausted (a burst), tokens are still verified, never answered 500 or 503."""
    try:
        return await auth.limiter.exhausted(BAD_TOKENS, f"ip:{ip}", auth.settings.rate_limit_bad_tokens_per_minute)
    except (RedisError, OSError) as exc:
        log.warning("bad_token_budget_unavailable", error=str(exc) or type(exc).__name__)
        return False


async def _claims(auth: AuthService, token: str, via_cookie: bool, ip: str) -> tuple[dict[str, Any], bool]:
    """Verified claims (from the local cache when this exact token was verified before) and whether the
    token is a partner's. The unverified ``iss`` only picks the verifier; each verifier checks it again."""
    cached = auth.verified.get(token)
    partner_issuer = auth.settings.oidc_issuer
    # A partner token is never accepted from the cookie, cached or not.
    if cached is not None and not (via_cookie and cached.get("iss") == partner_issuer):
        return cached, cached.get("iss") == partner_issuer
    if await flooding(auth, ip):
        raise TokenFlood()
    _, unverified = split_token(token)
    if unverified.get("iss") == partner_issuer and not via_cookie:
        claims = await auth.idp.verify(token, audience=auth.settings.oidc_api_audience, typ=PARTNER_TYP,
                                       required=("iss", "aud", "sub", "exp", "iat", "client_id"))
        partner = True
        client_id = claims.get("client_id")
        auth.audit.record("partner_token", "accepted", actor=f"client:{client_id}", client_id=str(client_id),
                          jti=claims.get("jti"), scope=claims.get("scope"))
    else:
        claims = auth.tokens.verify(token)
        partner = False
    auth.verified.put(token, claims)
    return claims, partner


async def authenticate(auth: AuthService, token: str, scope: Scope, via_cookie: bool) -> Principal:
    claims, partner = await _claims(auth, token, via_cookie, client_ip(scope))
    if partner:
        return _partner(claims)
    return await _user(auth, token, claims, scope, via_cookie)


async def _count_refusal(auth: AuthService, scope: Scope, reason: str) -> None:
    """Count a refused token against its address; audit a sample of a flood."""
    AUTH_REFUSALS.labels(reason).inc()
    ip = client_ip(scope)
    try:
        count = await auth.limiter.count(BAD_TOKENS, f"ip:{ip}")
    except (RedisError, OSError):
        count = 1  # uncounted while Redis is away: audited as a first refusal
    if sampled(count):
        auth.audit.record("access", "refused", ip=ip, user_agent=header(scope, b"user-agent"), reason=reason,
                          path=scope.get("path"), method=scope.get("method"), refusals_this_minute=count)


async def refuse(auth: AuthService, scope: Scope, exc: TokenRejected) -> Unauthorized:
    """Count, log and audit (sampled) a refusal; the 401 to raise."""
    await _count_refusal(auth, scope, exc.reason)
    return unauthorized(exc)


def unauthorized(exc: TokenRejected) -> Unauthorized:
    """The 401 a refused token gets: expired (refresh), session ended (sign in again) or invalid."""
    if exc.expired:
        code, detail = "token_expired", "The access token has expired; refresh it."
    elif exc.reason == "session_ended":
        code, detail = "session_ended", "The session has ended; sign in again."
    else:
        code, detail = "invalid_token", f"The access token is not valid ({exc.reason})."
    return Unauthorized(detail, code=code,
                        headers={"WWW-Authenticate": 'Bearer realm="resort", error="invalid_token"'})


def admit(principal: Principal | None, public: bool, scope: Scope) -> str:
    """Whether the request goes on (a 401 without a principal on a non-public route), and the key its API
    rate limit is counted under: the principal's, or the client address's for anonymous calls."""
    if principal is None and not public:
        AUTH_REFUSALS.labels("no_token").inc()
        raise sign_in_required()
    return principal.actor if principal is not None else f"ip:{client_ip(scope)}"


class Gateway(ASGIMiddleware):
    """Authenticates every request (see the module docstring for the policy)."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)
    exclude_path_pattern = ("^/docs", "^/swagger", "^/metrics", "^/health")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] == ScopeType.WEBSOCKET and DENIAL in scope.get("extensions", {}):
            try:
                await self.admit(scope)
            except AppError as exc:  # the handshake's refusal as an HTTP answer: 401, 403 and 429 stay apart
                await deny(scope, send, exc)
                return
        else:
            await self.admit(scope)
        await next_app(scope, receive, send)

    async def admit(self, scope: Scope) -> None:
        auth: AuthService = scope["litestar_app"].state.auth
        public = bool(scope["route_handler"].opt.get("public"))
        try:
            token, via_cookie = bearer_or_cookie(scope)
            principal = await authenticate(auth, token, scope, via_cookie) if token else None
        except TokenRejected as exc:
            raise await refuse(auth, scope, exc) from None
        except TokenFlood:
            await _count_refusal(auth, scope, "token_flood")
            raise limited(BAD_TOKENS) from None
        except Forbidden as exc:
            auth.audit.record("access", "refused", ip=client_ip(scope), reason=exc.code, path=scope.get("path"))
            AUTH_REFUSALS.labels(exc.code).inc()
            raise
        who = admit(principal, public, scope)
        if principal is not None:
            scope.setdefault("state", {})["principal"] = principal
        await auth.limiter.hit("api", who, auth.settings.rate_limit_api_per_minute)


async def deny(scope: Scope, send: Send, exc: AppError) -> None:
    """Refuse a WebSocket handshake with the error's own status and problem+json body (the ASGI denial
    response extension), instead of the bare 403 a close before accept becomes."""
    body = json.dumps(problem_document(exc.status, exc.code, exc.title, exc.detail, scope.get("path"),
                                       scope.get("state", {}).get("request_id"), exc.extra)).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
               *((k.lower().encode(), v.encode()) for k, v in exc.headers.items())]
    await send({"type": "websocket.http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})
