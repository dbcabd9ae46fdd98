"""The deploy/ manifests agree with the binaries' configuration contract.

The contract (deploy/README.md, "Configuration contract") is restated below as data; the
Rust side implements exactly these flags and environment variables. Each test runs on the
source files and, when validate.sh rendered them, on every kustomize overlay, since the
overlays are what is applied.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import tempfile

import hcl2
import pytest

import manifests

# --- The contract -----------------------------------------------------------------------
WORKER_FLAGS = {
    "--amqp": "MOONFARM_AMQP_URL",
    "--blob": "MOONFARM_BLOB_URL",
    "--task-queue": "MOONFARM_TASK_QUEUE",
    "--result-queue": "MOONFARM_RESULT_QUEUE",
    "--prefetch": "MOONFARM_PREFETCH",
    "--http-port": "MOONFARM_HTTP_PORT",
    "--grace-seconds": "MOONFARM_GRACE_SECONDS",
    "--exit-when-idle": "MOONFARM_EXIT_WHEN_IDLE",
    "--threads": "MOONFARM_THREADS",
    "--log-format": "MOONFARM_LOG_FORMAT",
}
MERGER_FLAGS = {k: WORKER_FLAGS[k] for k in ("--amqp", "--blob", "--result-queue", "--http-port", "--log-format")}
MERGER_FLAGS["--keep-partials"] = "MOONFARM_KEEP_PARTIALS"
# Adaptive sampling: the merger publishes next passes to the workers' task queue.
MERGER_FLAGS["--task-queue"] = "MOONFARM_TASK_QUEUE"
# Result shards (shared::shard): a job's results go to <result queue>.<i> when N > 1.
WORKER_FLAGS["--result-shards"] = "MOONFARM_RESULT_SHARDS"
MERGER_FLAGS["--result-shards"] = "MOONFARM_RESULT_SHARDS"
MERGER_FLAGS["--shard"] = "MOONFARM_SHARD"
# `producer submit` (the in-cluster Job, deploy/producer): its flags with a variable.
PRODUCER_FLAGS = {
    "--amqp": "MOONFARM_AMQP_URL",
    "--blob": "MOONFARM_BLOB_URL",
    "--task-queue": "MOONFARM_TASK_QUEUE",
    "--result-queue": "MOONFARM_RESULT_QUEUE",
    "--out": "MOONFARM_OUT",
    "--spp": "MOONFARM_SPP",
    "--res": "MOONFARM_RES",
    "--tile-size": "MOONFARM_TILE_SIZE",
    "--passes": "MOONFARM_PASSES",
    "--frame": "MOONFARM_FRAME",
    "--snapshots": "MOONFARM_SNAPSHOTS",
}
PRODUCER_SWITCHES = {"--wait", "--json"}
DEFAULTS = {
    "worker": {
        "MOONFARM_TASK_QUEUE": "moonfarm.tasks",
        "MOONFARM_RESULT_QUEUE": "moonfarm.results",
        "MOONFARM_PREFETCH": "1",
        "MOONFARM_HTTP_PORT": "9464",
        "MOONFARM_GRACE_SECONDS": "300",
    },
    "merger": {
        "MOONFARM_TASK_QUEUE": "moonfarm.tasks",
        "MOONFARM_RESULT_QUEUE": "moonfarm.results",
        "MOONFARM_HTTP_PORT": "9465",
    },
    "producer": {"MOONFARM_TASK_QUEUE": "moonfarm.tasks", "MOONFARM_RESULT_QUEUE": "moonfarm.results"},
}
# Read by shared::blob (test_azure_env_is_read_by_shared_blob checks its source).
AZURE_ENV = {
    "MOONFARM_AZURE_AUTH",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_USE_EMULATOR",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
}
FLAGS = {"worker": WORKER_FLAGS, "merger": MERGER_FLAGS, "producer": PRODUCER_FLAGS}
# Commands of the Moonfarm image that are not Moonfarm binaries (the producer Job's
# `frame` container holds the rendered EXR with `sleep`).
HELPER_COMMANDS = {"sleep"}
# Rendered overlays applied beside another one, checked together with it: the producer
# Job runs in the farm's namespace, next to its broker and network policies.
COMPANIONS = {"example-producer": "example"}
BOOLEAN_FLAGS = {"--check-config"}
# The Secret created by hand (deploy/README.md) and the keys it must have.
RABBITMQ_SECRET = "moonfarm-rabbitmq"
RABBITMQ_SECRET_KEYS = {"amqp-url", "management-url", "default-user.conf", "erlang-cookie"}


# --- Views of the manifests -------------------------------------------------------------
def object_sets() -> dict[str, list[dict]]:
    sets = {"source": [o for _, o in manifests.source_objects()]}
    rendered = manifests.rendered_sets()
    for name, objs in rendered.items():
        if name in COMPANIONS:
            objs = objs + rendered[COMPANIONS[name]]
        sets[f"overlay {name}"] = objs
    return sets


SETS = object_sets()


def binary_of(container: dict) -> str | None:
    """Which Moonfarm binary a container runs, or None for other images (RabbitMQ)."""
    image = container.get("image", "")
    if "moonfarm" not in image.rsplit("/", 1)[-1]:
        return None
    cmd = container.get("command")
    name = pathlib.PurePosixPath(cmd[0]).name if cmd else "worker"  # image entrypoint
    if name in HELPER_COMMANDS:
        return None
    assert name in FLAGS, f"container {container['name']} runs {name!r}, not a Moonfarm binary"
    return name


def all_containers(tmpl: dict) -> list[dict]:
    return tmpl["spec"].get("initContainers", []) + tmpl["spec"]["containers"]


def moonfarm_containers(objects):
    for owner, tmpl in manifests.pod_templates(objects):
        for c in all_containers(tmpl):
            b = binary_of(c)
            if b:
                yield owner, tmpl, c, b


def parse_args(args: list[str]) -> dict[str, str | None]:
    out, i = {}, 0
    while i < len(args):
        a = args[i]
        assert a.startswith("--"), f"unexpected positional argument {a!r}"
        if "=" in a:
            k, v = a.split("=", 1)
        elif a in BOOLEAN_FLAGS:
            k, v = a, None
        else:
            k, v = a, args[i + 1]
            i += 1
        out[k] = v
        i += 1
    return out


def parse_producer_args(args: list[str]) -> tuple[str, list[str], dict[str, str | None]]:
    """`producer SUBCOMMAND [POSITIONAL | --flag value | --switch]...`"""
    assert args, "the producer needs a subcommand"
    positional, flags, i = [], {}, 1
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            positional.append(a)
        elif "=" in a:
            k, v = a.split("=", 1)
            flags[k] = v
        elif a in PRODUCER_SWITCHES:
            flags[a] = None
        else:
            flags[a] = args[i + 1]
            i += 1
        i += 1
    return args[0], positional, flags


def container_flags(container: dict, binary: str) -> dict[str, str | None]:
    args = container.get("args") or []
    return parse_producer_args(args)[2] if binary == "producer" else parse_args(args)


def effective(container: dict, binary: str) -> dict[str, str]:
    """Resolved config by env name: flag > env > default (valueFrom shown as '<from:...>')."""
    cfg = dict(DEFAULTS[binary])
    for e in container.get("env") or []:
        if "value" in e:
            cfg[e["name"]] = str(e["value"])
        else:
            cfg[e["name"]] = f"<from:{list(e['valueFrom'])[0]}>"
    for flag, value in container_flags(container, binary).items():
        if flag in FLAGS[binary]:
            cfg[FLAGS[binary][flag]] = value
    return cfg


def scaled_target(scaler: dict, objects: list[dict]) -> tuple[dict, dict]:
    """The container a ScaledObject or ScaledJob scales, with its binary name."""
    if scaler["kind"] == "ScaledJob":
        containers = scaler["spec"]["jobTargetRef"]["template"]["spec"]["containers"]
    else:
        ref = scaler["spec"]["scaleTargetRef"]
        kind = ref.get("kind", "Deployment")
        targets = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == ref["name"]]
        assert len(targets) == 1, f"{scaler['metadata']['name']}: target {kind}/{ref['name']} not found"
        containers = targets[0]["spec"]["template"]["spec"]["containers"]
    found = [(c, binary_of(c)) for c in containers if binary_of(c)]
    assert len(found) == 1
    return found[0]


def scalers(objects):
    return [o for o in objects if o["kind"] in ("ScaledObject", "ScaledJob")]


@pytest.fixture(params=sorted(SETS), ids=lambda k: k.replace(" ", "-"))
def objects(request):
    return SETS[request.param]


# --- Tests ------------------------------------------------------------------------------
def test_there_is_something_to_check(objects):
    binaries = {b for *_, b in moonfarm_containers(objects)}
    assert {"worker", "merger"} <= binaries
    assert scalers(objects)


def test_env_names_and_flags_are_in_the_contract(objects):
    for owner, _, c, binary in moonfarm_containers(objects):
        allowed = set(FLAGS[binary].values()) | AZURE_ENV
        names = {e["name"] for e in c.get("env") or []}
        assert names <= allowed, f"{owner['metadata']['name']}: unknown env {names - allowed}"
        assert not c.get("envFrom"), "envFrom would hide variable names from this test"
        flags = set(container_flags(c, binary))
        known = set(FLAGS[binary]) | (PRODUCER_SWITCHES if binary == "producer" else BOOLEAN_FLAGS)
        assert flags <= known, f"unknown flags {flags - known}"


def test_azure_env_is_read_by_shared_blob():
    """Every Azure variable a manifest may set is one shared::blob names (and so reads)."""
    blob = manifests.REPO / "shared" / "src"
    source = (blob / "blob.rs").read_text() + "".join(p.read_text() for p in (blob / "blob").glob("*.rs"))
    for name in sorted(AZURE_ENV):
        assert f'"{name}"' in source, f"{name} is not read by shared/src/blob"


def test_pods_name_their_azure_auth(objects):
    """Every Moonfarm pod chooses its blob credential, so a pod without it fails at start."""
    for owner, _, c, _ in moonfarm_containers(objects):
        env = {e["name"]: e.get("value") for e in c.get("env") or []}
        assert env.get("MOONFARM_AZURE_AUTH") == "workload-identity", owner["metadata"]["name"]


def test_trigger_queue_is_the_scaled_binarys_queue(objects):
    for s in scalers(objects):
        container, binary = scaled_target(s, objects)
        cfg = effective(container, binary)
        if binary == "worker":
            # The three priority levels' queues (shared::priority::Priority::queue).
            base = cfg["MOONFARM_TASK_QUEUE"]
            queues = {f"{base}.interactive", base, f"{base}.batch"}
        else:
            queues = {cfg["MOONFARM_RESULT_QUEUE"]}
        found = set()
        for t in s["spec"]["triggers"]:
            assert t["type"] == "rabbitmq"
            found.add(t["metadata"]["queueName"])
        assert found == queues, f"{s['kind']}/{s['metadata']['name']}: {found} != {queues}"


def test_workers_scale_on_the_sum_of_the_priority_levels(objects):
    """KEDA takes the largest of several triggers unless told otherwise: the worker's pods
    follow the sum of the three level queues, so a backlog at any level gets its pods."""
    for s in scalers(objects):
        _, binary = scaled_target(s, objects)
        if binary != "worker":
            continue
        names = {t["name"] for t in s["spec"]["triggers"]}
        assert len(names) == 3, names
        if s["kind"] == "ScaledJob":
            assert s["spec"]["scalingStrategy"]["multipleScalersCalculation"] == "sum"
        else:
            mod = s["spec"]["advanced"]["scalingModifiers"]
            terms = {t.strip() for t in mod["formula"].split("+")}
            assert terms == names, (terms, names)
            # One pod per task queued or in flight, as each trigger's value says.
            assert mod["target"] == "1" and mod["metricType"] == "AverageValue"


def test_workers_and_merger_agree_on_the_results_queue(objects):
    queues = {effective(c, b)["MOONFARM_RESULT_QUEUE"] for *_, c, b in moonfarm_containers(objects)}
    assert len(queues) == 1, queues


def test_triggers_count_tasks_in_flight(objects):
    """Unacknowledged (in-flight) messages must count, or scale-in kills busy pods."""
    for s in scalers(objects):
        container, binary = scaled_target(s, objects)
        for t in s["spec"]["triggers"]:
            md = t["metadata"]
            assert md["protocol"] == "http", "only the management API counts unacked messages"
            assert md["mode"] == "QueueLength"
            assert md.get("excludeUnacknowledged", "false") == "false"
            assert t["authenticationRef"]["name"]
            if binary == "worker":
                # One pod per task queued or in flight: each pod holds PREFETCH tasks.
                assert md["value"] == effective(container, binary)["MOONFARM_PREFETCH"]


def test_probes_and_metrics_use_the_http_port(objects):
    for owner, tmpl, c, binary in moonfarm_containers(objects):
        if binary == "producer":  # a run-to-completion client: no HTTP server
            continue
        port = int(effective(c, binary)["MOONFARM_HTTP_PORT"])
        named = {p["name"]: p["containerPort"] for p in c.get("ports") or [] if "name" in p}
        assert named.get("http") == port
        paths = {}
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe not in c:
                continue
            get = c[probe]["httpGet"]
            assert named.get(get["port"], get["port"]) == port, f"{owner['metadata']['name']} {probe}"
            paths[probe] = get["path"]
        assert paths.get("livenessProbe") == "/healthz"
        assert paths.get("readinessProbe") == "/readyz"
        ann = tmpl["metadata"].get("annotations") or {}
        assert ann.get("prometheus.io/port") == str(port)
        assert ann.get("prometheus.io/path") == "/metrics"


def test_termination_grace_exceeds_worker_grace(objects):
    for owner, tmpl, c, binary in moonfarm_containers(objects):
        if binary != "worker":
            continue
        grace = int(effective(c, binary)["MOONFARM_GRACE_SECONDS"])
        assert tmpl["spec"]["terminationGracePeriodSeconds"] > grace, owner["metadata"]["name"]


def test_workers_run_on_spot_nodes(objects):
    for owner, tmpl, c, binary in moonfarm_containers(objects):
        if binary != "worker":
            continue
        spec = tmpl["spec"]
        assert any(
            t["key"] == "kubernetes.azure.com/scalesetpriority" and t.get("value") == "spot"
            for t in spec.get("tolerations") or []
        )
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert all(
            any(e["key"] == "kubernetes.azure.com/scalesetpriority" and e["values"] == ["spot"]
                for e in term["matchExpressions"])
            for term in terms["nodeSelectorTerms"]
        )


def test_hardened_security_context(objects):
    for owner, tmpl, c, _ in moonfarm_containers(objects):
        sc, psc = c["securityContext"], tmpl["spec"]["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["seccompProfile"]["type"] == "RuntimeDefault"
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), "no writable /tmp"
        assert c["resources"]["requests"] and c["resources"]["limits"]
    # Helper containers of the image (the producer Job's `frame`) are held to the same.
    for _, tmpl in manifests.pod_templates(objects):
        for c in all_containers(tmpl):
            if "moonfarm" in c.get("image", "") and binary_of(c) is None:
                sc = c["securityContext"]
                assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"]["drop"] == ["ALL"]
                assert c["resources"]["limits"]


# --- NetworkPolicy ----------------------------------------------------------------------
def pods(objects):
    """(namespace, labels, containers) of every pod template, and of the pods the RabbitMQ
    Cluster Operator makes for a RabbitmqCluster (labels app.kubernetes.io/name=<cluster>,
    component=rabbitmq, part-of=rabbitmq; AMQP on the port named amqp, 5672)."""
    out = [
        (manifests.namespace(o), t["metadata"].get("labels") or {}, t["spec"]["containers"])
        for o, t in manifests.pod_templates(objects)
    ]
    for o in objects:
        if o["kind"] == "RabbitmqCluster":
            labels = {
                "app.kubernetes.io/name": o["metadata"]["name"],
                "app.kubernetes.io/component": "rabbitmq",
                "app.kubernetes.io/part-of": "rabbitmq",
            }
            ports = [{"name": "amqp", "containerPort": 5672}, {"name": "management", "containerPort": 15672}]
            out.append((manifests.namespace(o), labels, [{"name": "rabbitmq", "ports": ports}]))
    return out


def policies(objects):
    return [o for o in objects if o["kind"] == "NetworkPolicy"]


def test_networkpolicy_selectors_match_pods(objects):
    all_pods = pods(objects)
    assert policies(objects)
    for p in policies(objects):
        ns, spec = manifests.namespace(p), p["spec"]
        name = p["metadata"]["name"]
        assert any(
            n == ns and manifests.selector_matches(spec["podSelector"], labels) for n, labels, _ in all_pods
        ), f"NetworkPolicy {name}: podSelector matches no pod"
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for peer in (rule.get("from") or []) + (rule.get("to") or []):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    assert any(
                        n == ns and manifests.selector_matches(peer["podSelector"], labels)
                        for n, labels, _ in all_pods
                    ), f"NetworkPolicy {name}: peer {peer['podSelector']} matches no pod"


def port_matches(rule_ports, port: int, dst_containers) -> bool:
    if not rule_ports:
        return True
    names = {p.get("name"): p["containerPort"] for c in dst_containers for p in c.get("ports") or []}
    return any(names.get(rp.get("port"), rp.get("port")) == port for rp in rule_ports)


def allowed(objects, src, dst, port: int) -> bool:
    """Would the policies let pod `src` open a TCP connection to pod `dst` on `port`?"""
    (sns, slabels, _), (dns, dlabels, dcontainers) = src, dst
    def peer_ok(peer, labels, same_ns):
        return same_ns and "namespaceSelector" not in peer and "ipBlock" not in peer and \
            manifests.selector_matches(peer.get("podSelector"), labels)
    egress = [p for p in policies(objects) if manifests.namespace(p) == sns
              and "Egress" in p["spec"].get("policyTypes", []) and manifests.selector_matches(p["spec"]["podSelector"], slabels)]
    ingress = [p for p in policies(objects) if manifests.namespace(p) == dns
               and "Ingress" in p["spec"].get("policyTypes", ["Ingress"]) and manifests.selector_matches(p["spec"]["podSelector"], dlabels)]
    eg_ok = not egress or any(
        port_matches(r.get("ports"), port, dcontainers) and any(peer_ok(x, dlabels, sns == dns) for x in r.get("to") or [])
        for p in egress for r in p["spec"].get("egress") or []
    )
    in_ok = not ingress or any(
        port_matches(r.get("ports"), port, dcontainers)
        and (not r.get("from") or any(peer_ok(x, slabels, sns == dns) for x in r["from"]))
        for p in ingress for r in p["spec"].get("ingress") or []
    )
    return eg_ok and in_ok


def test_networkpolicy_allows_the_designed_flows(objects):
    all_pods = pods(objects)
    broker = [p for p in all_pods if p[1].get("app.kubernetes.io/name") == "rabbitmq"]
    apps = [p for p in all_pods if any(binary_of(c) for c in p[2])]
    assert broker and apps
    for app in apps:
        assert allowed(objects, app, broker[0], 5672), f"{app[1]} cannot reach RabbitMQ"
        assert not allowed(objects, app, broker[0], 15672), f"{app[1]} should not reach management"
    assert allowed(objects, broker[0], broker[0], 25672), "RabbitMQ nodes cannot cluster"
    # Nothing in the namespace may open the worker's non-HTTP ports.
    assert not allowed(objects, broker[0], apps[0], 5672)


# --- References between objects ---------------------------------------------------------
def test_config_references_resolve(objects):
    configmaps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    rendered = any(o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("moonfarm-blob") for o in objects)
    for _, tmpl in manifests.pod_templates(objects):
        for c in tmpl["spec"]["containers"] + tmpl["spec"].get("initContainers", []):
            for e in c.get("env") or []:
                vf = e.get("valueFrom") or {}
                if "secretKeyRef" in vf:
                    assert vf["secretKeyRef"]["name"] == RABBITMQ_SECRET
                    assert vf["secretKeyRef"]["key"] in RABBITMQ_SECRET_KEYS
                if "configMapKeyRef" in vf and rendered:
                    assert vf["configMapKeyRef"]["name"] in configmaps, e
    for ta in (o for o in objects if o["kind"] == "TriggerAuthentication"):
        for ref in ta["spec"]["secretTargetRef"]:
            assert ref["name"] == RABBITMQ_SECRET and ref["key"] in RABBITMQ_SECRET_KEYS
    names = {(manifests.namespace(o), o["metadata"]["name"]) for o in objects if o["kind"] == "TriggerAuthentication"}
    for s in scalers(objects):
        for t in s["spec"]["triggers"]:
            assert (manifests.namespace(s), t["authenticationRef"]["name"]) in names


def unquote(s: str) -> str:
    return s[1:-1] if s.startswith('"') and s.endswith('"') else s


def terraform_variable(name: str):
    with (manifests.DEPLOY / "terraform" / "variables.tf").open() as f:
        for block in hcl2.load(f)["variable"]:
            for k, v in block.items():
                if unquote(k) == name:
                    d = v["default"]
                    return [unquote(x) for x in d] if isinstance(d, list) else unquote(d)
    raise KeyError(name)


def test_workload_identity_matches_terraform(objects):
    """The federated credentials (terraform) name exactly the ServiceAccounts the pods use."""
    ns, federated = terraform_variable("namespace"), set(terraform_variable("service_accounts"))
    federated.add(terraform_variable("producer_service_account"))
    sas = {(manifests.namespace(o), o["metadata"]["name"]): o for o in objects if o["kind"] == "ServiceAccount"}
    for owner, tmpl, c, binary in moonfarm_containers(objects):
        assert tmpl["metadata"]["labels"].get("azure.workload.identity/use") == "true"
        if binary == "producer":  # its own identity, not the farm's
            assert tmpl["spec"]["serviceAccountName"] == terraform_variable("producer_service_account")
        sa = tmpl["spec"]["serviceAccountName"]
        assert (manifests.namespace(owner), sa) in sas, f"ServiceAccount {sa} missing"
        assert "azure.workload.identity/client-id" in sas[(manifests.namespace(owner), sa)]["metadata"]["annotations"]
        assert manifests.namespace(owner) == ns and sa in federated, f"{sa} has no federated credential"


# --- The real binaries ------------------------------------------------------------------
def find_binary(name: str) -> pathlib.Path | None:
    for profile in ("release", "debug"):
        p = manifests.REPO / "target" / profile / name
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


PLACEHOLDERS = {
    "secretKeyRef": "amqp://moonfarm:placeholder@rabbitmq.moonfarm.svc.cluster.local:5672/%2f",
    "configMapKeyRef": "moonfarmrenders",
}


# What AKS's workload-identity webhook injects into a pod labelled
# azure.workload.identity/use=true (placeholders: the binaries check that they are set).
WORKLOAD_IDENTITY_ENV = {
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000000",
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000000",
    "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
}


def projected_token() -> str:
    """A stand-in for the service account token the webhook projects (it must be a file)."""
    d = pathlib.Path(tempfile.gettempdir()) / "moonfarm-validate"
    d.mkdir(exist_ok=True)
    token = d / "azure-identity-token"
    token.write_text("placeholder-token")
    return str(token)


def container_env(c: dict, tmpl: dict | None = None) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin"}
    labels = ((tmpl or {}).get("metadata") or {}).get("labels") or {}
    if labels.get("azure.workload.identity/use") == "true":
        env.update(WORKLOAD_IDENTITY_ENV)
        env["AZURE_FEDERATED_TOKEN_FILE"] = projected_token()
    for e in c.get("env") or []:
        env[e["name"]] = str(e["value"]) if "value" in e else PLACEHOLDERS[list(e["valueFrom"])[0]]
    return env


def require_binary(name: str) -> pathlib.Path:
    path = find_binary(name)
    if path is None:
        msg = f"target/release/{name} and target/debug/{name} not built: --check-config not run"
        if os.environ.get("MOONFARM_REQUIRE_BINARIES") == "1":
            pytest.fail(msg + " (MOONFARM_REQUIRE_BINARIES=1)")
        pytest.skip(msg)
    return path


@pytest.mark.parametrize("binary", ["worker", "merger"])
def test_check_config_accepts_the_manifests(objects, binary):
    path = require_binary(binary)
    checked = 0
    for owner, tmpl, c, b in moonfarm_containers(objects):
        if b != binary:
            continue
        r = subprocess.run(
            [str(path), *(c.get("args") or []), "--check-config"],
            env=container_env(c, tmpl), capture_output=True, text=True, timeout=30,
        )
        assert r.returncode == 0, f"{owner['kind']}/{owner['metadata']['name']}: {r.stdout}{r.stderr}"
        # The resolved config is printed: the queue this pod consumes must be in it.
        cfg = effective(c, b)
        queue = cfg["MOONFARM_TASK_QUEUE"] if b == "worker" else cfg["MOONFARM_RESULT_QUEUE"]
        assert queue in r.stdout, f"resolved config does not show {queue}: {r.stdout}"
        checked += 1
    assert checked


@pytest.mark.parametrize("binary", ["worker", "merger"])
def test_check_config_rejects_a_bad_port(objects, binary):
    """Proves --check-config validates: the test above would pass against a no-op binary."""
    path = require_binary(binary)
    c = next(c for *_, c, b in moonfarm_containers(objects) if b == binary)
    env = container_env(c) | {"MOONFARM_HTTP_PORT": "not-a-port"}
    r = subprocess.run([str(path), "--check-config"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, f"expected exit 2, got {r.returncode}: {r.stdout}{r.stderr}"


# --- The in-cluster producer ------------------------------------------------------------
def producer_jobs(objects):
    return [(o, t, c) for o, t, c, b in moonfarm_containers(objects) if b == "producer"]


def test_producer_job_renders_a_mounted_scene_into_the_shared_folder(objects):
    jobs = producer_jobs(objects)
    if not any(o["kind"] == "Job" for o, _, _ in jobs):
        pytest.skip("no producer Job in this set")
    for owner, tmpl, c in jobs:
        sub, scenes, flags = parse_producer_args(c["args"])
        assert sub == "submit" and scenes and "--wait" in flags
        volumes = {v["name"]: v for v in tmpl["spec"]["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        for scene in scenes:
            mount = next((p for p in mounts if scene.startswith(p.rstrip("/") + "/")), None)
            assert mount and "configMap" in volumes[mounts[mount]], f"{scene} is not in a mounted ConfigMap"
        out = flags["--out"]
        out_volume = next(n for p, n in mounts.items() if out.startswith(p.rstrip("/") + "/"))
        assert "emptyDir" in volumes[out_volume]
        # The EXR must outlive the init container: another container mounts the same folder.
        holders = [x for x in tmpl["spec"]["containers"] if any(m["name"] == out_volume for m in x["volumeMounts"])]
        assert holders, "nothing holds the rendered frame for kubectl cp"
        assert c in tmpl["spec"].get("initContainers", []), "the producer must finish before the holder starts"
        assert owner["spec"]["backoffLimit"] == 0, "a retried Job would submit the render twice"


def test_producer_job_uses_only_flags_and_variables_the_binary_has(objects):
    """`producer submit --help` lists every flag and variable the Job uses."""
    jobs = producer_jobs(objects)
    if not jobs:
        pytest.skip("no producer in this set")
    path = require_binary("producer")
    r = subprocess.run([str(path), "submit", "--help"], capture_output=True, text=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    helped_flags = set(re.findall(r"--[a-z][a-z-]*", r.stdout))
    helped_env = set(re.findall(r"\[env: ([A-Z0-9_]+)", r.stdout))
    assert set(PRODUCER_FLAGS) | PRODUCER_SWITCHES <= helped_flags, helped_flags
    assert set(PRODUCER_FLAGS.values()) <= helped_env, helped_env
    for _, _, c in jobs:
        _, _, flags = parse_producer_args(c["args"])
        assert set(flags) <= helped_flags
