"""Operators' view of a user's sessions: list them, or end them all at once (a compromised account)."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get

from app.auth.guards import requires_roles
from app.auth.principal import current_principal
from app.auth.responses import SessionsRevoked, UserSessions
from app.auth.service import auth_of
from app.clientaddr import client_ip
from app.problem_docs import returns

ADMIN = [requires_roles("admin")]


@get("/admin/users/{subject:str}/sessions", guards=ADMIN, tags=["auth", "admin"],
     summary="A user's live sessions", responses=returns(UserSessions))
async def user_sessions(request: Request[Any, Any, Any], subject: str) -> dict[str, Any]:
    sessions = await auth_of(request.app).sessions.list_for(subject)
    return {"subject": subject, "items": [s.public() for s in sessions]}


@delete("/admin/users/{subject:str}/sessions", guards=ADMIN, tags=["auth", "admin"], status_code=200,
        summary="End every session of a user on every api instance", responses=returns(SessionsRevoked))
async def revoke_user_sessions(request: Request[Any, Any, Any], subject: str) -> dict[str, Any]:
    auth = auth_of(request.app)
    ended = await auth.sessions.revoke_all(subject)
    for sid in ended:
        await auth.retire(sid)
    admin = current_principal(request)
    auth.audit.record("admin_revoke_sessions", "ok", actor=admin.actor if admin else None,
                      ip=client_ip(request.scope) or None, subject=subject, count=len(ended))
    return {"subject": subject, "revoked": ended}


ROUTES = [user_sessions, revoke_user_sessions]
