#!/usr/bin/env bash
# A three-node RabbitMQ cluster on loopback for the broker-failover test, beside (never
# joined to) the machine's own broker rabbit@localhost on 5672, which other tests share.
#
#   scripts/rabbit-cluster.sh start          # idempotent: starts and clusters what is missing
#   scripts/rabbit-cluster.sh stop-node N    # stops node N (1..3), as a lost pod would be
#   scripts/rabbit-cluster.sh start-node N   # starts node N again (it rejoins by itself)
#   scripts/rabbit-cluster.sh stop           # stops every node and deletes their folders
#   scripts/rabbit-cluster.sh urls           # the AMQP URLs, comma-separated
#
# Node N is moonfarmN@localhost with AMQP on 127.0.0.1:568N and Erlang distribution on
# 2568N. Each has its own RABBITMQ_NODENAME, RABBITMQ_DIST_PORT, RABBITMQ_MNESIA_BASE,
# RABBITMQ_LOG_BASE, RABBITMQ_CONFIG_FILE and enabled-plugins file (none: the management
# plugin would take the machine broker's 15672), in folders under $MOONFARM_RABBIT_CLUSTER_DIR
# (default /tmp/moonfarm-rabbit-cluster) owned by the `rabbitmq` user, since the packaged
# scripts run the node as that user. Nodes 2 and 3 join moonfarm1@localhost (stop_app,
# join_cluster, start_app). Needs root (to act as `rabbitmq`) and the packaged RabbitMQ.
set -euo pipefail

BASE="${MOONFARM_RABBIT_CLUSTER_DIR:-/tmp/moonfarm-rabbit-cluster}"
NODES=(1 2 3)

say() { echo "rabbit-cluster.sh: $*"; }
node() { echo "moonfarm$1@localhost"; }
amqp_port() { echo $((5680 + $1)); }
dist_port() { echo $((25680 + $1)); }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ctl() { # ctl N ARGS...: rabbitmqctl against node N
    local n="$1"
    shift
    rabbitmqctl -q -n "$(node "$n")" "$@"
}

# The environment node N runs with; the CLI tools need only the node name.
node_env() {
    local n="$1" dir="$BASE/node$1"
    echo RABBITMQ_NODENAME="$(node "$n")" \
        RABBITMQ_NODE_PORT="$(amqp_port "$n")" \
        RABBITMQ_DIST_PORT="$(dist_port "$n")" \
        RABBITMQ_MNESIA_BASE="$dir/mnesia" \
        RABBITMQ_LOG_BASE="$dir/log" \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        RABBITMQ_PID_FILE="$dir/node.pid"
}

running() { ctl "$1" status >/dev/null 2>&1; }

# node_conf N: node N's rabbitmq.conf (scripts/rabbit-tls.sh gives its node another).
node_conf() {
    cat <<EOF
listeners.tcp.1 = 127.0.0.1:$(amqp_port "$1")
loopback_users.guest = true
# A long task must not trip the acknowledgement timeout (as deploy/k8s/rabbitmq.yaml).
consumer_timeout = 21600000
EOF
}

# launch_node N: starts node N's VM detached, without waiting for it.
launch_node() {
    local n="$1" dir="$BASE/node$1"
    mkdir -p "$dir/mnesia" "$dir/log"
    # The machine's /etc/rabbitmq/rabbitmq.conf pins the listener to 5672: a file of our own.
    node_conf "$n" >"$dir/rabbitmq.conf"
    echo "[]." > "$dir/enabled_plugins"
    chown -R rabbitmq:rabbitmq "$dir"
    say "starting $(node "$n") on 127.0.0.1:$(amqp_port "$n")"
    # shellcheck disable=SC2046
    (cd /var/lib/rabbitmq && env $(node_env "$n") \
        su rabbitmq -s /bin/sh -c "/usr/lib/rabbitmq/bin/rabbitmq-server -detached" </dev/null)
}

start_node() { # start_node N: node N running, its app started (the others are up: it rejoins)
    if running "$1"; then
        ctl "$1" start_app >/dev/null 2>&1 || true
    else
        launch_node "$1"
    fi
    await_node "$1"
}

await_node() { # await_node N: until node N's VM answers (it registers late), then its app
    local i
    for ((i = 0; i < 120; i++)); do
        ctl "$1" status >/dev/null 2>&1 && break
        sleep 1
    done
    timeout 120 rabbitmqctl -q -n "$(node "$1")" await_startup
}

joined() { # joined N: node N's cluster holds node 1
    ctl "$1" cluster_status --formatter json 2>/dev/null | grep -q "\"$(node 1)\""
}

start() {
    local n up=()
    for n in "${NODES[@]}"; do running "$n" && up+=("$n"); done
    # A clustered node that was killed waits at boot (5 min) for the tables of the peers that
    # stopped after it. When none runs (the machine restarted, a session's processes were
    # killed), the folders hold only a past test's scratch state: start a new cluster.
    if ((${#up[@]} == 0)) && [[ -d $BASE ]]; then
        say "no node of the cluster runs: removing its old state in $BASE"
        rm -rf "$BASE"/node?
    fi
    # All at once: a restarted node that waits for its peers finds them booting.
    for n in "${NODES[@]}"; do
        if running "$n"; then ctl "$n" start_app >/dev/null 2>&1 || true; else launch_node "$n"; fi
    done
    for n in "${NODES[@]}"; do await_node "$n"; done
    for n in 2 3; do
        if ! joined "$n"; then
            say "joining $(node "$n") to $(node 1)"
            ctl "$n" stop_app
            ctl "$n" reset
            ctl "$n" join_cluster "$(node 1)"
            ctl "$n" start_app
        fi
    done
    for n in "${NODES[@]}"; do
        await_node "$n"
        local i
        for ((i = 0; i < 300; i++)); do port_open "$(amqp_port "$n")" && break; sleep 0.1; done
    done
    ctl 1 enable_feature_flag all >/dev/null 2>&1 || true
    say "cluster up: $(urls)"
}

stop() {
    for n in "${NODES[@]}"; do
        if ctl "$n" status >/dev/null 2>&1; then
            say "stopping $(node "$n")"
            ctl "$n" stop >/dev/null 2>&1 || true
        fi
    done
    # Only our own folder; the machine's broker keeps its own under /var/lib/rabbitmq.
    case "$BASE" in /tmp/*) rm -rf "$BASE" ;; *) say "left $BASE in place" ;; esac
}

urls() {
    local out=() n
    for n in "${NODES[@]}"; do out+=("amqp://guest:guest@127.0.0.1:$(amqp_port "$n")/%2f"); done
    (IFS=,; echo "${out[*]}")
}

# Sourced (scripts/rabbit-tls.sh): the functions only.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

case "${1:-}" in
start) start ;;
stop) stop ;;
stop-node) ctl "${2:?node number}" stop ;;
start-node) start_node "${2:?node number}" ;;
urls) urls ;;
*)
    echo "usage: scripts/rabbit-cluster.sh start|stop|stop-node N|start-node N|urls" >&2
    exit 2
    ;;
esac
