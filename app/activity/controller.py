"""The revenue team's reports (role ``admin``): JSON per report, the same rows as CSV, and the report page
(``/admin/analytics``, charts drawn by the self-hosted Chart.js under ``/admin/analytics/static``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.static_files import create_static_files_router

from app.activity import reports
from app.activity.schemas import (
    BookingsCheck,
    CancellationsReport,
    DemandReport,
    FunnelReport,
    PairsReport,
    SearchesReport,
)
from app.auth.guards import requires_roles
from app.problem_docs import returns
from app.resources import Resources
from app.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
MAX_ROWS = next(f.default for f in msgspec.structs.fields(Settings) if f.name == "activity_report_max_rows")
MAX_DAYS = next(f.default for f in msgspec.structs.fields(Settings) if f.name == "activity_report_max_days")
Property = Annotated[str, Parameter(description="The resort's id", max_length=64)]
SomeProperty = Annotated[str | None, Parameter(description="The resort's id", max_length=64)]
Limit = Annotated[int, Parameter(ge=1, le=MAX_ROWS,
                                 description=f"at most RESORT_ACTIVITY_REPORT_MAX_ROWS (default {MAX_ROWS})")]
RANGE = {"rules": {422: f"`end` not before `start` (`invalid_date_range`), at most {MAX_DAYS} days"
                        " (`date_range_too_long`)"}}
ReportName = Annotated[str, Parameter(description="Which report", schema_extra={"enum": list(reports.REPORTS)})]


class AnalyticsController(Controller):
    path = "/admin/analytics"
    guards = [requires_roles("admin")]
    tags = ["analytics"]

    @get("/funnel", summary="Search -> view -> hold -> booking per day, with conversion rates (from rollups)",
         opt=RANGE, responses=returns(FunnelReport))
    async def funnel(self, resources: Resources, property: Property, start: dt.date, end: dt.date) -> dict[str, Any]:
        return await reports.funnel(resources, property, start, end)

    @get("/demand", summary="Interest, holds and bookings per stay night (from rollups)", opt=RANGE,
         responses=returns(DemandReport))
    async def demand(self, resources: Resources, property: Property, start: dt.date, end: dt.date) -> dict[str, Any]:
        return await reports.demand(resources, property, start, end)

    @get("/searches", summary="Top searches, or those that found nothing (`zero=true`)",
         responses=returns(SearchesReport))
    async def searches(self, resources: Resources, zero: bool = False, limit: Limit = 20) -> dict[str, Any]:
        return await reports.searches(resources, zero, limit)

    @get("/cancellations", summary="Cancellation rate per rate plan of a resort", responses=returns(CancellationsReport))
    async def cancellations(self, resources: Resources, property: Property) -> dict[str, Any]:
        return await reports.cancellations(resources, property)

    @get("/pairs", summary="Products most often booked by the same guests (of one resort's products if given)",
         responses=returns(PairsReport))
    async def pairs(self, resources: Resources, property: SomeProperty = None, limit: Limit = 20) -> dict[str, Any]:
        return await reports.pairs(resources, limit, property)

    @get("/check", summary="The rollups of bookings against PostgreSQL's bookings table: every difference (demand"
         " per product and night from `start` to `end`, rate plans of all time)", opt=RANGE,
         responses=returns(BookingsCheck))
    async def bookings_check(self, resources: Resources, property: Property, start: dt.date,
                             end: dt.date) -> dict[str, Any]:
        return await reports.bookings_check(resources, property, start, end)

    @get("/export/{report:str}", summary="A report's rows as CSV (the same query parameters as its JSON)",
         opt=RANGE | {"problems": {404: ("report_not_found",)}}, media_type="text/csv",
         responses={200: ResponseSpec(data_container=str, media_type="text/csv", description="The rows, as CSV",
                                      generate_examples=False)})
    async def export(self, resources: Resources, report: ReportName, property: SomeProperty = None,
                     start: dt.date | None = None, end: dt.date | None = None, zero: bool = False,
                     limit: Limit = 20) -> Response[str]:
        body = await reports.report(resources, report, property, start, end, zero, limit)
        return Response(reports.to_csv(reports.rows_of(report, body)), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{report}.csv"'})

    @get("/", include_in_schema=False, sync_to_thread=False)
    def page(self) -> Response[bytes]:
        """The report page (its data comes from the JSON endpoints above, with the same admin session)."""
        return Response((STATIC / "report.html").read_bytes(), media_type="text/html",
                        headers={"Cache-Control": "no-cache"})


static_files = create_static_files_router(path="/admin/analytics/static", directories=[STATIC],
                                          name="analytics-static", opt={"public": True}, include_in_schema=False)
