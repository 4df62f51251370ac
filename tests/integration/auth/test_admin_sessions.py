"""An operator ends every session of a user at once; the user's tokens are refused right after."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient

from tests.support.auth import AuthKit, MakeHeaders


async def test_admin_ends_every_session_of_a_user(
    client: AsyncTestClient, auth_kit: AuthKit, admin_headers: dict[str, str]
) -> None:
    subject = f"compromised-{uuid.uuid4().hex[:8]}"
    phone, _ = await auth_kit.sign_in(["guest"], subject=subject)
    laptop, _ = await auth_kit.sign_in(["guest"], subject=subject)
    bystander, _ = await auth_kit.sign_in(["guest"])
    assert (await client.get("/auth/me", headers=phone)).status_code == 200

    listed = await client.get(f"/admin/users/{subject}/sessions", headers=admin_headers)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2

    ended = await client.delete(f"/admin/users/{subject}/sessions", headers=admin_headers)
    assert ended.status_code == 200 and len(ended.json()["revoked"]) == 2
    for headers in (phone, laptop):
        refused = await client.get("/auth/me", headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == "session_ended"
    assert (await client.get("/auth/me", headers=bystander)).status_code == 200
    assert (await client.get(f"/admin/users/{subject}/sessions", headers=admin_headers)).json()["items"] == []


async def test_only_admins_may_end_other_peoples_sessions(
    client: AsyncTestClient, auth_headers: MakeHeaders, guest_headers: dict[str, str]
) -> None:
    front_desk = await auth_headers(["front_desk", "guest"])
    for headers in (guest_headers, front_desk):
        response = await client.delete("/admin/users/someone/sessions", headers=headers)
        assert response.status_code == 403 and response.json()["code"] == "insufficient_role"
    assert (await client.delete("/admin/users/someone/sessions")).status_code == 401
