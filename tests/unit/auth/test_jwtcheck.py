"""The pure token checks: header policy, registered claims, scopes, ID and logout token extras."""

from __future__ import annotations

import pytest

from app.auth.jwtcheck import TokenRejected, check_claims, check_header, scopes_of, split_token
from app.auth.oidc_claims import BACKCHANNEL_EVENT, check_id_token, check_logout_token, safe_return_path

NOW = 1_800_000_000.0
GOOD = {"iss": "https://iss", "aud": "api", "sub": "u1", "iat": NOW, "exp": NOW + 300}


def reason(fn, *args, **kwargs) -> str:
    with pytest.raises(TokenRejected) as caught:
        fn(*args, **kwargs)
    return caught.value.reason


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "RS256", "es256", "", None])
def test_only_allowlisted_algorithms(alg: object) -> None:
    assert reason(check_header, {"alg": alg, "kid": "k"}, ("ES256",)) == "alg_not_allowed"


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c"])
def test_key_bearing_headers_refused(name: str) -> None:
    assert reason(check_header, {"alg": "ES256", "kid": "k", name: "x"}, ("ES256",)) == "key_header_refused"


def test_kid_and_typ() -> None:
    assert reason(check_header, {"alg": "ES256"}, ("ES256",)) == "missing_kid"
    assert reason(check_header, {"alg": "ES256", "kid": "k", "typ": "JWT"}, ("ES256",), typ="at+jwt") == "wrong_type"
    assert check_header({"alg": "ES256", "kid": "k", "typ": "at+JWT"}, ("ES256",), typ="at+jwt") == "k"
    assert check_header({"alg": "ES256", "kid": "k", "typ": "application/at+jwt"}, ("ES256",), typ="at+jwt") == "k"
    assert reason(check_header, {"alg": "ES256", "kid": "k", "crit": ["exp"]}, ("ES256",)) == "crit_header_refused"


def test_claims_accept_the_good_ones() -> None:
    check_claims(dict(GOOD), issuer="https://iss", audience="api", now=NOW)
    check_claims({**GOOD, "aud": ["other", "api"]}, issuer="https://iss", audience="api", now=NOW)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"iss": "https://evil"}, "wrong_issuer"),
    ({"aud": "other"}, "wrong_audience"),
    ({"aud": ["other"]}, "wrong_audience"),
    ({"exp": NOW - 61}, "expired"),
    ({"nbf": NOW + 61}, "not_yet_valid"),
    ({"iat": NOW + 61}, "issued_in_future"),
    ({"exp": "tomorrow"}, "malformed_exp"),
    ({"sub": None}, "missing_sub"),
])
def test_claims_refused(changes: dict[str, object], expected: str) -> None:
    claims = {**GOOD, **changes}
    assert reason(check_claims, claims, issuer="https://iss", audience="api", now=NOW) == expected


def test_leeway_is_applied_and_bounded() -> None:
    check_claims({**GOOD, "exp": NOW - 59, "nbf": NOW + 59}, issuer="https://iss", audience="api", now=NOW)
    assert reason(check_claims, {**GOOD, "exp": NOW - 1}, issuer="https://iss", audience="api", now=NOW,
                  leeway=0) == "expired"


def test_split_token_rejects_garbage() -> None:
    for token in ("", "a.b", "a.b.c.d", "!!.??.x", "e30.W10.x"):  # W10 = "[]", not an object
        assert reason(split_token, token) == "malformed"


def test_scopes() -> None:
    assert scopes_of({"scope": "a b  c"}) == ("a", "b", "c")
    assert scopes_of({"scp": ["a"]}) == ("a",)
    assert scopes_of({}) == ()


def test_id_token_nonce_and_azp() -> None:
    check_id_token({"nonce": "n1", "aud": "c"}, nonce="n1", client_id="c")
    assert reason(check_id_token, {"nonce": "n2", "aud": "c"}, nonce="n1", client_id="c") == "wrong_nonce"
    assert reason(check_id_token, {"aud": "c"}, nonce="n1", client_id="c") == "wrong_nonce"
    assert reason(check_id_token, {"nonce": "n1", "aud": ["c", "d"]}, nonce="n1", client_id="c") == "wrong_azp"


def test_logout_token_rules() -> None:
    good = {"events": {BACKCHANNEL_EVENT: {}}, "sid": "s1", "sub": "u1", "jti": "j"}
    assert check_logout_token({"typ": "logout+jwt"}, good) == ("s1", "u1")
    assert check_logout_token({}, {**good, "sid": None}) == (None, "u1")
    assert reason(check_logout_token, {}, {**good, "nonce": "n"}) == "nonce_in_logout_token"
    assert reason(check_logout_token, {}, {**good, "events": {}}) == "missing_logout_event"
    assert reason(check_logout_token, {}, {**good, "sid": None, "sub": None}) == "missing_sid_and_sub"
    assert reason(check_logout_token, {"typ": "JWT"}, good) == "wrong_type"
    assert reason(check_logout_token, {}, {**good, "jti": None}) == "missing_jti"


@pytest.mark.parametrize(("value", "expected"), [
    ("/bookings?x=1", "/bookings?x=1"), ("https://evil.example", "/"), ("//evil.example", "/"),
    ("/\\evil", "/"), (None, "/"), ("relative", "/"), ("/a\nb", "/"), ("/a\rSet-Cookie: x=1", "/"), ("/a\x00", "/"),
])
def test_return_path_is_local(value: str | None, expected: str) -> None:
    assert safe_return_path(value) == expected
