#!/usr/bin/env bash
# A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, for
# start.sh --tls. Usage: infra/kafka/tls_certs.sh DIR. Keys are unencrypted PEM, mode 600.
set -euo pipefail
dir=$1
umask 077
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=evalstream test CA" -keyout ca.key -out ca.pem 2>/dev/null
issue() {  # name, subject, extensions
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  # Kafka's PEM keystore takes a PKCS#8 key; librdkafka and Python's ssl take it too.
  openssl pkcs8 -topk8 -nocrypt -in "$1.key" -out "$1.key.p8" && mv "$1.key.p8" "$1.key"
  rm -f "$1.csr" "$1.ext"
}
issue server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1"
issue client "/CN=evalstream-worker" "extendedKeyUsage=clientAuth"
cat server.key server.pem > server.keystore.pem
rm -f ca.key ca.srl
