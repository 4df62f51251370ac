"""The gateway's decisions as pure functions: where the token comes from, CSRF, who is admitted, which 401,
which refusals are audited; and the in-process limiter of readiness probes."""

from __future__ import annotations

from typing import Any

import pytest

from app.auth.gateway import (
    ACCESS_COOKIE,
    AUDIT_EVERY,
    AUDIT_FIRST,
    CSRF_COOKIE,
    _partner,
    admit,
    bearer_or_cookie,
    check_csrf,
    parse_cookies,
    sampled,
    unauthorized,
)
from app.auth.jwtcheck import TokenRejected
from app.auth.principal import Principal
from app.auth.ratelimit import limited, window
from app.errors import Forbidden, Unauthorized
from app.health.controller import ProbeLimiter


def scope(method: str = "GET", client: str = "192.0.2.1", **headers: str) -> dict[str, Any]:
    return {"method": method, "client": (client, 1234),
            "headers": [(k.replace("_", "-").lower().encode(), v.encode("latin-1")) for k, v in headers.items()]}


def test_the_authorization_header_wins_over_the_cookie() -> None:
    both = scope(authorization="Bearer  abc ", cookie=f"{ACCESS_COOKIE}=fromcookie")
    assert bearer_or_cookie(both) == ("abc", False)
    assert bearer_or_cookie(scope(cookie=f"other=1; {ACCESS_COOKIE}=xyz")) == ("xyz", True)
    assert bearer_or_cookie(scope()) == (None, False)
    assert bearer_or_cookie(scope(cookie="other=1")) == (None, False)


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token-without-scheme"])
def test_a_malformed_authorization_header_is_refused_not_ignored(value: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        bearer_or_cookie(scope(authorization=value, cookie=f"{ACCESS_COOKIE}=valid-looking"))
    assert caught.value.reason == "malformed_authorization"


def test_cookie_parsing_keeps_the_first_of_a_name_and_strips_quotes() -> None:
    assert parse_cookies('a=1; a=2; b="x y"; junk; =empty') == {"a": "1", "b": "x y"}


def test_csrf_double_submit() -> None:
    cookie = f"{CSRF_COOKIE}=tok"
    check_csrf(scope(cookie=cookie, x_csrf_token="tok"))
    check_csrf(scope(cookie=cookie, x_csrf_token="tok"), session_csrf="tok")
    for bad in (scope(cookie=cookie), scope(cookie=cookie, x_csrf_token="other"), scope(x_csrf_token="tok"),
                scope(cookie=f"{CSRF_COOKIE}=", x_csrf_token="")):
        with pytest.raises(Forbidden):
            check_csrf(bad)
    with pytest.raises(Forbidden):  # header and cookie agree, but not with the session's own value
        check_csrf(scope(cookie=cookie, x_csrf_token="tok"), session_csrf="the-sessions")
    with pytest.raises(Forbidden):  # non-ASCII is compared as bytes: a 403, never a crash
        check_csrf(scope(cookie=f"{CSRF_COOKIE}=tok", x_csrf_token="t\u00f6k"))


def test_admission_and_the_rate_key() -> None:
    user = Principal(subject="u1", kind="user", roles=("guest",), session_id="s1")
    assert admit(user, public=False, scope=scope()) == user.actor
    assert admit(None, public=True, scope=scope(client="198.51.100.4")) == "ip:198.51.100.4"
    with pytest.raises(Unauthorized) as caught:
        admit(None, public=False, scope=scope())
    assert caught.value.code == "authentication_required"


def test_a_partner_principal_needs_a_client_id() -> None:
    partner = _partner({"sub": "partner-acme", "client_id": "partner-acme", "scope": "catalog:read", "exp": 9})
    assert partner.kind == "partner" and partner.roles == ("partner",) and partner.scopes == ("catalog:read",)
    for claims in ({"sub": "x", "exp": 9}, {"sub": "x", "client_id": "", "exp": 9}, {"sub": "x", "client_id": 7}):
        with pytest.raises(TokenRejected):
            _partner(claims)


@pytest.mark.parametrize(("exc", "code"), [
    (TokenRejected("expired", expired=True), "token_expired"),
    (TokenRejected("session_ended"), "session_ended"),
    (TokenRejected("bad_signature"), "invalid_token"),
])
def test_which_401(exc: TokenRejected, code: str) -> None:
    answer = unauthorized(exc)
    assert answer.code == code and answer.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_flood_is_audited_by_sample() -> None:
    audited = [n for n in range(1, 1001) if sampled(n)]
    assert audited[:AUDIT_FIRST] == list(range(1, AUDIT_FIRST + 1))
    assert audited[AUDIT_FIRST:] == list(range(AUDIT_EVERY, 1001, AUDIT_EVERY))


def test_fixed_windows_and_retry_after() -> None:
    assert window(125.5, 60) == (120, 54.5)
    assert window(120.0, 60) == (120, 60.0)
    answer = limited("login")
    assert 1 <= int(answer.headers["Retry-After"]) <= 60 and answer.code == "rate_limited"


def test_the_probe_limiter_counts_per_address_per_minute() -> None:
    limiter = ProbeLimiter()
    assert [limiter.allow("a", 2, now=60.0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", 2, now=61.0)
    assert limiter.allow("a", 2, now=120.0)  # a new minute
    assert all(limiter.allow("c", 0, now=121.0) for _ in range(50))  # 0: unlimited
