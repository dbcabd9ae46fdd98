"""Loading deploy/ manifests for validate_manifests.py and test_manifests.py.

Two views of the same objects: the source files under deploy/ (always available) and the
kustomize overlays rendered by `kubectl kustomize` (when validate.sh could render them;
it writes them to $MOONFARM_RENDERED_DIR as <overlay>.yaml).
"""
from __future__ import annotations

import os
import pathlib
from typing import Any, Iterator

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent.parent
REPO = DEPLOY.parent
# Files that are kustomize configuration, not Kubernetes objects.
KUSTOMIZE_KINDS = {"Kustomization", "Component"}


def yaml_files() -> list[pathlib.Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_all(path: pathlib.Path) -> list[Any]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def is_object(doc: Any) -> bool:
    """A Kubernetes object (not kustomize config, not a kustomize configuration file)."""
    return (
        isinstance(doc, dict)
        and "apiVersion" in doc
        and "kind" in doc
        and doc["kind"] not in KUSTOMIZE_KINDS
        and not doc["apiVersion"].startswith("kustomize.config.k8s.io")
    )


def source_objects() -> list[tuple[str, dict]]:
    """(relative path, object) for every Kubernetes object in deploy/ source files."""
    out = []
    for p in yaml_files():
        for d in load_all(p):
            if is_object(d):
                out.append((str(p.relative_to(REPO)), d))
    return out


def rendered_dir() -> pathlib.Path | None:
    d = os.environ.get("MOONFARM_RENDERED_DIR")
    if d and pathlib.Path(d).is_dir() and any(pathlib.Path(d).glob("*.yaml")):
        return pathlib.Path(d)
    return None


def rendered_sets() -> dict[str, list[dict]]:
    """Overlay name -> its rendered objects; empty when the overlays were not rendered."""
    d = rendered_dir()
    if d is None:
        return {}
    return {p.stem: [o for o in load_all(p) if is_object(o)] for p in sorted(d.glob("*.yaml"))}


def pod_templates(objects: list[dict]) -> Iterator[tuple[dict, dict]]:
    """(owner object, pod template) for every workload that defines pods."""
    for o in objects:
        kind = o.get("kind")
        spec = o.get("spec") or {}
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            yield o, spec["template"]
        elif kind == "CronJob":
            yield o, spec["jobTemplate"]["spec"]["template"]
        elif kind == "ScaledJob":
            yield o, spec["jobTargetRef"]["template"]


def namespace(o: dict) -> str:
    return (o.get("metadata") or {}).get("namespace", "default")


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """Kubernetes LabelSelector semantics (an empty selector matches everything)."""
    selector = selector or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True
