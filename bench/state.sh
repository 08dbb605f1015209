#!/usr/bin/env bash
# What the state store costs a keyed request, measured side by side in one run: three gateways from
# the same jar beside one mock backend, one per store — memory (the baseline: today's in-process
# limits), embedded (H2 MVStore file) and redis (a real redis-server on 127.0.0.1) — each serving a
# key with a requests-per-minute limit, a tokens-per-minute limit and a daily hard budget, so every
# request is admitted, reserved and settled by its store. Closed loop at CONNS connections (c=32),
# rounds alternate the stores; prints p50/p99 per store and what embedded and redis add to memory's p50.
#
#   bench/state.sh                       CONNS=32 DURATION=15 ROUNDS=3
#   SKIP_BUILD=1 bench/state.sh          use the jars already built
# Needs: java 17, wrk, curl, python3, redis-server (apt-get install -y wrk curl python3 redis-server).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
CONNS=${CONNS:-32}; DURATION=${DURATION:-15}; WARMUP=${WARMUP:-8}; ROUNDS=${ROUNDS:-3}
PORT_BASE=${PORT_BASE:-19400}
MOCK_PORT=$PORT_BASE; REDIS_PORT=$((PORT_BASE + 9)); HOST=127.0.0.1
for tool in java wrk curl python3 redis-server sha256sum; do command -v "$tool" >/dev/null || bench_die "$tool not found"; done
OUT=$ROOT/bench/results/state-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
TMP=$(mktemp -d); PIDS=()
trap 'bench_stop "${PIDS[@]}"; rm -rf "$TMP"' EXIT
GATEWAY_JAR=${GATEWAY_JAR:-$ROOT/gateway-server/target/gateway-server.jar}
MOCK_JAR=${MOCK_JAR:-$ROOT/bench/mock-backend/target/mock-backend.jar}
[[ -n "${SKIP_BUILD:-}" ]] || bench_build_tree "$ROOT" "$OUT/build.log"

redis-server --port "$REDIS_PORT" --bind $HOST --save "" --appendonly no --dir "$TMP" >"$OUT/redis.log" 2>&1 & PIDS+=($!)
java -jar "$MOCK_JAR" "$MOCK_PORT" >"$OUT/mock.log" 2>&1 & PIDS+=($!)
bench_wait_up "http://$HOST:$MOCK_PORT/healthz" || bench_die "mock did not start"
KEY=bench-state-key-$RANDOM$RANDOM
SHA=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
STORES=(memory embedded redis)
declare -A PORT
i=1
for store in "${STORES[@]}"; do
  PORT[$store]=$((PORT_BASE + i)); i=$((i + 1))
  d=$TMP/$store; mkdir -p "$d"
  cat >"$d/gateway.yaml" <<YAML
listener: {host: $HOST, port: ${PORT[$store]}}
limits: {maxRequestBytes: 1MiB, clientIdleTimeout: 300s}
backends:
  mock: {baseUrl: http://$HOST:$MOCK_PORT/v1, models: [mock-model], maxConnections: 64}
models:
  bench-model: {backend: mock, model: mock-model, price: {input: 0.15, output: 0.6}}
state:
  store: $store
  path: $d/state.mv
  redis: {url: "redis://$HOST:$REDIS_PORT", prefix: "bench-$store:", timeout: 250ms}
auth:
  open: false
  keys:
    bench: {sha256: $SHA, requestsPerMinute: 100000000, tokensPerMinute: 100000000000, budget: {period: day, hard: 1000000}}
YAML
  java -jar "$GATEWAY_JAR" validate "$d" >"$OUT/validate-$store.txt" 2>&1 || { cat "$OUT/validate-$store.txt" >&2; bench_die "config $store does not validate"; }
  java ${GATEWAY_JAVA_OPTS:-} -jar "$GATEWAY_JAR" run "$d" >"$OUT/gateway-$store.log" 2>&1 & PIDS+=($!)
done
for store in "${STORES[@]}"; do bench_wait_up "http://$HOST:${PORT[$store]}/readyz" || bench_die "gateway $store did not start"; done
bench_log "memory :${PORT[memory]}, embedded :${PORT[embedded]}, redis :${PORT[redis]}; $ROUNDS rounds of ${DURATION}s, c=$CONNS"

run() { # PORT SECONDS -> RESULT line
  WRK_AUTH=$KEY WRK_BODY=$ROOT/bench/wrk/chat-request.json wrk -t2 -c"$CONNS" -d"${2}s" --timeout 5s --latency \
    -s "$ROOT/bench/wrk/post.lua" "http://$HOST:$1/v1/chat/completions" 2>&1 | grep '^RESULT' || echo "RESULT failed"
}
for store in "${STORES[@]}"; do run "${PORT[$store]}" "$WARMUP" >/dev/null; done
: >"$OUT/rounds.txt"
for r in $(seq 1 "$ROUNDS"); do
  for store in "${STORES[@]}"; do
    line=$(run "${PORT[$store]}" "$DURATION")
    echo "round $r $store: $line" >&2
    echo "round=$r side=$store ${line#RESULT }" >>"$OUT/rounds.txt"
  done
done
for store in "${STORES[@]}"; do
  curl -fsS "http://$HOST:${PORT[$store]}/metrics" | grep -E '^gateway_state_' >"$OUT/metrics-$store.txt" || true
done
python3 - "$OUT/rounds.txt" <<'PY' | tee "$OUT/summary.txt"
import statistics as st, sys
rows = [dict(kv.split('=', 1) for kv in line.split()) for line in open(sys.argv[1]) if 'p99_us=' in line]
def med(side, col): return st.median(float(r[col]) for r in rows if r['side'] == side)
for side in ('memory', 'embedded', 'redis'):
    print(f"{side:9s} rps {med(side,'rps'):8.1f}  p50 {med(side,'p50_us')/1000:6.3f} ms  p99 {med(side,'p99_us')/1000:6.2f} ms"
          f"  errors {sum(int(r['status_err'])+int(r['connect_err'])+int(r['read_err'])+int(r['timeout_err']) for r in rows if r['side']==side)}")
for side, bound in (('embedded', 0.2), ('redis', 0.5)):
    added = (med(side,'p50_us') - med('memory','p50_us')) / 1000
    print(f"{side} adds {added:+.3f} ms to memory's p50 (bound {bound} ms); rps ratio {med(side,'rps')/med('memory','rps'):.2f}")
PY
bench_log "results in $OUT"
