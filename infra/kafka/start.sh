#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on 127.0.0.1.
# Usage: infra/kafka/start.sh [PORT]    (no PORT: a free one)
# Returns once the broker accepts connections; its last line of output is the bootstrap address.
# Stop it with: infra/kafka/stop.sh PORT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=$("$here/fetch.sh")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
port=${1:-$(free_port)}
controller_port=$(free_port)
run_dir="${EVALSTREAM_KAFKA_RUN_DIR:-$here/.run}/$port"
if [ -f "$run_dir/broker.pid" ] && kill -0 "$(cat "$run_dir/broker.pid")" 2>/dev/null; then
  echo "a broker started by this script already runs on port $port (pid $(cat "$run_dir/broker.pid"))" >&2
  exit 1
fi
rm -rf "$run_dir"
mkdir -p "$run_dir/data"

cat > "$run_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
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

cluster_id=$(python3 -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
java -cp "$lib/*" -Dlog4j2.configurationFile="$run_dir/log4j2.properties" \
  kafka.tools.StorageTool format -t "$cluster_id" -c "$run_dir/server.properties" > "$run_dir/format.log" 2>&1 \
  || { cat "$run_dir/format.log" >&2; exit 1; }

nohup java -Xms256m -Xmx${EVALSTREAM_KAFKA_HEAP:-768m} -XX:+UseG1GC \
  -Dlog4j2.configurationFile="$run_dir/log4j2.properties" \
  -cp "$lib/*" kafka.Kafka "$run_dir/server.properties" > "$run_dir/broker.log" 2>&1 < /dev/null &
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
