"""RESORT_ENV=production refuses the development defaults that would be unsafe, naming the variable."""

from __future__ import annotations

import pytest

from app.settings import DEMO_OIDC_CLIENT_SECRET, Settings, SettingsError

PRODUCTION = {"RESORT_ENV": "production", "RESORT_OIDC_CLIENT_SECRET": "a-real-secret-from-the-vault"}


def test_production_with_real_values_starts() -> None:
    settings = Settings.from_env(PRODUCTION)
    assert settings.cookie_secure and settings.oidc_client_secret != DEMO_OIDC_CLIENT_SECRET


@pytest.mark.parametrize(("changes", "variable"), [
    ({"RESORT_OIDC_CLIENT_SECRET": DEMO_OIDC_CLIENT_SECRET}, "RESORT_OIDC_CLIENT_SECRET"),
    ({"RESORT_OIDC_CLIENT_SECRET": ""}, "RESORT_OIDC_CLIENT_SECRET"),
    ({"RESORT_COOKIE_SECURE": "false"}, "RESORT_COOKIE_SECURE"),
])
def test_production_refuses_unsafe_defaults(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({**PRODUCTION, **changes})


def test_the_demo_secret_alone_is_refused_in_production() -> None:
    with pytest.raises(SettingsError, match="RESORT_OIDC_CLIENT_SECRET"):
        Settings.from_env({"RESORT_ENV": "production"})


def test_local_development_keeps_its_defaults() -> None:
    settings = Settings.from_env({"RESORT_COOKIE_SECURE": "false"})
    assert settings.oidc_client_secret == DEMO_OIDC_CLIENT_SECRET and not settings.cookie_secure
