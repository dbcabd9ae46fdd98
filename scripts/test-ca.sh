#!/usr/bin/env bash
# A throwaway certificate authority and a server certificate it signed, for the tests of
# encrypted transport on loopback (amqps:// to RabbitMQ, https:// to Azurite). Never for
# anything else: the key is world-readable so that the RabbitMQ node (user `rabbitmq`) and
# Azurite can read it.
#
#   scripts/test-ca.sh [DIR]   # default $MOONFARM_TEST_CA_DIR or /tmp/moonfarm-test-ca
#
# Idempotent: an existing, still valid set is kept, so services already started with it keep
# working. Writes DIR/ca.pem (trust this: MOONFARM_TLS_CA_FILE), DIR/server.pem and
# DIR/server.key (for localhost and 127.0.0.1), and DIR/other-ca.pem, a second CA that signed
# nothing here (the wrong-CA test trusts it and must be refused).
set -euo pipefail

DIR="${1:-${MOONFARM_TEST_CA_DIR:-/tmp/moonfarm-test-ca}}"
say() { echo "test-ca.sh: $*"; }

valid() { # valid CERT: exists and is good for another day
    [[ -s $1 ]] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1
}

if valid "$DIR/ca.pem" && valid "$DIR/server.pem" && valid "$DIR/other-ca.pem" &&
    [[ -s $DIR/server.key ]] &&
    openssl verify -CAfile "$DIR/ca.pem" "$DIR/server.pem" >/dev/null 2>&1; then
    say "using the test CA in $DIR"
    exit 0
fi

command -v openssl >/dev/null || { say "openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$DIR"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ca() { # ca NAME SUBJECT: a self-signed CA certificate and its key in $tmp
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tmp/$1.key" -out "$tmp/$1.pem" 2>/dev/null
}
ca ca "Moonfarm test CA"
ca other-ca "Moonfarm wrong CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
cat >"$tmp/server.ext" <<'EXT'
basicConstraints=CA:false
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tmp/server.ext" -out "$tmp/server.pem" 2>/dev/null
install -m 0644 "$tmp/ca.pem" "$tmp/other-ca.pem" "$tmp/server.pem" "$tmp/server.key" "$DIR/"
chmod 0755 "$DIR"
say "made a test CA and a server certificate for localhost in $DIR"
