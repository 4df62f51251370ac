"""The OIDC authorization code flow with PKCE against the group IdP (authlib), I/O only.

Login state lives in Redis at ``auth:login:{state}`` for ``login_state_ttl`` seconds and is taken with
GETDEL, so a state works once. The state is bound to the client that started the login (RFC 9700 §4.7,
login CSRF): the start hands that client a random binding secret (a short-lived, host-only, HttpOnly cookie
scoped to the callback; mobile apps may send it back in the ``X-Login-Binding`` header instead), the record
keeps only its hash, and the callback refuses a state presented without the matching secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from typing import Any

import httpx
import msgspec
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError

with warnings.catch_warnings():
    # authlib 1.9 announces its move to httpx2 on import; the httpx client it wraps works as documented.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from app.auth.idp import IdentityProvider
from app.auth.jwtcheck import TokenRejected
from app.auth.oidc_claims import check_id_token
from app.errors import BadRequest
from app.settings import Settings

BINDING_COOKIE_PREFIX = "resort_login_"
BINDING_HEADER = "x-login-binding"


class LoginRefused(BadRequest):
    code, title = "login_failed", "The sign-in could not be completed"


def redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/auth/callback"


def oauth_client(settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
        token_endpoint_auth_method="client_secret_basic", scope=settings.oidc_scopes,
        redirect_uri=redirect_uri(settings), code_challenge_method="S256",
        timeout=settings.idp_timeout_s,
    )


class LoginStart(msgspec.Struct, frozen=True):
    url: str
    state: str
    binding: str


def binding_cookie(state: str) -> str:
    """The binding cookie's name: one per login, so two tabs signing in at once do not overwrite each other."""
    return f"{BINDING_COOKIE_PREFIX}{hashlib.sha256(state.encode()).hexdigest()[:16]}"


def _binding_hash(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


async def start_login(idp: IdentityProvider, oauth: AsyncOAuth2Client, redis: Any, *, mode: str,
                      return_to: str) -> LoginStart:
    """Check the IdP is up, keep state + nonce + PKCE verifier + the binding's hash in Redis."""
    metadata = await idp.metadata(live=True)
    state, nonce, verifier, binding = generate_token(32), generate_token(32), generate_token(64), generate_token(32)
    record = {"nonce": nonce, "verifier": verifier, "mode": mode, "return_to": return_to,
              "binding": _binding_hash(binding)}
    await redis.set(f"auth:login:{state}", json.dumps(record), ex=idp.settings.login_state_ttl)
    url, _ = oauth.create_authorization_url(
        metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce, prompt="consent",
    )
    return LoginStart(url, state, binding)


async def take_state(redis: Any, state: str, binding: str | None) -> dict[str, Any]:
    """The login started with ``state`` by the client presenting ``binding``, consumed (single use)."""
    raw = await redis.getdel(f"auth:login:{state}") if state and len(state) <= 128 else None
    if raw is None:
        raise LoginRefused("The login state is unknown, expired or already used.", code="invalid_state")
    login = json.loads(raw)
    expected = str(login.get("binding") or "")
    if not binding or not expected or not hmac.compare_digest(_binding_hash(binding), expected):
        raise LoginRefused("This sign-in was not started by this browser or app.", code="login_not_bound")
    return login


class SignedIn(msgspec.Struct, frozen=True):
    claims: dict[str, Any]
    id_token: str
    idp_refresh: str  # the IdP's refresh token ("" if none), to learn the user's groups again at each refresh


class GrantRevoked(Exception):
    """The IdP refused our refresh token: the user's grant there is gone (removed, logged out, revoked)."""


async def finish_login(idp: IdentityProvider, oauth: AsyncOAuth2Client, login: dict[str, Any], code: str,
                       ) -> SignedIn:
    """Exchange the code (with the PKCE verifier), validate the ID token."""
    metadata = await idp.metadata()
    try:
        token = await oauth.fetch_token(metadata["token_endpoint"], code=code, code_verifier=login["verifier"],
                                        redirect_uri=redirect_uri(idp.settings), grant_type="authorization_code")
    except OAuthError as exc:
        raise LoginRefused(f"The IdP refused the code exchange ({exc.error}).", code="code_exchange_failed") from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise idp.unavailable(type(exc).__name__) from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise LoginRefused("The IdP returned no ID token.", code="invalid_id_token")
    try:
        claims = await idp.verify(id_token, audience=idp.settings.oidc_client_id)
        check_id_token(claims, nonce=login["nonce"], client_id=idp.settings.oidc_client_id)
    except TokenRejected as exc:
        code = "invalid_nonce" if exc.reason == "wrong_nonce" else "invalid_id_token"
        raise LoginRefused(f"The ID token was refused ({exc.reason}).", code=code,
                           extra={"reason": exc.reason}) from exc
    refresh = token.get("refresh_token")
    return SignedIn(claims, id_token, refresh if isinstance(refresh, str) else "")


async def refresh_at_idp(idp: IdentityProvider, oauth: AsyncOAuth2Client, refresh_token: str,
                         subject: str) -> SignedIn:
    """The user's current claims from the IdP (refresh grant; its refresh token rotates).

    Raises :class:`GrantRevoked` when the IdP refuses the grant, ``IdpUnavailable`` when it cannot be asked,
    ``TokenRejected`` when its new ID token is not valid or names someone else."""
    metadata = await idp.metadata()
    try:
        token = await oauth.fetch_token(metadata["token_endpoint"], grant_type="refresh_token",
                                        refresh_token=refresh_token)
    except OAuthError as exc:
        raise GrantRevoked(str(exc.error)) from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise idp.unavailable(type(exc).__name__) from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise TokenRejected("missing_id_token")
    claims = await idp.verify(id_token, audience=idp.settings.oidc_client_id)
    if claims.get("sub") != subject:
        raise TokenRejected("wrong_subject")
    rotated = token.get("refresh_token")
    return SignedIn(claims, id_token, rotated if isinstance(rotated, str) else refresh_token)
