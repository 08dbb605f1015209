#!/usr/bin/env bash
# What a large shared-cache write does to the state store's small commands on one Redis connection
# versus two (the gateway gives the cache its own: RedisLink.bulk): a real redis-server on 127.0.0.1,
# bench/tools/RedisHeadOfLine.java on gateway-core's own Lettuce. Prints p50/p99 per mode and the ratio.
#
#   bench/redis-hol.sh                 SIZE=2700000 ROUNDS=3
# Needs: java 17, redis-server (apt-get install -y redis-server), a built tree (./mvnw -q -DskipTests install).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
SIZE=${SIZE:-2700000}; ROUNDS=${ROUNDS:-3}; PORT=${PORT:-19479}
command -v redis-server >/dev/null || bench_die "redis-server not found"
TMP=$(mktemp -d); PIDS=()
trap 'bench_stop "${PIDS[@]}"; rm -rf "$TMP"' EXIT
(cd "$ROOT" && ./mvnw -B -q -o dependency:build-classpath -pl gateway-core -Dmdep.outputFile="$TMP/cp.txt" >/dev/null) ||
  (cd "$ROOT" && ./mvnw -B -q dependency:build-classpath -pl gateway-core -Dmdep.outputFile="$TMP/cp.txt" >/dev/null)
printf '<configuration><root level="WARN"/></configuration>' >"$TMP/logback.xml"
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
javac -d "$TMP/classes" -cp "$(cat "$TMP/cp.txt")" "$ROOT/bench/tools/RedisHeadOfLine.java"
java -Dlogback.configurationFile="$TMP/logback.xml" -cp "$TMP/classes:$(cat "$TMP/cp.txt")" RedisHeadOfLine \
  "redis://127.0.0.1:$PORT" "$SIZE" "$ROUNDS"
