#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on 127.0.0.1.
# Usage: infra/kafka/start.sh [--sasl] [PORT]    (no PORT: a free one)
#        infra/kafka/start.sh --resume PORT     (the broker stopped by `stop.sh --keep PORT`, again:
#                                                same port, configuration and log dir; nothing formatted)
# Returns once the broker accepts connections; its last line of output is the bootstrap address.
# Stop it with: infra/kafka/stop.sh PORT
#
# --sasl (or EVALSTREAM_KAFKA_SASL=true): clients must log in with SASL/SCRAM-SHA-512 and are
# authorized by ACLs (StandardAuthorizer; no ACL, no access). One super user, `admin` (the
# workers and the operator), whose password is EVALSTREAM_KAFKA_ADMIN_PASSWORD or, unset, a
# random one written to the run directory's admin.password (mode 600). Producing principals
# and their topics' ACLs: infra/kafka/tenant_acls.py. No password is put on a command line.
#
# --tls: an SSL listener that requires a client certificate (mTLS), from a CA made for this run:
# ca.pem, client.pem and client.key (PEM, unencrypted, mode 600) in the run directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sasl=${EVALSTREAM_KAFKA_SASL:-false}
tls=false
resume=false
case "${1:-}" in
  --sasl) sasl=true; shift ;;
  --tls) tls=true; shift ;;
  --resume) resume=true; shift ;;
esac
lib=$("$here/fetch.sh")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
[ "$resume" = false ] || [ -n "${1:-}" ] || { echo "usage: $0 --resume PORT" >&2; exit 2; }
port=${1:-$(free_port)}
port=${port##*:}
run_dir="${EVALSTREAM_KAFKA_RUN_DIR:-$here/.run}/$port"
if [ -f "$run_dir/broker.pid" ] && kill -0 "$(cat "$run_dir/broker.pid")" 2>/dev/null; then
  echo "a broker started by this script already runs on port $port (pid $(cat "$run_dir/broker.pid"))" >&2
  exit 1
fi
if [ "$resume" = true ]; then
  [ -f "$run_dir/server.properties" ] || { echo "no stopped broker to resume in $run_dir" >&2; exit 1; }
else
controller_port=$(free_port)
rm -rf "$run_dir"
mkdir -p "$run_dir/data"
chmod 700 "$run_dir"

if [ "$sasl" = true ]; then
  admin_password=${EVALSTREAM_KAFKA_ADMIN_PASSWORD:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}
  (umask 077; printf '%s' "$admin_password" > "$run_dir/admin.password")
  # The controller listener cannot use SCRAM (its credentials live in the metadata it serves): PLAIN there.
  listeners="SASL_PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
  security=$(cat <<SASL
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin_password" user_admin="$admin_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
SASL
)
elif [ "$tls" = true ]; then
  "$here/tls_certs.sh" "$run_dir"
  listeners="SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
  security=$(cat <<TLS
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SSL:SSL
inter.broker.listener.name=SSL
ssl.client.auth=required
ssl.keystore.type=PEM
ssl.keystore.location=$run_dir/server.keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$run_dir/ca.pem
ssl.endpoint.identification.algorithm=
TLS
)
else
  listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
  security=$(printf '%s\n' "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT" "inter.broker.listener.name=PLAINTEXT")
fi

(umask 077; cat > "$run_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=$listeners
advertised.listeners=${listeners%%,CONTROLLER*}
controller.listener.names=CONTROLLER
$security
log.dirs=$run_dir/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Lets an oversized event reach the workers, which dead-letter it with its reason.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
PROPS
)

cat > "$run_dir/log4j2.properties" <<'LOG'
status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
LOG

# A cluster id that starts with "-" would read as an option (one in 64 draws): draw again, as Kafka's own Uuid does.
cluster_id=$(python3 -c 'import base64, uuid
while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"): pass
print(cluster_id)')
# The arguments go through a java @argfile (mode 600): the admin's SCRAM password stays off the command line.
(umask 077; {
  printf '"%s"\n' -cp "$lib/*" "-Dlog4j2.configurationFile=$run_dir/log4j2.properties" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$run_dir/server.properties"
  if [ "$sasl" = true ]; then printf '"%s"\n' --add-scram "SCRAM-SHA-512=[name=admin,password=$admin_password]"; fi
} > "$run_dir/format.args")
java "@$run_dir/format.args" > "$run_dir/format.log" 2>&1 || { cat "$run_dir/format.log" >&2; rm -f "$run_dir/format.args"; exit 1; }
rm -f "$run_dir/format.args"
fi

nohup java -Xms256m -Xmx${EVALSTREAM_KAFKA_HEAP:-768m} -XX:+UseG1GC \
  -Dlog4j2.configurationFile="$run_dir/log4j2.properties" \
  -cp "$lib/*" kafka.Kafka "$run_dir/server.properties" >> "$run_dir/broker.log" 2>&1 < /dev/null &
echo $! > "$run_dir/broker.pid"

for _ in $(seq 1 240); do
  if ! kill -0 "$(cat "$run_dir/broker.pid")" 2>/dev/null; then
    echo "the broker exited; its log:" >&2; tail -50 "$run_dir/broker.log" >&2; exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Apache Kafka $(basename "$lib" | cut -d- -f2) broker pid $(cat "$run_dir/broker.pid"), data in $run_dir" >&2
    echo "127.0.0.1:$port"
    exit 0
  fi
  sleep 0.25
done
echo "the broker did not accept connections on port $port within 60 s; see $run_dir/broker.log" >&2
kill "$(cat "$run_dir/broker.pid")" 2>/dev/null || true
exit 1
