"""Login, callback, refresh, logout and back-channel logout endpoints."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import Redirect

from app.auth.cookies import clear_auth_cookies, set_auth_cookies
from app.auth.flow import (
    BINDING_HEADER,
    GrantRevoked,
    LoginRefused,
    binding_cookie,
    finish_login,
)
from app.auth.gateway import REFRESH_COOKIE, check_csrf
from app.auth.guards import requires_user
from app.auth.idp import IdpUnavailable
from app.auth.jwtcheck import TokenRejected, split_token
from app.auth.oidc_claims import check_logout_token, safe_return_path
from app.auth.principal import current_principal
from app.auth.refresh import Rotation
from app.auth.responses import LoggedOut, LoginStart, SessionsEnded, Tokens
from app.auth.roles import current_roles
from app.auth.service import AuthService, auth_of
from app.auth.sessions import Session
from app.auth.users import profile_from_claims
from app.clientaddr import client_ip
from app.errors import BadRequest, Unauthorized
from app.problem_docs import returns

PUBLIC = {"public": True}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
IDP_DOWN = {503: ("service_unavailable",)}


def _redirect(status: int, description: str) -> dict[int, ResponseSpec]:
    return {status: ResponseSpec(None, description=description, generate_examples=False)}


class RefreshBody(msgspec.Struct, forbid_unknown_fields=False):
    refresh_token: str | None = None


class LogoutTokenForm(msgspec.Struct):
    logout_token: str


def _ip(request: Request[Any, Any, Any]) -> str | None:
    return client_ip(request.scope) or None


def _ua(request: Request[Any, Any, Any]) -> str | None:
    return request.headers.get("user-agent")


def _tokens_body(auth: AuthService, access: str, refresh: str, sid: str) -> dict[str, Any]:
    return {"access_token": access, "token_type": "Bearer", "expires_in": auth.settings.access_token_ttl,
            "refresh_token": refresh, "session_id": sid}


@get("/auth/login", opt=PUBLIC | {"problems": IDP_DOWN}, tags=["auth"], summary="Start single sign-on at the group IdP",
     responses=returns(LoginStart, description="With response=json: the IdP's authorization URL")
     | _redirect(302, "A browser is sent to the IdP (any other `response`)"))
async def login(request: Request[Any, Any, Any], response: str = "redirect", return_to: str = "/") -> Response[Any]:
    auth = auth_of(request.app)
    await auth.limiter.hit("login", f"ip:{_ip(request)}", auth.settings.rate_limit_login_per_minute)
    mode = "json" if response == "json" else "redirect"
    try:
        started = await auth.start_login(mode=mode, return_to=safe_return_path(return_to))
    except IdpUnavailable as exc:
        auth.audit.record("login", "idp_unavailable", ip=_ip(request), user_agent=_ua(request), error=str(exc)[:200])
        raise
    answer: Response[Any]
    if mode == "json":
        body = {"authorization_url": started.url, "state": started.state, "login_binding": started.binding}
        answer = Response(body, headers=NO_STORE)
    else:
        answer = Redirect(started.url, status_code=302, headers=NO_STORE)
    # Host-only (no Domain), HttpOnly, only sent to the callback, gone when the login state is.
    answer.set_cookie(binding_cookie(started.state), started.binding, max_age=auth.settings.login_state_ttl,
                      path="/auth/callback", secure=auth.settings.cookie_secure, httponly=True, samesite="lax")
    return answer


def _presented_binding(request: Request[Any, Any, Any], state: str) -> str | None:
    """The login binding from this login's cookie (browsers) or the X-Login-Binding header (apps)."""
    return request.cookies.get(binding_cookie(state)) or request.headers.get(BINDING_HEADER)


@get("/auth/callback", tags=["auth"], summary="The IdP's redirect back with the code",
     opt=PUBLIC | {"problems": IDP_DOWN, "rules": {
         400: "`state` must be one this api issued at /auth/login, once (`invalid_state`); then the IdP's answer"
              " must hold (`issuer_mismatch`, `idp_error`, `missing_code`, `code_exchange_failed`,"
              " `invalid_id_token`, `invalid_nonce`)"}},
     responses=returns(Tokens, description="The app's tokens (a login started with response=json)")
     | _redirect(303, "A browser is sent to `return_to` with the session cookies"))
async def callback(request: Request[Any, Any, Any], code: str = "", iss: str | None = None,
                   error: str | None = None,
                   login_state_id: Annotated[str, Parameter(query="state")] = "") -> Response[Any]:
    auth = auth_of(request.app)
    await auth.limiter.hit("login", f"ip:{_ip(request)}", auth.settings.rate_limit_login_per_minute)
    try:
        login_state = await auth.take_login_state(login_state_id, _presented_binding(request, login_state_id))
        if iss is not None and iss != auth.settings.oidc_issuer:
            raise LoginRefused("The authorization response names another issuer.", code="issuer_mismatch")
        if error:
            raise LoginRefused(f"The IdP answered {error}.", code="idp_error")
        if not code:
            raise LoginRefused("The authorization response has no code.", code="missing_code")
        signed_in = await finish_login(auth.idp, auth.oauth, login_state, code)
    except LoginRefused as exc:
        auth.audit.record("login", "refused", ip=_ip(request), user_agent=_ua(request), reason=exc.code)
        raise
    claims, id_token = signed_in.claims, signed_in.id_token
    profile = profile_from_claims(auth.settings.oidc_issuer, claims)
    roles = auth.settings.roles_for_groups(list(profile.groups))
    await auth.mirror_profile(profile, roles)
    session = await auth.sessions.create(
        subject=profile.subject, roles=roles, locale=profile.locale or "", name=profile.name or "",
        email=profile.email or "", idp_sid=str(claims.get("sid") or ""), ip=_ip(request) or "",
        user_agent=_ua(request) or "", id_token=id_token, idp_refresh=signed_in.idp_refresh,
    )
    refresh = await auth.refresh.issue(session.id, profile.subject, auth.settings.session_absolute_timeout)
    access = auth.tokens.mint(subject=profile.subject, session_id=session.id, roles=roles)
    auth.audit.record("login", "ok", actor=f"user:{profile.subject}", ip=_ip(request), user_agent=_ua(request),
                      session_id=session.id, roles=roles)
    response: Response[Any]
    if login_state.get("mode") == "json":
        response = Response(_tokens_body(auth, access, refresh, session.id), headers=NO_STORE)
    else:
        response = Redirect(login_state.get("return_to") or "/", status_code=303, headers=NO_STORE)
        set_auth_cookies(response, auth.settings, access, refresh, session.csrf)
    response.delete_cookie(binding_cookie(login_state_id), path="/auth/callback")
    return response


async def _presented_refresh_token(request: Request[Any, Any, Any]) -> tuple[str, bool]:
    """From the JSON body (mobile) or the refresh cookie (browser, double-submit CSRF checked)."""
    raw = await request.body()
    if raw.strip():
        try:
            body = msgspec.json.decode(raw, type=RefreshBody)
        except msgspec.DecodeError as exc:
            raise BadRequest("The body must be JSON with refresh_token.", code="malformed_body") from exc
        if body.refresh_token:
            return body.refresh_token, False
    cookie = request.cookies.get(REFRESH_COOKIE)
    if not cookie:
        raise Unauthorized("No refresh token was presented.", code="invalid_refresh_token")
    check_csrf(request.scope)
    return cookie, True


async def _renewed_roles(request: Request[Any, Any, Any], auth: AuthService, session: Session) -> list[str]:
    """The roles the IdP (or the user record) gives the user now, kept on the session; ends the session
    when the IdP refuses the grant."""
    try:
        roles, idp_refresh = await current_roles(auth, session)
    except GrantRevoked as exc:
        await auth.sessions.revoke(session.id)
        await auth.retire(session.id)
        auth.audit.record("refresh", "idp_grant_revoked", actor=f"user:{session.subject}", ip=_ip(request),
                          session_id=session.id, error=str(exc)[:100])
        raise Unauthorized("The identity provider ended this sign-in; sign in again.", code="session_ended") from exc
    if roles != list(session.roles) or idp_refresh != session.idp_refresh:
        await auth.sessions.update(session.id, roles=roles, idp_refresh=idp_refresh)
    if roles != list(session.roles):
        auth.audit.record("refresh", "roles_changed", actor=f"user:{session.subject}", ip=_ip(request),
                          session_id=session.id, before=list(session.roles), after=roles)
    return roles


@post("/auth/token/refresh", opt=PUBLIC | {"problems": {400: ("malformed_body",), 401: (
    "invalid_refresh_token", "refresh_token_reused")}, "body": {"application/json": RefreshBody},
    "body_required": False}, tags=["auth"], status_code=200,
      responses=returns(Tokens, description="New tokens (JSON body) or new cookies (`expires_in` only)"),
      summary="Rotate the refresh token; a new access token")
async def refresh_tokens(request: Request[Any, Any, Any]) -> Response[Any]:
    auth = auth_of(request.app)
    await auth.limiter.hit("refresh", f"ip:{_ip(request)}", auth.settings.rate_limit_refresh_per_minute)
    token, via_cookie = await _presented_refresh_token(request)
    result = await auth.refresh.rotate(token, auth.settings.session_absolute_timeout)
    who = f"user:{result.subject}" if result.subject else None
    if result.outcome is Rotation.REUSE:
        await auth.sessions.revoke(result.session_id or "")
        auth.live.drop(result.session_id or "")
        auth.audit.record("refresh", "reuse_detected", actor=who, ip=_ip(request), user_agent=_ua(request),
                          session_id=result.session_id)
        raise Unauthorized("This refresh token was already used; the session has been ended.",
                           code="refresh_token_reused")
    live = result.outcome in (Rotation.OK, Rotation.GRACE)
    session = await auth.sessions.touch(result.session_id) if live and result.session_id else None
    if session is None or result.token is None:
        auth.audit.record("refresh", "refused", actor=who, ip=_ip(request), user_agent=_ua(request),
                          reason=result.outcome.value)
        raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
    # A new rotation learns the user's roles again; the grace answer (same rotation) keeps the session's.
    roles = await _renewed_roles(request, auth, session) if result.outcome is Rotation.OK else list(session.roles)
    access = auth.tokens.mint(subject=session.subject, session_id=session.id, roles=roles)
    auth.audit.record("refresh", result.outcome.value, actor=who, ip=_ip(request), user_agent=_ua(request),
                      session_id=session.id)
    if via_cookie:
        response: Response[Any] = Response({"expires_in": auth.settings.access_token_ttl}, headers=NO_STORE)
        set_auth_cookies(response, auth.settings, access, result.token, session.csrf)
        return response
    return Response(_tokens_body(auth, access, result.token, session.id), headers=NO_STORE)


def _end_session_url(auth: AuthService, id_token: str) -> str | None:
    metadata = auth.idp.cached_metadata()
    endpoint = metadata.get("end_session_endpoint") if metadata else None
    if not endpoint:
        return None
    query = {"client_id": auth.settings.oidc_client_id,
             "post_logout_redirect_uri": auth.settings.public_url.rstrip("/") + "/"}
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(query)}"


@post("/auth/logout", guards=[requires_user], tags=["auth"], status_code=200, responses=returns(LoggedOut),
      summary="End this session; offers the IdP's end-session URL")
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    auth = auth_of(request.app)
    principal = current_principal(request)
    assert principal is not None and principal.session_id is not None
    session = await auth.sessions.revoke(principal.session_id)
    await auth.retire(principal.session_id)
    auth.audit.record("logout", "ok", actor=principal.actor, ip=_ip(request), user_agent=_ua(request),
                      session_id=principal.session_id)
    body = {"logged_out": True, "end_session_url": _end_session_url(auth, session.id_token if session else "")}
    response: Response[Any] = Response(body, headers=NO_STORE)
    clear_auth_cookies(response, auth.settings)
    return response


@post("/auth/backchannel-logout", tags=["auth"], status_code=200, responses=returns(SessionsEnded),
      opt=PUBLIC | {"rules": {400: "the form's `logout_token` must be a logout token the IdP signed"
                                   " (`invalid_logout_token`)"},
                    "body": {"application/x-www-form-urlencoded": LogoutTokenForm}},
      summary="OIDC back-channel logout from the IdP")
async def backchannel_logout(request: Request[Any, Any, Any]) -> Response[Any]:
    auth = auth_of(request.app)
    form = await request.form()
    token = form.get("logout_token")
    try:
        if not isinstance(token, str) or not token:
            raise TokenRejected("missing_logout_token")
        header_, _ = split_token(token)
        claims = await auth.idp.verify(token, audience=auth.settings.oidc_client_id,
                                       required=("iss", "aud", "iat", "exp", "jti", "events"))
        sid, sub = check_logout_token(header_, claims)
        await auth.remember_logout_token(claims)
    except TokenRejected as exc:
        auth.audit.record("backchannel_logout", "refused", ip=_ip(request), reason=exc.reason)
        raise BadRequest(f"The logout token is not valid ({exc.reason}).", code="invalid_logout_token") from exc
    ended = await auth.sessions.revoke_idp_session(sid, sub)
    for session_id in ended:
        await auth.retire(session_id)
    auth.audit.record("backchannel_logout", "ok", actor=f"user:{sub}" if sub else None, ip=_ip(request),
                      idp_sid=sid, sessions=ended)
    return Response({"sessions_ended": len(ended)}, headers=NO_STORE)


ROUTES = [login, callback, refresh_tokens, logout, backchannel_logout]
