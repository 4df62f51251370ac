"""The ``resort`` command: run the whole system or one role, migrate, seed, reconcile."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time

import click
from rich.console import Console

from app.settings import Settings, SettingsError, get_settings

console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        raise SystemExit(2) from None


@click.group()
def main() -> None:
    """G Resort backend."""


@main.command()
def migrate() -> None:
    """Apply pending PostgreSQL migrations."""
    from app.db.migrate import MigrationChanged
    from app.db.migrate import migrate as run_migrations

    try:
        applied = asyncio.run(run_migrations(_settings().database_url))
    except MigrationChanged as exc:
        console.print(f"[red]refused[/]: {exc}")
        raise SystemExit(1) from None
    console.print(f"applied migrations: {applied or 'none pending'}")


@main.command()
@click.argument("role")
def run(role: str) -> None:
    """Run one process role: api, or a worker role (relay, projector, ...), or 'worker' for all of them."""
    settings = _settings()
    if role == "api":
        import uvicorn

        from app.drain import serve
        from app.observability import configure_logging

        configure_logging(settings)
        config = dict(
            app="app.main:asgi", factory=True, host=settings.api_host, port=settings.api_port,
            loop="uvloop", http="httptools", log_config=None, access_log=False, lifespan="on",
            proxy_headers=False,  # X-Forwarded-For is read by app.clientaddr, from RESORT_TRUSTED_PROXIES only
            timeout_graceful_shutdown=settings.api_shutdown_timeout_s,
            # /live sends the same small frames to many sockets: compressing each one per socket would
            # cost more CPU than the frames themselves.
            ws_per_message_deflate=False,
            ws_max_size=settings.live_max_frame_bytes,  # a larger client frame is closed 1009 before it is read
        )
        if settings.api_workers == 1:
            serve(config, settings)  # SIGTERM drains (app/drain.py)
            return
        # workers > 1: uvicorn's parent binds the port and supervises its workers (one that dies is
        # started again); a port it cannot bind ends the process with an error.
        uvicorn.run(**config, workers=settings.api_workers)  # type: ignore[arg-type]
        return
    from app.observability import configure_logging
    from app.worker import available_roles, run_worker

    configure_logging(settings)
    roles = available_roles() if role == "worker" else [role]
    asyncio.run(run_worker(settings, roles))


@main.command()
def servers() -> None:
    """Start only the local servers (no api, no workers) and keep them up until Ctrl-C."""
    from app.stack import LocalStack, local_servers

    stop = StopSignal()
    stack = LocalStack(local_servers(_settings()), on_progress=console.print)
    try:
        stack.start_servers()
        console.print("[green]servers ready[/]; Ctrl-C stops them")
        stop.running = True
        _wait_for_signal(stop)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    finally:
        stack.stop()


@main.command()
@click.option("--no-seed", is_flag=True, help="Do not load demo data into an empty database.")
@click.option("--api-workers", type=click.IntRange(min=1), default=None,
              help="api processes behind the api port (default: RESORT_API_WORKERS).")
@click.option("--scale", default="", metavar="ROLE=N,...",
              help="Instances per role, e.g. api=3,saga=2,publisher=2 (api instances share the port).")
def up(no_seed: bool, api_workers: int | None, scale: str) -> None:
    """Start every server, migrate, seed an empty database, then run the api and every worker role,
    restarting any that exits; Ctrl-C or SIGTERM stops everything."""
    stop = StopSignal()  # first: a Ctrl-C from here on is an orderly stop, whatever is under way
    try:
        from app.stack.state import StackBusy
        from app.stack.up import parse_scale, run_up
        from app.worker import available_roles

        settings = _settings()
    except KeyboardInterrupt:
        stop.quiet()
        raise SystemExit(130) from None
    try:
        api_instances = parse_scale(scale, available_roles())["api"]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scale") from None
    if api_instances > 1 and (api_workers or 1) > 1:
        raise click.BadParameter("use --scale api=N or --api-workers N, not both", param_hint="--scale")
    try:
        run_up(settings, seed=settings.seed_on_up and not no_seed, api_workers=api_workers or settings.api_workers,
               stop=stop, report=console.print, scale=scale)
    except StackBusy as exc:
        console.print(f"[red]refusing to start:[/] {exc}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        stop.quiet()
        console.print("[yellow]interrupted while starting[/]")
        console.print("[green]everything stopped[/]")
        raise SystemExit(stop.exit_status()) from None
    stop.quiet()
    console.print("[green]everything stopped[/]")
    raise SystemExit(stop.exit_status())


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per process instead of a table.")
def status(as_json: bool) -> None:
    """Every server and role of the running `resort up`: pid, port, up since, restarts, readiness."""
    from app.stack.status import show_status

    raise SystemExit(show_status(_settings(), Console(width=160) if not as_json else console, as_json=as_json))


@main.command()
@click.option("--property", "property_id", default=None, help="Only the products of this property.")
@click.option("--dry-run", is_flag=True, help="Report drift without repairing it.")
def reconcile(property_id: str | None, dry_run: bool) -> None:
    """Compare PostgreSQL with the search index and the read models; repair what drifted."""
    from sync.report import reconcile_command

    report = asyncio.run(reconcile_command(_settings(), console, property_id=property_id, dry_run=dry_run))
    if report.failed:
        raise SystemExit(1)


@main.group()
def payments() -> None:
    """Payments: the provider's ledger against the bookings."""


@payments.command("reconcile")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), default=None,
              help="How far back to look (default RESORT_PAYMENTS_RECONCILE_WINDOW_H).")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
def payments_reconcile(hours: float | None, as_json: bool) -> None:
    """Compare the payment provider's ledger with bookings; exit 1 on any money mismatch."""
    import json

    from app.payments.reconcile import as_json as report_json
    from app.payments.reconcile import lines, reconcile_command

    report = asyncio.run(reconcile_command(_settings(), hours))
    if as_json:
        click.echo(json.dumps(report_json(report)))
    else:
        for line in lines(report):
            click.echo(line)
    if not report.clean:
        raise SystemExit(1)


@main.command("night-audit")
@click.option("--property", "property_id", default=None, help="Only this property (default: every property).")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The business day to close (default: each property's yesterday).")
def night_audit(property_id: str | None, day: object) -> None:
    """Close a business day: no-shows marked and their fee settled, stays rolled over, the day's report stored."""
    from app.frontdesk.domain import FrontDeskRefused
    from app.frontdesk.night_audit import command

    try:
        reports = asyncio.run(command(_settings(), property_id, day.date() if day else None))  # type: ignore[attr-defined]
    except FrontDeskRefused as exc:
        console.print(f"[red]refused[/] ({exc.code}): {exc}")
        raise SystemExit(1) from None
    for r in reports:
        click.echo(f"{r.property_id} {r.business_date.isoformat()} {r.state}: occupancy {r.occupancy:.2%},"
                   f" ADR {r.adr}, RevPAR {r.revpar} {r.currency or ''}; {r.rooms_sold}/{r.rooms_available} rooms,"
                   f" {r.no_shows} no-show(s) ({r.no_show_fees} kept), {r.cancellations} cancellation(s),"
                   f" {r.stays_rolled} stay(s) rolled over")
    if any(r.state != "done" for r in reports):
        raise SystemExit(1)


@main.command()
def seed() -> None:
    """Load the demo catalogue: three resorts, a year of prices and inventory, details, reviews (idempotent)."""
    from app.catalog.seed import seed_command
    from app.db.migrate import migrate as run_migrations

    settings = _settings()
    asyncio.run(run_migrations(settings.database_url))
    report = asyncio.run(seed_command(settings, progress=True))
    console.print(
        f"[green]seeded[/]: {report.properties} properties, {report.products} products, {report.rates} nightly"
        f" rates, {report.inventory} inventory nights, {report.reviews} reviews, {report.rooms} rooms"
        " (0 everywhere = already seeded)"
    )
    from app.activity.seed import seed_activity

    new, counted = asyncio.run(seed_activity(settings))
    console.print(f"[green]seeded[/]: {new} demo activity events ({counted} rolled up; 0 = already seeded)")


@main.command()
@click.argument("subject")
def forget(subject: str) -> None:
    """Delete a guest's activity (privacy request): SUBJECT is user:<sub>, client:<id> or anon:<session>.
    The reports stay correct: what was counted of the events is taken out of the rollups."""
    from app.activity.admin import forget_subject

    deleted = asyncio.run(forget_subject(_settings(), subject))
    console.print(f"forgot {subject}: {deleted} activity events deleted, rollups adjusted")


@main.group()
def activity() -> None:
    """Activity analytics: the rollups checked against PostgreSQL."""


@activity.command("check")
@click.option("--property", "property_id", required=True, help="The resort to check.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First night of the demand compared (default: 183 days ago).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last night of the demand compared (default: 182 days ahead; at most RESORT_ACTIVITY_REPORT_MAX_DAYS"
                   " nights in all).")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
def activity_check(property_id: str, start: dt.datetime | None, end: dt.datetime | None, as_json: bool) -> None:
    """Compare the activity rollups of bookings (per product and night, per rate plan, cancellations too) with the
    bookings table; print every difference, exit 1 if there is one."""
    import json

    from app.activity import check
    from app.activity.admin import check_bookings

    settings = _settings()
    today = dt.datetime.now(dt.UTC).date()
    first, last = (start.date() if start else today - dt.timedelta(days=183)), (
        end.date() if end else today + dt.timedelta(days=182))
    if not 0 <= (last - first).days < settings.activity_report_max_days:
        console.print(f"[red]refused[/]: --end must not be before --start, at most {settings.activity_report_max_days}"
                      " nights")
        raise SystemExit(2)
    report = asyncio.run(check_bookings(settings, property_id, first, last))
    if as_json:
        click.echo(json.dumps(check.as_json(report)))
    else:
        for line in check.lines(report):
            click.echo(line)
    if not report.clean:
        raise SystemExit(1)


@main.command("rotate-keys")
@click.option("--keep", default=2, show_default=True, help="How many keys stay valid for verification.")
def rotate_keys(keep: int) -> None:
    """Make a new access-token signing key current; the previous one stays valid for verification."""
    from app.auth.keys import keys_path, rotate_keys_file

    path = keys_path(_settings())
    console.print(f"new signing key {rotate_keys_file(path, keep=keep)} in {path}; "
                  "every api instance picks it up within seconds")


class StopSignal:
    """SIGINT/SIGTERM: while starting, interrupt the step under way; once running, ask for a clean stop."""

    def __init__(self) -> None:
        self.running = False
        self.received: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        self.received.append(signum)
        if not self.running and len(self.received) == 1:  # interrupt once; a second signal only asks again
            raise KeyboardInterrupt

    def exit_status(self) -> int:
        """128 + the first signal: 130 after Ctrl-C, 143 after SIGTERM, whether it came while starting or
        while running (one answer for one cause, as shells report a process stopped by a signal)."""
        return 128 + (self.received[0] if self.received else signal.SIGINT)

    def quiet(self) -> None:
        """Everything is stopped: further SIGINT/SIGTERM (a repeated Ctrl-C, a second kill) are ignored until
        the process exits, so it always ends with its own status (0 or 130), never killed by the signal."""
        self.running = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)

    def __bool__(self) -> bool:
        return bool(self.received)


def _wait_for_signal(stop: StopSignal) -> None:
    """Block until SIGINT or SIGTERM."""
    while not stop:
        time.sleep(0.2)


def entry() -> None:
    """The ``resort`` command: a Ctrl-C that lands outside a command's own handling (while Python imports,
    or after the command returned) ends the process with status 130, not killed by the signal."""
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    entry()
