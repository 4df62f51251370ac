"""Hand-made JWTs for the refusal tests: signed with the app's real key, an attacker's key, or none."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from joserfc import jwk, jwt

from app.auth.keys import KeyRing, keys_path
from app.settings import Settings


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


class Forge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ring = KeyRing(keys_path(settings))
        self.real = self.ring.current
        self.attacker = jwk.ECKey.generate_key("P-256", parameters={"kid": "attacker"}, private=True)

    def claims(self, subject: str, session_id: str, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {"iss": self.settings.jwt_issuer, "aud": self.settings.jwt_audience, "sub": subject, "sid": session_id,
                "roles": ["guest"], "iat": now, "nbf": now, "exp": now + 300, "jti": uuid.uuid4().hex}
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    def header(self, **changes: Any) -> dict[str, Any]:
        base = {"alg": "ES256", "typ": "at+jwt", "kid": self.real.kid}
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None, key: Any = None) -> str:
        return jwt.encode(header or self.header(), claims, key or self.real, algorithms=["ES256"])

    def unsigned(self, claims: dict[str, Any], alg: str) -> str:
        return f"{segment(self.header(alg=alg))}.{segment(claims)}."

    def hs256_with_public_key(self, claims: dict[str, Any]) -> str:
        secret = json.dumps(self.real.as_dict(private=False)).encode()
        signing_input = f"{segment(self.header(alg='HS256'))}.{segment(claims)}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(signature)}"

    def tampered(self, token: str, **changes: Any) -> str:
        head, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(changes)
        return f"{head}.{segment(claims)}.{signature}"
