"""deploy/README.md's walk-through refers only to things that exist.

Every shell block is read as commands: the terraform outputs it reads, the overlays it
copies and applies, the Kubernetes objects, containers and Secret keys it names, the
`producer` subcommands, flags and variables it uses (against the real binary's --help),
the MOONFARM_AZURE_AUTH ways (against shared/src/blob/azure.rs) and the image's paths
(against Dockerfile.worker). A renamed output, overlay, object or flag fails here.
"""
from __future__ import annotations

import re
import subprocess

import hcl2
import pytest

import manifests
from test_manifests import AZURE_ENV, RABBITMQ_SECRET, RABBITMQ_SECRET_KEYS, require_binary, unquote

README = manifests.DEPLOY / "README.md"


def shell_lines() -> list[str]:
    """The commands of every ```sh block, continuation lines joined, comments removed."""
    text = README.read_text()
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            if line:
                lines.append(line)
    return lines


LINES = shell_lines()
SOURCE = [o for _, o in manifests.source_objects()]


def test_the_walk_through_is_there():
    assert any(l.startswith("terraform apply") for l in LINES)
    assert any("kubectl apply -k" in l for l in LINES)
    assert any(l.startswith("producer submit") and "--wait" in l for l in LINES)
    assert any("kubectl -n moonfarm cp" in l for l in LINES)


def test_terraform_outputs_exist():
    with (manifests.DEPLOY / "terraform" / "outputs.tf").open() as f:
        outputs = {unquote(k) for block in hcl2.load(f)["output"] for k in block}
    used = {m for l in LINES for m in re.findall(r"terraform (?:-chdir=\S+ )?output -raw ([a-z_]+)", l)}
    assert used, "no terraform output read"
    assert used <= outputs, used - outputs


def test_example_tfvars_sets_only_declared_variables():
    with (manifests.DEPLOY / "terraform" / "variables.tf").open() as f:
        declared = {unquote(k) for block in hcl2.load(f)["variable"] for k in block}
    with (manifests.DEPLOY / "terraform" / "example.tfvars").open() as f:
        assert set(hcl2.load(f)) - {"__comments__"} <= declared


def test_overlays_copied_and_applied_exist():
    copies = dict(
        (dst, src) for l in LINES for src, dst in re.findall(r"cp -r deploy/overlays/(\S+) deploy/overlays/(\S+)", l)
    )
    existing = {p.name for p in (manifests.DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").is_file()}
    assert set(copies.values()) <= existing, set(copies.values()) - existing
    applied = {m for l in LINES for m in re.findall(r"kubectl (?:apply -k|kustomize) deploy/overlays/(\S+)", l)}
    assert applied and applied <= existing | set(copies), applied - existing - set(copies)


def object_names(kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in SOURCE if o["kind"] == kind}


KINDS = {"svc": "Service", "job": "Job", "statefulset": "StatefulSet", "deployment": "Deployment",
         "scaledobject": "ScaledObject"}


def test_kubernetes_objects_named_exist():
    for l in LINES:
        if not l.startswith("kubectl"):
            continue
        for short, name in re.findall(r"(?:^|\s)(svc|job|statefulset|deployment|scaledobject)/([a-z0-9-]+)", l):
            assert name in object_names(KINDS[short]), f"{short}/{name}: {l}"
        for short, name in re.findall(r"\b(?:get|delete) (svc|job) ([a-z0-9-]+)", l):
            assert name in object_names(KINDS[short]), f"{short} {name}: {l}"
        for name in re.findall(r"-l job-name=([a-z0-9-]+)", l):
            assert name in object_names("Job"), l
        for pod in re.findall(r"exec ([a-z0-9-]+)-\d+ ", l):
            assert pod in object_names("StatefulSet"), l
        for name in re.findall(r"secret (?:generic )?([a-z0-9-]+)", l):
            assert name == RABBITMQ_SECRET, l


def test_the_secret_has_the_keys_the_manifests_read():
    created = next(l for l in LINES if "create secret generic" in l)
    assert set(re.findall(r"--from-literal=([a-z.-]+)=", created)) == RABBITMQ_SECRET_KEYS


def test_containers_and_paths_copied_from_exist():
    for l in LINES:
        m = re.search(r"kubectl -n moonfarm cp \"?\$POD:(\S+?)\"? \S+ -c (\S+)", l)
        if not m:
            continue
        path, container = m.groups()
        job = next(o for o in SOURCE if o["kind"] == "Job")
        c = next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == container)
        assert any(path.startswith(v["mountPath"] + "/") for v in c["volumeMounts"]), path
    for container in {m for l in LINES for m in re.findall(r"logs -f job/\S+ -c (\S+)", l)}:
        job = next(o for o in SOURCE if o["kind"] == "Job")
        spec = job["spec"]["template"]["spec"]
        assert container in {c["name"] for c in spec.get("initContainers", []) + spec["containers"]}


def test_azure_auth_ways_are_the_binarys():
    source = (manifests.REPO / "shared" / "src" / "blob" / "azure.rs").read_text()
    names = set(re.findall(r'AzureAuth::\w+ => "([a-z-]+)",', source))
    assert {"cli", "service-principal", "workload-identity", "key", "sas"} <= names
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", README.read_text(), re.M))
    assert names <= documented, f"undocumented ways: {names - documented}"
    for l in LINES:
        for way in re.findall(r"MOONFARM_AZURE_AUTH=([a-z-]+)", l):
            assert way in names, l


def test_the_image_has_what_the_readme_takes_from_it():
    dockerfile = (manifests.REPO / "Dockerfile.worker").read_text()
    build = re.search(r"cargo build [^\n]*", dockerfile).group(0)
    for binary in ("worker", "merger", "producer"):
        assert f"-p {binary}" in build, build
        assert f"/out/{binary}" in dockerfile
    for path in {m for l in LINES for m in re.findall(r"docker cp \S+:(\S+)", l)}:
        assert path.startswith("/usr/local/bin/") and f"/out/{path.rsplit('/', 1)[1]}" in dockerfile
        assert "/usr/local/bin/" in re.search(r"COPY --from=build [^\n]*", dockerfile).group(0)
    for l in LINES:
        for f in re.findall(r"-f (Dockerfile\S*)", l):
            assert (manifests.REPO / f).is_file()
        for crate in re.findall(r"cargo install --locked --path (\S+)", l):
            assert (manifests.REPO / crate / "src" / "main.rs").is_file()
        for scene in re.findall(r"\b(scenes/\S+\.rdla)", l):
            assert (manifests.REPO / scene).is_file()


def help_of(*args: str) -> str:
    r = subprocess.run([str(require_binary("producer")), *args, "--help"], capture_output=True,
                       text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_producer_commands_flags_and_variables_exist():
    uses = [l.split()[1:] for l in LINES if l.startswith("producer ")]
    assert uses
    top = help_of()
    env_read = set(AZURE_ENV)
    for words in uses:
        sub = words[0]
        assert re.search(rf"^\s+{sub}\s", top, re.M), f"producer {sub}: no such subcommand"
        text = help_of(sub)
        env_read |= set(re.findall(r"\[env: ([A-Z0-9_]+)", text))
        for flag in (w for w in words[1:] if w.startswith("-")):
            assert re.search(rf"(^|[\s,]){re.escape(flag)}[\s=,]", text, re.M), f"producer {sub} {flag}"
    exported = {m for l in LINES for m in re.findall(r"(?:^|export |\s)((?:MOONFARM|AZURE)_[A-Z_]+)=", l)}
    assert exported and exported <= env_read, exported - env_read
