"""compose.yml, the production-shaped stack, checked without a Docker engine: pinned images, health checks,
settings that exist, an IdP issuer a browser can reach, and an Elasticsearch client that speaks to its server.
``docker compose config`` runs too where the compose plugin exists."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import elasticsearch
import msgspec
import pytest
import yaml

from app.settings import PREFIX, PROJECT_ROOT, Settings

COMPOSE = PROJECT_ROOT / "compose.yml"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_every_image_is_pinned_or_built_here() -> None:
    for name, service in _services().items():
        if "build" in service:
            continue
        image = service.get("image", "")
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"


def test_every_dependency_waited_for_has_a_health_check() -> None:
    services = _services()
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if condition.get("condition") == "service_healthy":
                assert services[dependency].get("healthcheck"), f"{name} waits for {dependency}'s health check"
    for name in ("postgres", "redis", "kafka", "mongodb", "elasticsearch", "idp", "payments", "api", "lb"):
        assert services[name].get("healthcheck"), f"{name} has no health check"


def test_every_resort_variable_is_a_setting() -> None:
    known = {PREFIX + field.name.upper() for field in msgspec.structs.fields(Settings)}
    for name, service in _services().items():
        unknown = {var for var in _environment(service) if var.startswith(PREFIX)} - known
        assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"


def test_the_app_settings_of_compose_are_valid_in_production() -> None:
    env = {k: v for k, v in _environment(_services()["api"]).items() if k.startswith(PREFIX)}
    env = {k: re.sub(r"\$\{[^}]*\}", "a-secret-given-at-deploy-time", v) for k, v in env.items()}
    assert env["RESORT_ENV"] == "production"
    Settings.from_env(env)  # raises SettingsError naming the variable otherwise


def test_the_idp_issuer_is_reachable_from_a_browser_and_from_the_api() -> None:
    services = _services()
    issuer = _environment(services["api"])["RESORT_OIDC_ISSUER"]
    idp = services["idp"]
    assert _environment(idp)["OIDC_ISSUER"] == issuer, "the IdP and the api must agree on the issuer"
    host, port = urlsplit(issuer).hostname or "", urlsplit(issuer).port
    # A bare service name (http://idp:...) resolves only inside the compose network; "localhost" inside a
    # container is the container itself.
    assert host not in services and host not in ("localhost", "127.0.0.1"), f"{issuer} is not reachable both ways"
    if host.endswith(".localhost"):  # the browser's machine: the port must be published there ...
        assert any(str(p).split(":")[0] == str(port) for p in idp.get("ports", [])), "the IdP's port is not published"
        aliases = (idp.get("networks") or {}).get("default", {}).get("aliases", [])
        assert host in aliases, f"inside the compose network nothing answers to {host}"  # ... and the api's


def test_the_app_pays_through_the_sandbox_provider_of_compose() -> None:
    """The payment provider the app is given is the compose service running the sandbox, on that port, reachable
    from the other containers, waited for, its ledger on a volume over a folder the image's user owns."""
    services = _services()
    url = urlsplit(_environment(services["api"])["RESORT_PAYMENT_PROVIDER_URL"])
    sandbox = services[url.hostname or ""]
    argv = [*sandbox["entrypoint"], *sandbox["command"]]
    assert argv[:3] == ["python", "-m", "app.payments.sandbox"] and importlib.util.find_spec(argv[2])
    assert (argv[argv.index("--host") + 1], argv[argv.index("--port") + 1]) == ("0.0.0.0", str(url.port))
    assert services["api"]["depends_on"][url.hostname] == {"condition": "service_healthy"}
    assert f":{url.port}/health" in " ".join(sandbox["healthcheck"]["test"])
    ledger = argv[argv.index("--data-dir") + 1]
    assert ledger in [v.split(":")[1] for v in sandbox["volumes"]], "the ledger must outlive its container"
    assert re.search(rf"mkdir -p [^&]*{re.escape(ledger)}[ &]", (PROJECT_ROOT / "Dockerfile").read_text()), (
        "a named volume takes the owner of the image's folder: the image must create it for its user")


def test_the_elasticsearch_client_speaks_to_the_server_of_compose() -> None:
    """An 8.x server refuses the 9 client's compatibility header: every search would fail in production."""
    image = _services()["elasticsearch"]["image"]
    server_major = int(image.rsplit(":", 1)[1].split(".")[0])
    client_major = int(elasticsearch.__versionstr__.split(".")[0])
    assert client_major == server_major, f"client {elasticsearch.__versionstr__} against server {image}"
    pinned = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in pinned if d.startswith("elasticsearch"))
    assert int(spec.split("==")[1].split(".")[0]) == server_major, spec


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose plugin on this machine")
    env = {**os.environ, "RESORT_OIDC_CLIENT_SECRET": "checked-by-the-tests"}
    result = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "--quiet"], capture_output=True,
                            text=True, env=env, cwd=Path(COMPOSE).parent, timeout=60)
    assert result.returncode == 0, result.stderr
