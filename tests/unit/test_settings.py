from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError


def test_defaults_point_at_the_local_stack() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("postgresql://")
    assert settings.api_port == 8000


def test_values_are_typed_from_the_environment() -> None:
    settings = Settings.from_env({"RESORT_API_PORT": "9001", "RESORT_LOG_JSON": "false",
                                  "RESORT_CORS_ORIGINS": "http://a.example, http://b.example"})
    assert settings.api_port == 9001
    assert settings.log_json is False
    assert settings.cors_origins == ["http://a.example", "http://b.example"]


@pytest.mark.parametrize(
    ("var", "value"),
    [("RESORT_API_PORT", "eighty"), ("RESORT_API_PORT", "70000"), ("RESORT_DATABASE_URL", "mysql://x/y"),
     ("RESORT_ACCESS_TOKEN_TTL", "-5"), ("RESORT_LOG_JSON", "maybe"), ("RESORT_SEARCH_POPULARITY_WEIGHT", "-0.1"),
     ("RESORT_SEARCH_POPULARITY_WEIGHT", "10.5"), ("RESORT_SEARCH_POPULARITY_DAYS", "0"),
     ("RESORT_SEARCH_POPULARITY_DAYS", "367")],
)
def test_a_bad_variable_is_named_in_the_error(var: str, value: str) -> None:
    with pytest.raises(SettingsError, match=var):
        Settings.from_env({var: value})


def test_groups_map_to_roles_and_everyone_is_a_guest() -> None:
    settings = Settings.from_env({"RESORT_ROLE_MAP": "front-desk=front_desk,resort-admins=admin"})
    assert settings.roles_for_groups(["front-desk", "unknown"]) == ["front_desk", "guest"]
    assert settings.roles_for_groups([]) == ["guest"]


@pytest.mark.parametrize("value", ["0", "301"])
def test_the_retry_after_of_an_unavailable_payment_provider_is_bounded(value: str) -> None:
    with pytest.raises(SettingsError, match="RESORT_PAYMENT_UNAVAILABLE_RETRY_AFTER_S"):
        Settings.from_env({"RESORT_PAYMENT_UNAVAILABLE_RETRY_AFTER_S": value})
