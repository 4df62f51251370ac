"""Role mapping, the key ring's rotation (two keys valid), token minting/verification, rate windows."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest

from app.auth.jwtcheck import TokenRejected
from app.auth.keys import KeyRing, rotate_keys_file
from app.auth.ratelimit import window
from app.auth.tokens import AccessTokens
from app.auth.users import profile_from_claims
from app.settings import Settings


def test_groups_map_to_roles() -> None:
    settings = Settings()
    assert settings.roles_for_groups(["customers"]) == ["guest"]
    assert settings.roles_for_groups(["staff", "resort-admins"]) == ["admin", "front_desk", "guest"]
    assert settings.roles_for_groups(["unknown"]) == ["guest"]
    custom = msgspec.structs.replace(settings, role_map="vip=partner")
    assert custom.roles_for_groups(["vip"]) == ["guest", "partner"]


def test_profile_ignores_ill_typed_claims() -> None:
    profile = profile_from_claims("iss", {"sub": "u", "email": 3, "groups": ["a", 4], "locale": "ko-KR"})
    assert profile.email is None and profile.groups == ("a",) and profile.locale == "ko-KR"


def test_rotation_keeps_two_keys_valid(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    settings = Settings(jwt_keys_file=str(path))
    ring = KeyRing(path)
    tokens = AccessTokens(settings, ring)
    old = tokens.mint(subject="u", session_id="s", roles=["guest"])
    first_kid = ring.current.kid

    rotate_keys_file(path)
    other_instance = AccessTokens(settings, KeyRing(path))
    new = other_instance.mint(subject="u", session_id="s", roles=["guest"])
    assert other_instance.keys.current.kid != first_kid
    assert tokens.verify(new)["sub"] == "u"           # unknown kid -> the ring reloads the file once
    assert other_instance.verify(old)["sub"] == "u"   # the previous key still verifies
    assert len(other_instance.keys.jwks()["keys"]) == 2

    rotate_keys_file(path)                            # a second rotation retires the first key
    third = AccessTokens(settings, KeyRing(path))
    with pytest.raises(TokenRejected) as caught:
        third.verify(old)
    assert caught.value.reason == "unknown_kid"


def test_token_type_and_expiry(tmp_path: Path) -> None:
    settings = Settings(jwt_keys_file=str(tmp_path / "k.json"))
    tokens = AccessTokens(settings, KeyRing(tmp_path / "k.json"))
    expired = tokens.mint(subject="u", session_id="s", roles=[], now=int(time.time()) - 1000, ttl=300)
    with pytest.raises(TokenRejected) as caught:
        tokens.verify(expired)
    assert caught.value.expired


def test_rate_window() -> None:
    assert window(125.0, 60) == (120, 55.0)
    assert window(120.0, 60) == (120, 60.0)


def test_key_ring_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "auth" / "keys.json"
    KeyRing(path)
    assert path.stat().st_mode & 0o777 == 0o600
    rotate_keys_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]  # no temporary file left behind
