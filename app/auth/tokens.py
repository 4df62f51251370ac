"""Access JWTs signed with the backend's own key (ES256): minted at login/refresh, verified by the gateway."""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from app.auth.jwtcheck import TokenRejected, check_claims, check_header, split_token
from app.auth.keys import ALGORITHM, KeyRing
from app.settings import Settings

ACCESS_TYP = "at+jwt"


class AccessTokens:
    """Mints and verifies the app's own access tokens."""

    def __init__(self, settings: Settings, keys: KeyRing) -> None:
        self.settings = settings
        self.keys = keys

    def mint(self, *, subject: str, session_id: str, roles: list[str] | tuple[str, ...],
             extra: dict[str, Any] | None = None, now: int | None = None, ttl: int | None = None) -> str:
        self.keys.refresh()
        issued = int(time.time()) if now is None else now
        claims = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": subject,
            "sid": session_id,
            "roles": list(roles),
            "iat": issued,
            "nbf": issued,
            "exp": issued + (self.settings.access_token_ttl if ttl is None else ttl),
            "jti": uuid.uuid4().hex,
            **(extra or {}),
        }
        header = {"alg": ALGORITHM, "typ": ACCESS_TYP, "kid": self.keys.current.kid}
        return jwt.encode(header, claims, self.keys.current, algorithms=[ALGORITHM])

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        """Header policy, signature by the key named by ``kid`` (from our ring only), then claims."""
        header, _ = split_token(token)
        kid = check_header(header, (ALGORITHM,), typ=ACCESS_TYP)
        key = self.keys.verification_key(kid)
        if key is None:
            raise TokenRejected("unknown_kid")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM]).claims
        except JoseError as exc:
            raise TokenRejected("bad_signature") from exc
        check_claims(
            claims,
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            now=time.time() if now is None else now,
            leeway=self.settings.jwt_leeway_s,
            required=("iss", "aud", "sub", "exp", "iat", "sid", "jti"),
        )
        if not isinstance(claims.get("roles"), list):
            raise TokenRejected("missing_roles")
        return claims
