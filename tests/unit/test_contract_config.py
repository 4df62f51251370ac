"""The committed schemathesis.toml is the one the app generates: a run from the repository's root holds the
API to the document plus the rules declared on its handlers, and to nothing else."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.contract_config import config_text
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_schemathesis_toml_is_current() -> None:
    generated = config_text(Settings())
    assert (ROOT / "schemathesis.toml").read_text() == generated, (
        "regenerate it: .venv/bin/python -m app.contract_config > schemathesis.toml")


def test_it_enables_every_check_and_names_each_rule_bound_operation() -> None:
    config = tomllib.loads(config_text(Settings()))
    assert config["checks"]["enabled"] is True
    names = {op["include-name"] for op in config["operations"]}
    assert {"POST /holds", "POST /bookings", "GET /products/{product_id}/quote"} <= names
    holds = next(op for op in config["operations"] if op["include-name"] == "POST /holds")
    assert "422" in holds["checks"]["positive_data_acceptance"]["expected-statuses"]
