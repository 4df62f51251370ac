"""The lint rules of ``pyproject.toml`` hold on the whole tree, in the suite (CI runs only the suite).

Among them, ``asyncio.wait_for`` is banned outside tests and benchmarks: on Python 3.11 it can lose a cancel
that arrives as its inner awaitable completes (CPython gh-86296), and a cancelled task then carries on; a
role or the api could fail to stop. ``async with asyncio.timeout(s):`` has no such window.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_the_tree_passes_the_lint_rules() -> None:
    result = _ruff(".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_wait_for_is_refused_in_server_code() -> None:
    source = "import asyncio\n\n\nasync def stop(event: asyncio.Event) -> None:\n    await asyncio.wait_for(event.wait(), 1)\n"
    result = _ruff("--stdin-filename", "app/probe.py", "-", stdin=source)
    assert "TID251" in result.stdout, result.stdout + result.stderr
