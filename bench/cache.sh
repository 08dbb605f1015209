#!/usr/bin/env bash
# What a response-cache hit costs against a backend call, measured side by side in one run: one gateway
# beside one mock backend, with two aliases of the same backend model — bench-cached (under cache.models)
# and bench-plain (not cached). The same deterministic request (temperature 0) goes to each alias in turn:
# to bench-cached every request after the first is a hit; to bench-plain every request is a backend call.
# Plain JSON (the mock answers at once: the fastest backend there is) and streamed (20 SSE events
# STREAM_DELAY_MS apart, a stand-in for a model generating). Closed loop at CONNS connections, rounds
# alternate the aliases; prints p50/p99 and req/s per case.
#
#   bench/cache.sh                       CONNS=8 DURATION=10 ROUNDS=3 STREAM_DELAY_MS=5
#   SKIP_BUILD=1 bench/cache.sh          use the jars already built
# Needs: java 17, wrk, curl, python3 (apt-get install -y wrk curl python3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
CONNS=${CONNS:-8}; DURATION=${DURATION:-10}; WARMUP=${WARMUP:-8}; ROUNDS=${ROUNDS:-3}
STREAM_DELAY_MS=${STREAM_DELAY_MS:-5}
PORT_BASE=${PORT_BASE:-19500}
MOCK_PORT=$PORT_BASE; GW_PORT=$((PORT_BASE + 1)); HOST=127.0.0.1
for tool in java wrk curl python3; do command -v "$tool" >/dev/null || bench_die "$tool not found"; done
OUT=$ROOT/bench/results/cache-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
TMP=$(mktemp -d); PIDS=()
trap 'bench_stop "${PIDS[@]}"; rm -rf "$TMP"' EXIT
GATEWAY_JAR=${GATEWAY_JAR:-$ROOT/gateway-server/target/gateway-server.jar}
MOCK_JAR=${MOCK_JAR:-$ROOT/bench/mock-backend/target/mock-backend.jar}
[[ -n "${SKIP_BUILD:-}" ]] || bench_build_tree "$ROOT" "$OUT/build.log"

CHUNK_DELAY_MS=$STREAM_DELAY_MS java -jar "$MOCK_JAR" "$MOCK_PORT" >"$OUT/mock.log" 2>&1 & PIDS+=($!)
bench_wait_up "http://$HOST:$MOCK_PORT/healthz" || bench_die "mock did not start"
cat >"$TMP/gateway.yaml" <<YAML
listener: {host: $HOST, port: $GW_PORT}
limits: {maxRequestBytes: 1MiB, clientIdleTimeout: 300s}
backends:
  mock: {baseUrl: http://$HOST:$MOCK_PORT/v1, models: [mock-model], maxConnections: 64}
models:
  bench-cached: {backend: mock, model: mock-model, price: {input: 0.15, output: 0.6}}
  bench-plain: {backend: mock, model: mock-model, price: {input: 0.15, output: 0.6}}
state: {store: memory}
auth: {open: true}
cache: {models: [bench-cached], ttl: 1h, maxBytes: 64MiB}
YAML
# the bench requests, made deterministic (temperature 0), once per alias and shape
python3 - "$ROOT/bench/wrk" "$TMP" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
for shape, f in (("plain", "chat-request.json"), ("stream", "chat-stream-request.json")):
    body = json.load(open(f"{src}/{f}"))
    body["temperature"] = 0
    for alias in ("bench-cached", "bench-plain"):
        body["model"] = alias
        json.dump(body, open(f"{out}/{shape}-{alias}.json", "w"))
PY
java -jar "$GATEWAY_JAR" validate "$TMP" >"$OUT/validate.txt" 2>&1 || { cat "$OUT/validate.txt" >&2; bench_die "config does not validate"; }
ACCESS_LOG_LEVEL=OFF java ${GATEWAY_JAVA_OPTS:-} -jar "$GATEWAY_JAR" run "$TMP" >"$OUT/gateway.log" 2>&1 & PIDS+=($!)
bench_wait_up "http://$HOST:$GW_PORT/readyz" || bench_die "gateway did not start"
bench_log "gateway :$GW_PORT, mock :$MOCK_PORT (streams: 20 events ${STREAM_DELAY_MS} ms apart); $ROUNDS rounds of ${DURATION}s, c=$CONNS"

run() { # BODY SECONDS -> RESULT line
  WRK_BODY=$1 wrk -t2 -c"$CONNS" -d"${2}s" --timeout 5s --latency -s "$ROOT/bench/wrk/post.lua" \
    "http://$HOST:$GW_PORT/v1/chat/completions" 2>&1 | grep '^RESULT' || echo "RESULT failed"
}
CASES=(plain-bench-cached plain-bench-plain stream-bench-cached stream-bench-plain)
for c in "${CASES[@]}"; do run "$TMP/$c.json" "$WARMUP" >/dev/null; done
: >"$OUT/rounds.txt"
for r in $(seq 1 "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    line=$(run "$TMP/$c.json" "$DURATION")
    echo "round $r $c: $line" >&2
    echo "round=$r side=$c ${line#RESULT }" >>"$OUT/rounds.txt"
  done
done
curl -fsS "http://$HOST:$GW_PORT/metrics" | grep -E '^gateway_cache_|^gateway_backend_attempts_total' >"$OUT/metrics.txt" || true
python3 - "$OUT/rounds.txt" <<'PY' | tee "$OUT/summary.txt"
import statistics as st, sys
rows = [dict(kv.split('=', 1) for kv in line.split()) for line in open(sys.argv[1]) if 'p99_us=' in line]
def med(side, col): return st.median(float(r[col]) for r in rows if r['side'] == side)
names = {'plain-bench-cached': 'plain, cache hit', 'plain-bench-plain': 'plain, backend call',
         'stream-bench-cached': 'stream, cache hit', 'stream-bench-plain': 'stream, backend call'}
for side, name in names.items():
    errs = sum(int(r['status_err']) + int(r['connect_err']) + int(r['read_err']) + int(r['timeout_err'])
               for r in rows if r['side'] == side)
    print(f"{name:22s} rps {med(side,'rps'):9.1f}  p50 {med(side,'p50_us')/1000:7.3f} ms  p99 {med(side,'p99_us')/1000:7.2f} ms"
          f"  errors {errs}")
for shape in ('plain', 'stream'):
    hit, call = med(f'{shape}-bench-cached', 'p50_us'), med(f'{shape}-bench-plain', 'p50_us')
    print(f"{shape}: a hit's p50 is {hit/call:.2f}x a backend call's ({(call-hit)/1000:+.3f} ms saved)")
PY
bench_log "results in $OUT"
