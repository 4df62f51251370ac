"""The signed-in user's own view: profile, roles, sessions; and the public key set."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get

from app.auth.guards import requires_login, requires_user
from app.auth.principal import Principal, current_principal
from app.auth.responses import KeySet, Me, MySessions
from app.auth.service import auth_of
from app.clientaddr import client_ip
from app.errors import NotFound
from app.problem_docs import returns

PUBLIC = {"public": True}


def _me(request: Request[Any, Any, Any]) -> Principal:
    principal = current_principal(request)
    assert principal is not None  # the guard ran
    return principal


@get("/.well-known/jwks.json", opt=PUBLIC, tags=["auth"], summary="The backend's public signing keys",
     responses=returns(KeySet))
async def jwks(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    auth = auth_of(request.app)
    auth.keys.refresh()
    return Response(auth.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@get("/auth/me", guards=[requires_login], tags=["auth"], summary="Who am I: profile, roles, locale",
     responses=returns(Me))
async def me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    principal = _me(request)
    body: dict[str, Any] = {
        "subject": principal.subject, "kind": principal.kind, "roles": list(principal.roles),
        "scopes": list(principal.scopes), "locale": principal.locale, "name": principal.name,
        "email": principal.email, "session_id": principal.session_id, "client_id": principal.client_id,
    }
    if principal.kind == "user":
        user = await auth_of(request.app).profile(principal.subject)
        if user is not None:
            body["profile"] = {
                "email": user["email"], "email_verified": user["email_verified"], "name": user["name"],
                "locale": user["locale"], "groups": list(user["groups"]),
                "last_login_at": user["last_login_at"].isoformat() if user["last_login_at"] else None,
            }
    return body


@get("/auth/sessions", guards=[requires_user], tags=["auth"], summary="My live sessions",
     responses=returns(MySessions), opt={"links": {"session_id": "/items/0/id"}})
async def list_sessions(request: Request[Any, Any, Any]) -> dict[str, Any]:
    principal = _me(request)
    sessions = await auth_of(request.app).sessions.list_for(principal.subject)
    return {"items": [s.public() | {"current": s.id == principal.session_id} for s in sessions]}


@delete("/auth/sessions/{session_id:str}", guards=[requires_user], tags=["auth"], status_code=204,
        opt={"problems": {404: ("session_not_found",)}},
        summary="Revoke one of my sessions")
async def revoke_session(request: Request[Any, Any, Any], session_id: str) -> None:
    principal = _me(request)
    auth = auth_of(request.app)
    session = await auth.sessions.get(session_id)
    if session is None or session.subject != principal.subject:
        raise NotFound("No such session.", code="session_not_found")
    await auth.sessions.revoke(session_id)
    await auth.retire(session_id)
    auth.audit.record("session_revoke", "ok", actor=principal.actor, ip=client_ip(request.scope) or None,
                      session_id=session_id)


ROUTES = [jwks, me, list_sessions, revoke_session]
