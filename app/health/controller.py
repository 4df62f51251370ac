"""``/health/live``, the public ``/health/ready`` and the operators' ``/health/detail``.

``/health/ready`` is for load balancers and orchestrators: PostgreSQL and Redis only (cached briefly, limited
per client address), statuses without latencies or error text; 503 only when one of them is down.
``/health/detail`` is for operators: every dependency with its latency and error, with
``Authorization: Bearer $RESORT_HEALTH_TOKEN`` (or, outside production, from the machine itself).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from app.clientaddr import client_ip
from app.drain import DRAIN
from app.errors import Forbidden, RateLimited
from app.health.checks import CheckResult, Readiness
from app.settings import Settings

NO_STORE = {"Cache-Control": "no-store"}
_MAX_CALLERS = 10_000


class ProbeLimiter:
    """Per-address fixed window in this process: it must work while Redis is down, which is when it is asked."""

    def __init__(self) -> None:
        self.window = 0
        self.counts: dict[str, int] = {}

    def allow(self, who: str, limit: int, now: float | None = None) -> bool:
        window = int((time.time() if now is None else now) // 60)
        if window != self.window or len(self.counts) > _MAX_CALLERS:
            self.window, self.counts = window, {}
        self.counts[who] = self.counts.get(who, 0) + 1
        return limit <= 0 or self.counts[who] <= limit


def _summary(results: list[CheckResult]) -> tuple[str, list[str], list[str]]:
    down = [r.name for r in results if r.status == "down"]
    degraded = [r.name for r in results if r.status == "degraded"]
    return ("down" if down else "degraded" if degraded else "ok"), down, degraded


def _internal(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """The operator's token, or (outside production, without a token configured) a caller on this machine."""
    if settings.health_token:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {settings.health_token}".encode())
    try:
        loopback = ipaddress.ip_address(client_ip(request.scope)).is_loopback
    except ValueError:
        return False
    return loopback and settings.env != "production"


def readiness_of(request: Request[Any, Any, Any]) -> Readiness:
    return request.app.state.readiness


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up", opt={"public": True})
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        summary="Can this instance serve: PostgreSQL and Redis answer (for load balancers)",
        opt={"public": True, "problems": {429: ("rate_limited",)}},
        responses={503: ResponseSpec(data_container=dict[str, Any],
                                   description="PostgreSQL or Redis is down, or the process is stopping")},
    )
    async def ready(self, request: Request[Any, Any, Any], settings: Settings) -> Response[dict[str, Any]]:
        limiter: ProbeLimiter = request.app.state.probe_limiter
        if not limiter.allow(client_ip(request.scope), settings.health_rate_limit_per_minute):
            raise RateLimited("Too many readiness probes.", code="rate_limited", headers={"Retry-After": "60"})
        if DRAIN.active:  # SIGTERM: leave the load balancer before the process stops (app/drain.py)
            return Response({"status": "draining", "failed": [], "dependencies": {}}, status_code=503,
                            headers=NO_STORE)
        results = await readiness_of(request).required()
        status, down, _ = _summary(results)
        body = {"status": status, "failed": down, "dependencies": {r.name: {"status": r.status} for r in results}}
        return Response(body, status_code=503 if down else 200, headers=NO_STORE)

    @get(
        "/detail",
        summary="Every dependency's status, latency and error (operators: RESORT_HEALTH_TOKEN)",
        opt={"public": True, "problems": {403: ("health_token_required",)}},
        responses={503: ResponseSpec(data_container=dict[str, Any], description="PostgreSQL or Redis is down")},
    )
    async def detail(self, request: Request[Any, Any, Any], settings: Settings) -> Response[dict[str, Any]]:
        if not _internal(request, settings):
            raise Forbidden("The detailed health report is for operators.", code="health_token_required")
        results = await readiness_of(request).everything()
        status, down, degraded = _summary(results)
        body = {"status": status, "failed": down, "degraded": degraded,
                "dependencies": {r.name: r.as_dict() for r in results}}
        return Response(body, status_code=503 if down else 200, headers=NO_STORE)
