"""Every forged, stale or misdirected access token is refused with a 401 problem+json."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.settings import Settings
from tests.integration.auth.conftest import bearer
from tests.integration.auth.forge import Forge
from tests.support.auth import AuthKit


@pytest.fixture
async def signed_in(auth_kit: AuthKit) -> AsyncIterator[tuple[str, str, str]]:
    """(bearer token, subject, session id) of a live session."""
    headers, sid = await auth_kit.sign_in(["guest"])
    token = headers["Authorization"].removeprefix("Bearer ")
    session = await auth_kit.sessions.get(sid)
    assert session is not None
    yield token, session.subject, sid
    await auth_kit.sessions.revoke(sid)


@pytest.fixture(scope="module")
def forge(settings: Settings) -> Forge:
    return Forge(settings)


async def refused(client: AsyncTestClient[Litestar], token: str, code: str = "invalid_token") -> None:
    for path in ("/auth/me", "/test-auth/public"):  # refused on protected and public routes alike
        response = await client.get(path, headers=bearer(token))
        assert response.status_code == 401, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code


async def test_the_genuine_token_passes(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                        signed_in: tuple[str, str, str]) -> None:
    token, subject, sid = signed_in
    assert (await auth_client.get("/auth/me", headers=bearer(token))).status_code == 200
    again = forge.sign(forge.claims(subject, sid))  # the forge itself makes acceptable tokens
    assert (await auth_client.get("/auth/me", headers=bearer(again))).status_code == 200


async def test_tampered_signature(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                  signed_in: tuple[str, str, str]) -> None:
    token, _, _ = signed_in
    await refused(auth_client, forge.tampered(token, roles=["admin"]))
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    await refused(auth_client, f"{head}.{payload}.{flipped}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_in_any_case(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                    signed_in: tuple[str, str, str], alg: str) -> None:
    _, subject, sid = signed_in
    await refused(auth_client, forge.unsigned(forge.claims(subject, sid), alg))


async def test_hs256_signed_with_the_public_key(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                                signed_in: tuple[str, str, str]) -> None:
    _, subject, sid = signed_in
    await refused(auth_client, forge.hs256_with_public_key(forge.claims(subject, sid)))


@pytest.mark.parametrize("changes", [
    {"iss": "https://attacker.example"},
    {"aud": "someone-else"},
    {"exp": int(time.time()) - 3600},
    {"nbf": int(time.time()) + 3600},
    {"iat": int(time.time()) + 3600},
    {"sid": None},
], ids=["wrong_iss", "wrong_aud", "expired", "nbf_future", "iat_future", "no_sid"])
async def test_bad_claims(auth_client: AsyncTestClient[Litestar], forge: Forge, signed_in: tuple[str, str, str],
                          changes: dict[str, object]) -> None:
    _, subject, sid = signed_in
    code = "token_expired" if "exp" in changes else "invalid_token"
    await refused(auth_client, forge.sign(forge.claims(subject, sid, **changes)), code)


async def test_expiry_leeway_is_at_most_60_seconds(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                                   signed_in: tuple[str, str, str]) -> None:
    _, subject, sid = signed_in
    now = int(time.time())
    within = forge.sign(forge.claims(subject, sid, exp=now - 30))
    assert (await auth_client.get("/auth/me", headers=bearer(within))).status_code == 200
    await refused(auth_client, forge.sign(forge.claims(subject, sid, exp=now - 61)), "token_expired")


async def test_unknown_and_missing_kid(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                       signed_in: tuple[str, str, str]) -> None:
    _, subject, sid = signed_in
    claims = forge.claims(subject, sid)
    await refused(auth_client, forge.sign(claims, forge.header(kid="attacker"), forge.attacker))
    await refused(auth_client, forge.sign(claims, forge.header(kid="no-such-kid")))
    await refused(auth_client, forge.sign(claims, forge.header(kid=None)))


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk"])
async def test_key_bearing_headers(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                   signed_in: tuple[str, str, str], name: str) -> None:
    _, subject, sid = signed_in
    attacker_public = forge.attacker.as_dict(private=False)
    value = attacker_public if name == "jwk" else "https://attacker.example/keys.json"
    claims = forge.claims(subject, sid)
    await refused(auth_client, forge.sign(claims, forge.header(kid="attacker", **{name: value}), forge.attacker))
    # Even with our own kid and signature, a key-bearing header is refused outright.
    await refused(auth_client, forge.sign(claims, forge.header(**{name: value})))


async def test_wrong_token_type_and_malformed(auth_client: AsyncTestClient[Litestar], forge: Forge,
                                              signed_in: tuple[str, str, str]) -> None:
    _, subject, sid = signed_in
    await refused(auth_client, forge.sign(forge.claims(subject, sid), forge.header(typ="JWT")))
    await refused(auth_client, "abc.def")
    response = await auth_client.get("/auth/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


async def test_401_and_403_are_distinct(auth_client: AsyncTestClient[Litestar], auth_headers) -> None:
    assert (await auth_client.get("/test-auth/admin")).json()["code"] == "authentication_required"
    guest = await auth_headers(["guest"], locale="en-US")
    forbidden = await auth_client.get("/test-auth/admin", headers=guest)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "insufficient_role"
    admin = await auth_headers(["admin", "guest"])
    assert (await auth_client.get("/test-auth/admin", headers=admin)).status_code == 200
    public = await auth_client.get("/test-auth/public", headers=guest)
    assert public.json()["locale"] == "en-US"
    assert (await auth_client.get("/test-auth/public")).json() == {"locale": None, "who": None}
