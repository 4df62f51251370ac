"""The quick fault-injection run (``python -m bench.faults --quick``): the whole system under every kind of
fault, checked by the history checker. It fails on any violation of design.md §4."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.settings import PROJECT_ROOT
from bench.faults.nemesis import KINDS


def test_the_quick_fault_run_keeps_every_promise(stack: object) -> None:
    env = {**os.environ, "RESORT_DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/resort_faults"}
    run = subprocess.run([sys.executable, "-m", "bench.faults", "--quick"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    report = json.loads(run.stdout[run.stdout.index("{"):])
    print(json.dumps({k: v for k, v in report.items() if k != "violations"}, indent=1))
    assert report["violations"] == [], report["violations"][:10]
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(report["fault_kinds"]) == sorted(KINDS)
    assert report["outcomes"]["book"]["ok"] > 0 and report["outcomes"]["cancel"]["ok"] > 0
