"""Offline schema checks of deploy/, run by deploy/validate.sh.

  python validate_manifests.py yaml               every YAML file under deploy/ parses
  python validate_manifests.py keda SCHEMA_DIR    KEDA objects against the KEDA CRDs' schemas
  python validate_manifests.py rabbitmq SCHEMA_DIR  RabbitmqCluster objects against the
                                                  RabbitMQ Cluster Operator's CRD schema
  python validate_manifests.py k8s VERSION...     built-in kinds with kubernetes-validate

Objects come from the source files and, when validate.sh rendered them, from the
kustomize overlays ($MOONFARM_RENDERED_DIR). Prints one line per problem and exits 1 if
there is any.
"""
from __future__ import annotations

import copy
import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml

import manifests


def all_objects() -> list[tuple[str, dict]]:
    objs = manifests.source_objects()
    for overlay, docs in manifests.rendered_sets().items():
        objs += [(f"rendered overlay {overlay}", d) for d in docs]
    return objs


def check_yaml() -> int:
    failures = 0
    files = manifests.yaml_files()
    for p in files:
        try:
            manifests.load_all(p)
        except yaml.YAMLError as e:
            print(f"FAIL {p.relative_to(manifests.REPO)}: {e}")
            failures += 1
    print(f"yaml: {len(files)} files parsed, {failures} failed")
    return failures


def strict(schema: dict) -> dict:
    """Reject unknown fields, as the API server's pruning would silently drop them.

    A CRD's structural schema lists every field it keeps; fields it does not list are
    pruned on admission, so a typo (`maxReplicaCout`) would deploy without effect. Where
    a node has `properties` and says nothing else about extra keys, forbid them.
    """
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(s)
    # apiVersion, kind and metadata are validated by the API server, not the CRD schema.
    s.setdefault("properties", {}).setdefault("metadata", {"type": "object"})
    return s


def load_crd_schemas(schema_dir: pathlib.Path) -> dict[tuple[str, str], dict]:
    schemas = {}
    for p in sorted(schema_dir.glob("*.yaml")):
        crd = yaml.safe_load(p.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            schemas[(f"{group}/{v['name']}", kind)] = strict(v["schema"]["openAPIV3Schema"])
    return schemas


def check_crds(schema_dir: str, group: str, kinds: tuple[str, ...]) -> int:
    """Every object of API group `group` against the CRD schemas in `schema_dir`; fails when
    one of `kinds` is missing from deploy/ (a check that found nothing proves nothing)."""
    d = pathlib.Path(schema_dir)
    if not d.is_dir():
        print(f"FAIL {group} schema folder {d} does not exist")
        return 1
    schemas = load_crd_schemas(d)
    failures, seen = 0, {}
    for where, o in all_objects():
        if not o["apiVersion"].startswith(f"{group}/"):
            continue
        name = f"{o['kind']}/{o['metadata']['name']}"
        seen[o["kind"]] = seen.get(o["kind"], 0) + 1
        schema = schemas.get((o["apiVersion"], o["kind"]))
        if schema is None:
            print(f"FAIL {where}: {name}: no CRD schema for {o['apiVersion']} {o['kind']}")
            failures += 1
            continue
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(o), key=lambda e: list(e.path))
        for e in errors:
            path = "/".join(str(x) for x in e.absolute_path)
            print(f"FAIL {where}: {name}: {path}: {e.message}")
        failures += len(errors)
    for kind in kinds:
        if not seen.get(kind):
            print(f"FAIL no {kind} found under deploy/")
            failures += 1
    print(f"{group}: {sum(seen.values())} objects validated against {d}, {failures} problems")
    return failures


def check_keda(schema_dir: str) -> int:
    return check_crds(schema_dir, "keda.sh", ("ScaledObject", "ScaledJob", "TriggerAuthentication"))


def check_rabbitmq(schema_dir: str) -> int:
    return check_crds(schema_dir, "rabbitmq.com", ("RabbitmqCluster",))


def check_k8s(versions: list[str]) -> int:
    failures, count = 0, 0
    objs = all_objects()
    for version in versions:
        for where, o in objs:
            if o["apiVersion"].startswith("rabbitmq.com/"):
                continue  # the operator's CRD: check_rabbitmq
            if o["apiVersion"].startswith("keda.sh/"):
                # The ScaledJob's pod template is a Kubernetes JobSpec: validate it as a Job.
                if o["kind"] != "ScaledJob":
                    continue
                o = {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {"name": o["metadata"]["name"], "namespace": manifests.namespace(o)},
                    "spec": o["spec"]["jobTargetRef"],
                }
                where += " (ScaledJob jobTargetRef as a Job)"
            name = f"{o['kind']}/{o['metadata']['name']}"
            count += 1
            try:
                kubernetes_validate.validate(o, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = "/".join(str(x) for x in e.absolute_path)
                print(f"FAIL k8s {version} {where}: {name}: {path}: {e.message}")
                failures += 1
            except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError):
                print(f"FAIL k8s {version} {where}: {name}: no schema for {o['apiVersion']} {o['kind']}")
                failures += 1
    print(f"k8s: {count} object validations (strict) for Kubernetes {', '.join(versions)}, {failures} failed")
    return failures


def main(argv: list[str]) -> int:
    cmd, args = argv[0], argv[1:]
    if cmd == "yaml":
        return 1 if check_yaml() else 0
    if cmd == "keda":
        return 1 if check_keda(args[0]) else 0
    if cmd == "rabbitmq":
        return 1 if check_rabbitmq(args[0]) else 0
    if cmd == "k8s":
        return 1 if check_k8s(args) else 0
    print(f"unknown check {cmd}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
