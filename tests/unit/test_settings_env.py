from __future__ import annotations

from app.settings import Settings


def test_to_env_round_trips() -> None:
    original = Settings.from_env({"RESORT_API_PORT": "9100", "RESORT_CORS_ORIGINS": "http://a,http://b",
                                  "RESORT_LOG_JSON": "false"})
    assert Settings.from_env(original.to_env()) == original
