"""Render ``.env.example`` from the settings object, so the two never drift (a unit test checks it)."""

from __future__ import annotations

import msgspec

from app.settings import PREFIX, PROJECT_ROOT, Settings


def render_env_example() -> str:
    defaults = Settings()
    lines = ["# Every setting of the G Resort backend, with its default. Export the ones you change (the process reads its environment only).", ""]
    for field in msgspec.structs.fields(Settings):
        value = getattr(defaults, field.name)
        if field.name == "data_dir":
            value = ".data"
        elif isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, list):
            value = ",".join(value)
        lines.append(f"# {PREFIX}{field.name.upper()}={value}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (PROJECT_ROOT / ".env.example").write_text(render_env_example())
