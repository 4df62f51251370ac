"""The quick fault-injection run (``python -m bench.faults --quick``): the whole system under every kind of
fault, with guests, partners, an administrator and live subscribers, checked by the history checker
(and the stores' convergence, the live sequences, the partners' feeds). It fails on any violation of
design.md §4."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.settings import PROJECT_ROOT, Settings
from bench.faults.nemesis import KINDS


def test_the_quick_fault_run_keeps_every_promise(settings: Settings, stack: object) -> None:
    # a database of its own next to the test database (the run terminates every connection to it)
    env = {**os.environ, "RESORT_DATABASE_URL": f"{settings.database_url}_faults",
           "RESORT_MONGO_DB": f"{settings.mongo_db}_faults"}
    run = subprocess.run([sys.executable, "-m", "bench.faults", "--quick"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert "{" in run.stdout, f"the run printed no report (exit {run.returncode}):\n{run.stderr[-4000:]}"
    report = json.loads(run.stdout[run.stdout.index("{"):])
    print(json.dumps({k: v for k, v in report.items() if k != "violations"}, indent=1))
    assert report["violations"] == [], report["violations"][:10]
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(report["fault_kinds"]) == sorted(KINDS)
    assert report["outcomes"]["book"]["ok"] > 0 and report["outcomes"]["cancel"]["ok"] > 0
    assert report["outcomes"]["price"]["ok"] > 0  # the search documents changed while the faults ran
    assert min(report["operations_by_actor"].get(p, 0) for p in ("partner-acme", "partner-globe")) > 0
    assert report["partner_feed_events"] > 0
    assert report["live"]["frames"]["update"] > 0 and report["live"]["booking_channels"] > 0
