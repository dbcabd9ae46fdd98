#!/usr/bin/env bash
# Offline validation of deploy/ and Dockerfile.worker (no cluster, no Docker, no network
# beyond PyPI for the first run). Run from anywhere:  bash deploy/validate.sh
#
#   1. every YAML file under deploy/ parses
#   2. every KEDA object validates against the KEDA CRD schemas in
#      $(dirname repo)/shared/schemas/keda (override: MOONFARM_KEDA_SCHEMAS)
#   2b. every RabbitmqCluster validates against the RabbitMQ Cluster Operator's CRD schema in
#      $(dirname repo)/shared/schemas/rabbitmq (override: MOONFARM_RABBITMQ_SCHEMAS)
#   3. every built-in kind validates with kubernetes-validate (strict) for the Kubernetes
#      versions in K8S_VERSIONS; the kustomize overlays are rendered with
#      `kubectl kustomize` when kubectl is installed and validated too
#   4. checkov on deploy/ and Dockerfile.worker: no failed check (skips are written, with
#      their reasons, in the files themselves)
#   5. pytest deploy/tests: the manifests agree with the binaries' configuration contract;
#      runs `worker --check-config` / `merger --check-config` and `producer submit --help`
#      when target/{release,debug} has them (required when MOONFARM_REQUIRE_BINARIES=1);
#      every command of deploy/README.md names things that exist (test_readme.py)
#   6. terraform fmt -check, when a terraform binary is installed (terraform validate
#      needs the azurerm provider from the Terraform registry, which CI cannot reach)
#
# Tools are installed from PyPI at pinned versions into venvs under target/deploy-venv
# (override: MOONFARM_VALIDATE_VENV), reused while the requirements files are unchanged.
set -uo pipefail

DEPLOY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$DEPLOY")"
KEDA_SCHEMAS="${MOONFARM_KEDA_SCHEMAS:-$(dirname "$REPO")/shared/schemas/keda}"
RABBITMQ_SCHEMAS="${MOONFARM_RABBITMQ_SCHEMAS:-$(dirname "$REPO")/shared/schemas/rabbitmq}"
K8S_VERSIONS="${K8S_VERSIONS:-1.33.0 1.36.0}"
VENV_ROOT="${MOONFARM_VALIDATE_VENV:-$REPO/target/deploy-venv}"
PYTHON="${PYTHON:-python3}"

passed=()
failed=()
notes=()
step() { echo; echo "=== $*"; }
record() { # record NAME EXIT_CODE
  if [ "$2" -eq 0 ]; then passed+=("$1"); echo "--- $1: PASS"; else failed+=("$1"); echo "--- $1: FAIL"; fi
}

# make_venv DIR REQUIREMENTS: create or reuse a venv pinned to REQUIREMENTS.
make_venv() {
  local dir="$1" req="$2" stamp
  stamp="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  echo "installing $(basename "$req") into $dir"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir" &&
    "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req" &&
    echo "$stamp" > "$dir/.stamp"
}

step "tools"
mkdir -p "$VENV_ROOT"
if ! make_venv "$VENV_ROOT/tools" "$DEPLOY/tests/requirements.txt" ||
   ! make_venv "$VENV_ROOT/checkov" "$DEPLOY/tests/requirements-checkov.txt"; then
  echo "validate.sh: could not install the pinned tools from PyPI"
  echo "validate.sh: 0 passed, 1 failed"
  exit 1
fi
PY="$VENV_ROOT/tools/bin/python"
CHECKOV="$VENV_ROOT/checkov/bin/checkov"

step "render kustomize overlays"
RENDERED="$(mktemp -d)"
trap 'rm -rf "$RENDERED"' EXIT
if command -v kubectl >/dev/null 2>&1; then
  rc=0
  for overlay in "$DEPLOY"/overlays/*/; do
    name="$(basename "$overlay")"
    if kubectl kustomize "$overlay" > "$RENDERED/$name.yaml"; then
      echo "rendered overlays/$name ($(grep -c '^kind:' "$RENDERED/$name.yaml") objects)"
    else
      echo "FAIL kubectl kustomize overlays/$name"; rc=1
    fi
  done
  record "kustomize render" "$rc"
  export MOONFARM_RENDERED_DIR="$RENDERED"
else
  notes+=("kubectl not installed: overlays not rendered; base files validated directly")
  echo "kubectl not installed: validating the source files only"
fi

cd "$DEPLOY/tests" || exit 1

step "1. YAML parses"
"$PY" validate_manifests.py yaml; record "yaml" $?

step "2. KEDA objects against $KEDA_SCHEMAS"
"$PY" validate_manifests.py keda "$KEDA_SCHEMAS"; record "keda schemas" $?

step "2b. RabbitmqCluster objects against $RABBITMQ_SCHEMAS"
"$PY" validate_manifests.py rabbitmq "$RABBITMQ_SCHEMAS"; record "rabbitmq schemas" $?

step "3. built-in kinds with kubernetes-validate ($K8S_VERSIONS)"
# shellcheck disable=SC2086
"$PY" validate_manifests.py k8s $K8S_VERSIONS; record "kubernetes-validate" $?

step "4. checkov"
# Two runs: with -d, checkov does not apply its Dockerfile checks to Dockerfile.worker.
# The kustomize framework renders the overlays itself when kubectl is available.
(cd "$REPO" &&
  "$CHECKOV" --quiet --compact --skip-download -d deploy &&
  "$CHECKOV" --quiet --compact --skip-download -f Dockerfile.worker --framework dockerfile secrets)
record "checkov" $?

step "5. pytest deploy/tests"
"$PY" -m pytest -p no:cacheprovider -q -rs "$DEPLOY/tests"; record "pytest" $?
if [ -z "$(find "$REPO/target/release/worker" "$REPO/target/debug/worker" 2>/dev/null)" ]; then
  notes+=("no worker binary in target/: --check-config agreement tests skipped")
fi
if [ -z "$(find "$REPO/target/release/producer" "$REPO/target/debug/producer" 2>/dev/null)" ]; then
  notes+=("no producer binary in target/: producer Job and README command tests skipped")
fi

step "6. terraform fmt"
if command -v terraform >/dev/null 2>&1; then
  terraform fmt -check -recursive -diff "$DEPLOY/terraform" 2>/dev/null; record "terraform fmt" $?
else
  notes+=("terraform not installed: terraform fmt not checked")
  echo "terraform not installed: skipped"
fi
notes+=("terraform validate not run: it needs the azurerm provider from the Terraform registry (see deploy/README.md)")

echo
for n in "${notes[@]}"; do echo "note: $n"; done
[ "${#failed[@]}" -gt 0 ] && echo "failed: ${failed[*]}"
echo "validate.sh: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
