#!/usr/bin/env bash
# Starts the real services the integration tests talk to: RabbitMQ at 127.0.0.1:5672
# (guest/guest) and Azurite's blob service at 127.0.0.1:10000 with a container `renders`.
#
# Idempotent: run it as often as you like; what already runs is left alone. Meant for a
# developer machine or CI on a fresh Debian as root (it apt-installs what is missing).
# Azurite is installed under target/ (pinned to 3.35.0, the last release that does not
# require Node 22; Debian bookworm ships Node 18), never globally.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AZURITE_DIR="$ROOT/target/azurite"
AZURITE_LOG="$ROOT/target/azurite.log"
AZURITE_PID="$ROOT/target/azurite.pid"
AZURITE_VERSION="3.35.0"
# Azurite's well-known development account (public, documented by Microsoft).
ACCOUNT="devstoreaccount1"
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONTAINER="renders"

say() { echo "services.sh: $*"; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port, what, seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        port_open "$1" && return 0
        sleep 0.1
    done
    say "$2 did not open 127.0.0.1:$1 within $3 s" >&2
    return 1
}

apt_install() {
    say "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "$@" >/dev/null
}

# --- tools this script itself needs -------------------------------------------------------
missing=()
for tool in curl openssl base64; do command -v "$tool" >/dev/null || missing+=("$tool"); done
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
    pkgs=()
    for t in "${missing[@]}"; do
        case "$t" in base64) pkgs+=(coreutils) ;; *) pkgs+=("$t") ;; esac
    done
    apt_install "${pkgs[@]}" ca-certificates
fi

# --- RabbitMQ -----------------------------------------------------------------------------
if port_open 5672; then
    say "RabbitMQ already listening on 127.0.0.1:5672"
else
    if ! command -v rabbitmq-server >/dev/null; then
        apt_install rabbitmq-server
    fi
    # The Debian package may start it through systemd; on a container without systemd it
    # does not, so start it detached ourselves (a second start of a running node is harmless
    # here only because we checked the port first).
    if ! port_open 5672; then
        say "starting rabbitmq-server"
        rabbitmq-server -detached
    fi
    timeout 120 rabbitmqctl await_startup >/dev/null 2>&1 || true
    wait_port 5672 RabbitMQ 60
    say "RabbitMQ started on 127.0.0.1:5672"
fi
# Quorum queues and at-least-once dead-lettering need these flags; a fresh node has them on,
# a node upgraded from an older RabbitMQ may not. Enabling an enabled flag is a no-op.
for flag in quorum_queue stream_queue; do
    rabbitmqctl enable_feature_flag "$flag" >/dev/null 2>&1 || say "could not enable feature flag $flag"
done

# --- Azurite ------------------------------------------------------------------------------
install_azurite() {
    if [[ ! -x "$AZURITE_DIR/node_modules/.bin/azurite-blob" ]]; then
        say "installing azurite@$AZURITE_VERSION under $AZURITE_DIR"
        mkdir -p "$AZURITE_DIR"
        npm install --silent --no-audit --no-fund --prefix "$AZURITE_DIR" "azurite@$AZURITE_VERSION" >/dev/null
    fi
}

start_azurite() {
    install_azurite
    # In memory: test data need no disk, and on disk Azurite rewrites its whole metadata file
    # every few seconds, which grew with every blob the tests and benchmarks left and slowed
    # each request (the farm benchmark's wall time per task tripled over one afternoon).
    # No telemetry: Azurite otherwise batches a record of every request for Microsoft's
    # endpoint, which this machine cannot reach. No access log unless asked for
    # (MOONFARM_AZURITE_ACCESS_LOG=1): writing one line per request was 30% of Azurite's CPU in
    # scripts/bench-farm, CPU taken from the renders it measures on a 2-core machine.
    local quiet=(--silent)
    [[ ${MOONFARM_AZURITE_ACCESS_LOG:-} == 1 ]] && quiet=()
    say "starting azurite-blob in memory (log $AZURITE_LOG)"
    nohup "$AZURITE_DIR/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort 10000 \
        --inMemoryPersistence --skipApiVersionCheck --loose --disableTelemetry "${quiet[@]}" >"$AZURITE_LOG" 2>&1 &
    echo $! >"$AZURITE_PID"
    wait_port 10000 Azurite 60
    say "Azurite started, pid $(cat "$AZURITE_PID")"
}

# A SharedKey-signed request to Azurite; prints the HTTP status.
# https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key
# Usage: azurite_request VERB PATH CANONICAL_QUERY URL_QUERY BODY [x-ms-header:value ...]
# Against $AZ_URL, with curl's extra arguments $AZ_CURL (the https instance's CA).
AZ_URL="http://127.0.0.1:10000"
AZ_CURL=()
azurite_request() {
    local verb=$1 path=$2 canon_query=$3 url_query=$4 body=$5
    shift 5
    local date_hdr version="2021-08-06" length="" ctype="" headers=() canon
    date_hdr="$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')"
    if [[ -n $body ]]; then
        length=${#body}
        ctype="application/octet-stream"
    fi
    canon="$(printf '%s\n' "$@" "x-ms-date:$date_hdr" "x-ms-version:$version" | sort)"
    local string_to_sign="$verb"$'\n\n\n'"$length"$'\n\n'"$ctype"$'\n\n\n\n\n\n\n'"$canon"$'\n'"/$ACCOUNT/$ACCOUNT$path$canon_query"
    local hexkey signature
    hexkey="$(printf '%s' "$KEY" | base64 -d | od -An -vtx1 | tr -d ' \n')"
    signature="$(printf '%s' "$string_to_sign" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)"
    for h in "$@"; do headers+=(-H "${h%%:*}: ${h#*:}"); done
    [[ -n $ctype ]] && headers+=(-H "Content-Type: $ctype")
    curl -s "${AZ_CURL[@]}" -o /tmp/services-azurite.$$ -w '%{http_code}' -X "$verb" --max-time 20 \
        -H "x-ms-date: $date_hdr" -H "x-ms-version: $version" -H "Content-Length: ${length:-0}" \
        -H "Authorization: SharedKey $ACCOUNT:$signature" "${headers[@]}" \
        ${body:+--data-binary "$body"} "$AZ_URL/$ACCOUNT$path$url_query" || true
}

create_container() {
    azurite_request PUT "/$CONTAINER" $'\nrestype:container' "?restype=container" ""
}

# Whether Azurite stores and serves a blob: an Azurite whose data folder was deleted under it
# (a removed checkout) still answers container requests but fails every blob write.
probe_write() {
    [[ "$(azurite_request PUT "/$CONTAINER/services-probe" "" "" "probe" "x-ms-blob-type:BlockBlob")" == 201 ]]
}

if port_open 10000; then
    say "something already listens on 127.0.0.1:10000; checking that it is a working Azurite"
else
    start_azurite
fi

status="$(create_container)"
case "$status" in
    201) say "created blob container $CONTAINER" ;;
    409) say "blob container $CONTAINER already exists" ;;
    *) say "creating blob container $CONTAINER answered HTTP $status" ;;
esac
if ! probe_write; then
    stale="$(pgrep -f 'azurite-blob.*--blobPort 10000' || true)"
    if [[ -z $stale ]]; then
        say "127.0.0.1:10000 is taken by something that is not a working Azurite; stop it and run again" >&2
        exit 1
    fi
    say "the Azurite on 127.0.0.1:10000 (pid $stale) cannot store blobs; replacing it"
    kill $stale || true
    for ((i = 0; i < 100; i++)); do port_open 10000 || break; sleep 0.1; done
    start_azurite
    status="$(create_container)"
    if [[ $status != 201 && $status != 409 ]] || ! probe_write; then
        say "the new Azurite does not work either (container: HTTP $status); see $AZURITE_LOG" >&2
        cat /tmp/services-azurite.$$ >&2 2>/dev/null || true
        exit 1
    fi
fi
rm -f /tmp/services-azurite.$$
say "Azurite stores and serves blobs in container $CONTAINER"

# --- Encrypted transport: a throwaway CA, Azurite over https, RabbitMQ over TLS ------------
# For the test of one job over amqps:// and https:// with certificates verified
# (producer/tests/e2e/tls.rs). The CA lives outside the checkout, so every clone's tests
# trust the certificate the running services present.
CA_DIR="${MOONFARM_TEST_CA_DIR:-/tmp/moonfarm-test-ca}"
HTTPS_PORT=10010
HTTPS_LOG="$ROOT/target/azurite-https.log"
bash "$ROOT/scripts/test-ca.sh" "$CA_DIR"
AZ_URL="https://127.0.0.1:$HTTPS_PORT"
AZ_CURL=(--cacert "$CA_DIR/ca.pem")
# Any HTTP answer over a TLS session verified against the test CA.
https_verified() { curl -s -o /dev/null --max-time 10 "${AZ_CURL[@]}" "$AZ_URL/"; }
if port_open "$HTTPS_PORT" && ! https_verified; then
    stale="$(pgrep -f "azurite-blob.*--blobPort $HTTPS_PORT" || true)"
    if [[ -z $stale ]]; then
        say "127.0.0.1:$HTTPS_PORT is taken by something that is not our https Azurite; stop it and run again" >&2
        exit 1
    fi
    say "the https Azurite (pid $stale) presents another certificate; replacing it"
    kill $stale || true
    for ((i = 0; i < 100; i++)); do port_open "$HTTPS_PORT" || break; sleep 0.1; done
fi
if ! port_open "$HTTPS_PORT"; then
    install_azurite
    say "starting azurite-blob over https on 127.0.0.1:$HTTPS_PORT (log $HTTPS_LOG)"
    nohup "$AZURITE_DIR/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$HTTPS_PORT" \
        --inMemoryPersistence --skipApiVersionCheck --loose --disableTelemetry \
        --cert "$CA_DIR/server.pem" --key "$CA_DIR/server.key" >"$HTTPS_LOG" 2>&1 &
    wait_port "$HTTPS_PORT" "Azurite (https)" 60
fi
status="$(create_container)"
if [[ $status != 201 && $status != 409 ]] || ! probe_write; then
    say "the https Azurite does not store blobs (container: HTTP $status); see $HTTPS_LOG" >&2
    exit 1
fi
rm -f /tmp/services-azurite.$$
bash "$ROOT/scripts/rabbit-tls.sh" start

say "ready: amqp://guest:guest@127.0.0.1:5672/%2f and Azurite blob at http://127.0.0.1:10000/$ACCOUNT ($CONTAINER);"
say "over TLS (CA $CA_DIR/ca.pem): amqps://guest:guest@localhost:5671/%2f and https://127.0.0.1:$HTTPS_PORT/$ACCOUNT"
