#!/usr/bin/env bash
# A RabbitMQ node on loopback that speaks only AMQP over TLS (amqps://localhost:5671), with
# the certificate of the throwaway test CA (scripts/test-ca.sh), for the encrypted-transport
# test. Beside the machine's own broker on 5672, never joined to it or to the test cluster.
#
#   scripts/rabbit-tls.sh start   # idempotent; restarts a node whose certificate is stale
#   scripts/rabbit-tls.sh stop    # stops it and deletes its folder
#
# The node is moonfarmtls@localhost (Erlang distribution on 25671), run as rabbit-cluster.sh
# runs its nodes (its functions, sourced), from folders under $MOONFARM_RABBIT_TLS_DIR
# (default /tmp/moonfarm-rabbit-tls). Needs root and the packaged RabbitMQ.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CA_DIR="${MOONFARM_TEST_CA_DIR:-/tmp/moonfarm-test-ca}"
TLS_PORT=5671
# shellcheck source=rabbit-cluster.sh
source "$HERE/rabbit-cluster.sh"
BASE="${MOONFARM_RABBIT_TLS_DIR:-/tmp/moonfarm-rabbit-tls}"
say() { echo "rabbit-tls.sh: $*"; }
node() { echo "moonfarmtls@localhost"; }
amqp_port() { echo "$TLS_PORT"; }
dist_port() { echo 25671; }
node_conf() {
    cat <<CONF
listeners.tcp = none
listeners.ssl.1 = 127.0.0.1:$TLS_PORT
ssl_options.cacertfile = $CA_DIR/ca.pem
ssl_options.certfile = $CA_DIR/server.pem
ssl_options.keyfile = $CA_DIR/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
loopback_users.guest = true
consumer_timeout = 21600000
CONF
}

# Whether the node on 5671 presents a certificate of the test CA as it is now.
serves_current_cert() {
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername localhost \
        -CAfile "$CA_DIR/ca.pem" -verify_return_error >/dev/null 2>&1
}

start_tls() {
    bash "$HERE/test-ca.sh" "$CA_DIR"
    if running 1 && port_open "$TLS_PORT" && serves_current_cert; then
        say "$(node) already serves amqps on 127.0.0.1:$TLS_PORT"
        return
    fi
    if running 1; then
        say "$(node) runs with another certificate: restarting it"
        ctl 1 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$BASE"
    launch_node 1
    await_node 1
    local i
    for ((i = 0; i < 300; i++)); do port_open "$TLS_PORT" && break; sleep 0.1; done
    if ! port_open "$TLS_PORT"; then
        say "no TLS listener on 127.0.0.1:$TLS_PORT; see $BASE/node1/log" >&2
        exit 1
    fi
    ctl 1 enable_feature_flag all >/dev/null 2>&1 || true
    say "$(node) serves amqps on 127.0.0.1:$TLS_PORT (CA $CA_DIR/ca.pem)"
}

stop_tls() {
    if running 1; then
        say "stopping $(node)"
        ctl 1 stop >/dev/null 2>&1 || true
    fi
    case "$BASE" in /tmp/*) rm -rf "$BASE" ;; *) say "left $BASE in place" ;; esac
}

case "${1:-}" in
start) start_tls ;;
stop) stop_tls ;;
*)
    echo "usage: scripts/rabbit-tls.sh start|stop" >&2
    exit 2
    ;;
esac
