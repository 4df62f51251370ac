"""The group IdP seen from the backend: discovery, its JWKS (cached, refetched once on an unknown kid)
and the verification of the JWTs it issues (ID tokens, logout tokens, partner access tokens)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.auth.jwtcheck import TokenRejected, check_claims, check_header, split_token
from app.errors import ServiceUnavailable
from app.settings import Settings

_REFETCH_MIN_INTERVAL_S = 1.0
_DISCOVERY_TTL_S = 300.0


class IdpUnavailable(ServiceUnavailable):
    code, title = "idp_unavailable", "The identity provider is unavailable"


class IdentityProvider:
    """Discovery and JWKS of ``settings.oidc_issuer``; cached so that an outage spares existing sessions."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.http = http
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: dict[str, Any] = {}
        self._keys_at = 0.0
        self._last_fetch = 0.0
        self._lock = asyncio.Lock()

    def unavailable(self, why: str) -> IdpUnavailable:
        retry = self.settings.idp_retry_after_s
        return IdpUnavailable(f"Sign-in is temporarily unavailable ({why}); retry in {retry} s.",
                              headers={"Retry-After": str(retry)})

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url, timeout=self.settings.idp_timeout_s)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self.unavailable(type(exc).__name__) from exc

    def cached_metadata(self) -> dict[str, Any] | None:
        return self._metadata

    async def metadata(self, live: bool = False) -> dict[str, Any]:
        """The discovery document; ``live`` refetches it (login checks the IdP is there right now)."""
        fresh = time.monotonic() - self._metadata_at < _DISCOVERY_TTL_S
        if self._metadata is not None and fresh and not live:
            return self._metadata
        try:
            document = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        except IdpUnavailable:
            if self._metadata is not None and not live:
                return self._metadata
            raise
        if document.get("issuer") != self.settings.oidc_issuer:
            raise self.unavailable("the discovery document names another issuer")
        self._metadata, self._metadata_at = document, time.monotonic()
        return document

    async def _fetch_keys(self) -> None:
        self._last_fetch = time.monotonic()
        document = await self._get_json((await self.metadata())["jwks_uri"])
        keyset = KeySet.import_key_set({"keys": [k for k in document.get("keys", []) if k.get("kid")]})
        self._keys = {str(k.kid): k for k in keyset.keys}
        self._keys_at = time.monotonic()

    async def key(self, kid: str) -> Any | None:
        """The IdP's public key ``kid``: from the cache, refetched when stale or (once) when unknown."""
        now = time.monotonic()
        stale = now - self._keys_at > self.settings.oidc_jwks_ttl
        if kid in self._keys and not stale:
            return self._keys[kid]
        async with self._lock:
            if (kid not in self._keys or stale) and time.monotonic() - self._last_fetch >= _REFETCH_MIN_INTERVAL_S:
                try:
                    await self._fetch_keys()
                except IdpUnavailable:
                    if kid not in self._keys:
                        raise
        return self._keys.get(kid)

    async def verify(self, token: str, *, audience: str, typ: str | None = None,
                     required: tuple[str, ...] = ("iss", "aud", "sub", "exp", "iat")) -> dict[str, Any]:
        """Header policy, signature with the IdP's key named by ``kid``, then ``iss``/``aud``/time claims."""
        header, _ = split_token(token)
        allowed = tuple(self.settings.oidc_id_token_algs)
        kid = check_header(header, allowed, typ=typ)
        key = await self.key(kid)
        if key is None:
            raise TokenRejected("unknown_kid")
        if key.alg and key.alg != header["alg"]:
            raise TokenRejected("alg_key_mismatch")
        try:
            claims = jwt.decode(token, key, algorithms=[header["alg"]]).claims
        except JoseError as exc:
            raise TokenRejected("bad_signature") from exc
        check_claims(claims, issuer=self.settings.oidc_issuer, audience=audience, now=time.time(),
                     leeway=self.settings.jwt_leeway_s, required=required)
        return claims
