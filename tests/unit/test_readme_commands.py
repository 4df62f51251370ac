"""README.md's commands exist: each ``resort <command>``, each ``python -m <module>``, each script it names."""

from __future__ import annotations

import importlib.util
import re

from app.cli import main
from app.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def test_every_resort_command_in_the_readme_exists() -> None:
    named = set(re.findall(r"\bresort ([a-z][a-z-]*)", README))
    assert {"up", "run", "migrate", "rotate-keys"} <= named
    assert named - set(main.commands) == set()


def test_every_python_module_in_the_readme_exists() -> None:
    named = {name for name in re.findall(r"python -m ([A-Za-z_][\w.]*)", README) if "<" not in name}
    assert {"pytest", "bench.auth", "app.envdoc"} <= named
    assert [name for name in named if importlib.util.find_spec(name.rstrip(".")) is None] == []


def test_every_script_in_the_readme_exists() -> None:
    named = set(re.findall(r"bash ([\w./-]+\.sh)", README)) | set(re.findall(r"`(\.ci/run)`", README))
    assert "scripts/setup.sh" in named
    assert [path for path in named if not (PROJECT_ROOT / path).is_file()] == []
