from __future__ import annotations

from app.envdoc import render_env_example
from app.settings import PROJECT_ROOT


def test_env_example_lists_every_setting() -> None:
    """Regenerate with `python -m app.envdoc` after adding a setting."""
    assert (PROJECT_ROOT / ".env.example").read_text() == render_env_example()
