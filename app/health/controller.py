"""``/health/live`` and ``/health/ready``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec

from app.health.checks import SOFT_DEPENDENCIES, run_checks
from app.resources import Resources


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up", opt={"public": True})
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        summary="Every dependency answers a real round trip",
        opt={"public": True},
        responses={
            503: ResponseSpec(data_container=dict[str, Any], description="A required dependency is down")
        },
    )
    async def ready(self, resources: Resources) -> Response[dict[str, Any]]:
        results = await run_checks(resources)
        failed = [r.name for r in results if not r.ok and r.name not in SOFT_DEPENDENCIES]
        degraded = [r.name for r in results if not r.ok and r.name in SOFT_DEPENDENCIES]
        status = "down" if failed else ("degraded" if degraded else "ok")
        body = {
            "status": status,
            "failed": failed,
            "degraded": degraded,
            "dependencies": {r.name: r.as_dict() for r in results},
        }
        return Response(body, status_code=503 if failed else 200, headers={"Cache-Control": "no-store"})
