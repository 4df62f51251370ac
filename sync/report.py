"""``resort reconcile``: run reconciliation with a rich progress bar and print its report."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.resources import open_resources
from app.settings import Settings
from sync.reconcile import STORES, ReconcileReport, reconcile


async def reconcile_command(settings: Settings, console: Console, *, property_id: str | None,
                            dry_run: bool) -> ReconcileReport:
    async with open_resources(settings) as resources:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            tasks: dict[str, int] = {}

            def on_progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    label = "reading stores" if stage == "load" else "repairing drift"
                    tasks[stage] = bar.add_task(label, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = await reconcile(resources, property_id=property_id, dry_run=dry_run,
                                     progress=on_progress)
    console.print(render_report(report, dry_run=dry_run))
    return report


def render_report(report: ReconcileReport, *, dry_run: bool) -> Table:
    table = Table(title=f"reconciliation of {report.products} products ({report.seconds:.2f}s)"
                  + (" [dry run]" if dry_run else ""))
    table.add_column("store")
    for reason in ("missing", "version", "tampered", "inactive", "orphan"):
        table.add_column(reason, justify="right")
    for store in STORES:
        mine = [d for d in report.drifts if d.store == store]
        table.add_row(store, *[str(sum(1 for d in mine if d.reason == r))
                               for r in ("missing", "version", "tampered", "inactive", "orphan")])
    failed = f", FAILED {len(report.failed)}: {', '.join(report.failed[:10])}" if report.failed else ""
    table.caption = f"drift {len(report.drifts)}, repaired products {report.repaired}{failed}"
    return table
