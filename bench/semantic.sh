#!/usr/bin/env bash
# The classifier stage's cost, measured side by side in one run: two gateways built from the same jar
# beside one mock backend — A with the shipped routing policy (keyword rules, then the semantic
# classifier over config/semantic/), B with the same rules minus the classifier (rules only) — and
# `model: auto` traffic at a fixed offered rate whose texts differ on every request (no cache helps).
# Rounds alternate A and B; prints per round and the medians: p50/p99 and what A adds over B, and each
# gateway's CPU per request by thread (classifier, second opinion, event loop, C2, rest; from /proc).
#
#   bench/semantic.sh                    RATE=200 CONNS=32 DURATION=20 WARMUP=30 (unpaced) ROUNDS=3
#   SKIP_BUILD=1 bench/semantic.sh       use the jars already built
#   SECOND_OPINION=1 bench/semantic.sh   A with config/routing.yaml's second opinion turned on
#   SECOND_OPINION=1 SECOND_OPINION_TIERS=all bench/semantic.sh   ... asked by every tier's conditions
# Needs: java 17, wrk, curl, python3 (apt-get install -y wrk curl python3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
RATE=${RATE:-200}; CONNS=${CONNS:-32}; DURATION=${DURATION:-20}; WARMUP=${WARMUP:-30}; ROUNDS=${ROUNDS:-3}
PORT_BASE=${PORT_BASE:-19300}
MOCK_PORT=$PORT_BASE; A_PORT=$((PORT_BASE + 1)); B_PORT=$((PORT_BASE + 2))
HOST=127.0.0.1
for tool in java wrk curl python3; do command -v "$tool" >/dev/null || bench_die "$tool not found"; done
OUT=$ROOT/bench/results/semantic-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
TMP=$(mktemp -d); PIDS=()
trap 'bench_stop "${PIDS[@]}"; rm -rf "$TMP"' EXIT
GATEWAY_JAR=${GATEWAY_JAR:-$ROOT/gateway-server/target/gateway-server.jar}
MOCK_JAR=${MOCK_JAR:-$ROOT/bench/mock-backend/target/mock-backend.jar}
[[ -n "${SKIP_BUILD:-}" ]] || bench_build_tree "$ROOT" "$OUT/build.log"


java -jar "$MOCK_JAR" "$MOCK_PORT" >"$OUT/mock.log" 2>&1 & PIDS+=($!)
bench_wait_up "http://$HOST:$MOCK_PORT/healthz" || bench_die "mock did not start"
for side in a b; do
  d=$TMP/$side; mkdir -p "$d"; cp -r "$ROOT/config/semantic" "$d/"
  port=$A_PORT; [[ $side == b ]] && port=$B_PORT
  cat >"$d/gateway.yaml" <<YAML
listener: {host: $HOST, port: $port}
limits: {maxRequestBytes: 1MiB, clientIdleTimeout: 300s}
backends:
  mock: {baseUrl: http://$HOST:$MOCK_PORT/v1, models: [mock-model], maxConnections: 64}
models:
  local: {backend: mock, model: mock-model, price: {input: 0, output: 0}}
  gpt-4o-mini: {backend: mock, model: mock-model, price: {input: 0.15, output: 0.6}}
  gpt-4o: {backend: mock, model: mock-model, price: {input: 2.5, output: 10}}
auth: {open: true}
YAML
done
cp "$ROOT/config/routing.yaml" "$TMP/a/routing.yaml"
if [[ -n "${SECOND_OPINION:-}" ]]; then # A with the commented-out second opinion turned on
  python3 - "$TMP/a/routing.yaml" "${SECOND_OPINION_TIERS:-}" <<'PY'
import sys
p = sys.argv[1]; text = open(p).read()
off = ("    # secondOpinion:\n    #   model: bge-small-en-v15-q\n    #   band: 0.03\n"
       "    #   tiers: [high-stakes]\n")
if off not in text: sys.exit("routing.yaml has no commented-out secondOpinion block")
on = off.replace("# ", "")
if sys.argv[2] == "all": on = on.replace("      tiers: [high-stakes]\n", "")
elif sys.argv[2]: on = on.replace("[high-stakes]", "[%s]" % sys.argv[2])
open(p, 'w').write(text.replace(off, on))
PY
fi
# B: the same policy without the classifier section, the keyword rules' guard, and the rules that read it
python3 - "$ROOT/config/routing.yaml" "$TMP/b/routing.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'(?ms)^classifier:\n.*?(?=^\S)', '', text)
# the keyword rules' harmless-text guard reads the classifier: B keeps the rules without it
text = re.sub(r'(?m)^\s*- not: \{semantic: .*\}\n', '', text)
blocks = re.split(r'(?m)^(?=  - name: )', text)
keep = [b for b in blocks if not b.startswith('  - name: ') or ('semantic:' not in b and 'judge:' not in b)]
open(sys.argv[2], 'w').write(''.join(keep))
PY
for side in a b; do
  java -jar "$GATEWAY_JAR" validate "$TMP/$side" >"$OUT/validate-$side.txt" 2>&1 || { cat "$OUT/validate-$side.txt" >&2; bench_die "config $side does not validate"; }
done
java ${GATEWAY_JAVA_OPTS:-} -jar "$GATEWAY_JAR" run "$TMP/a" >"$OUT/gateway-a.log" 2>&1 & PIDS+=($!); A_PID=$!
java ${GATEWAY_JAVA_OPTS:-} -jar "$GATEWAY_JAR" run "$TMP/b" >"$OUT/gateway-b.log" 2>&1 & PIDS+=($!); B_PID=$!
bench_wait_up "http://$HOST:$A_PORT/readyz" || bench_die "gateway A did not start"
bench_wait_up "http://$HOST:$B_PORT/readyz" || bench_die "gateway B did not start"
bench_log "A (semantic) on :$A_PORT, B (rules only) on :$B_PORT; $ROUNDS rounds of ${DURATION}s at $RATE req/s over $CONNS connections"

run() { # SIDE PORT SECONDS -> RESULT line
  WRK_RATE=$RATE WRK_CONNS=$CONNS wrk -t1 -c"$CONNS" -d"${3}s" --timeout 5s --latency \
    -s "$ROOT/bench/wrk/varied.lua" "http://$HOST:$2/v1/chat/completions" 2>&1 | grep '^RESULT' || echo "RESULT failed"
}
# CPU ticks of a gateway's threads by kind (classifier, second opinion, event loop, C2, rest), from /proc
ticks() {
  local t name stat rest
  for t in /proc/"$1"/task/*; do
    name=$(cat "$t/comm" 2>/dev/null) && stat=$(cat "$t/stat" 2>/dev/null) || continue
    rest=${stat##*) }; set -- $rest
    echo "$name $(( ${12} + ${13} ))"
  done | awk '{k = "rest"}
    $1 ~ /^classifier-seco/ {k = "second"} $1 ~ /^classifier-[0-9]/ {k = "classifier"}
    $1 ~ /^multiThreadIoEv/ {k = "event-loop"} $1 ~ /^C2/ {k = "C2"}
    {n[k] += $NF} END {for (k in n) printf "%s=%d ", k, n[k]}'
}
# Warm-up unpaced (as fast as each gateway answers over 8 connections): at 200 req/s a method called
# once per request needs over a minute to reach C2's thresholds, and a gateway that is still compiling
# adds the compiler's CPU to the tail; the rounds measure the steady state a long-running gateway is in.
warm() { wrk -t1 -c8 -d"${2}s" --timeout 5s -s "$ROOT/bench/wrk/varied.lua" \
  "http://$HOST:$1/v1/chat/completions" 2>&1 | grep '^RESULT' || echo "RESULT failed"; }
bench_log "warm-up: A $(warm "$A_PORT" "$WARMUP" | grep -o 'requests=[0-9]*'), B $(warm "$B_PORT" "$WARMUP" | grep -o 'requests=[0-9]*') unpaced in ${WARMUP}s each"
: >"$OUT/rounds.txt"; : >"$OUT/cpu-a.txt"; : >"$OUT/cpu-b.txt"
for r in $(seq 1 "$ROUNDS"); do
  for side in a b; do
    port=$A_PORT; [[ $side == b ]] && port=$B_PORT
    pid=$A_PID; [[ $side == b ]] && pid=$B_PID
    before=$(ticks "$pid")
    line=$(run "$side" "$port" "$DURATION")
    echo "round $r $side: $line" >&2
    echo "round=$r side=$side ${line#RESULT }" >>"$OUT/rounds.txt"
    echo "round=$r requests=$(grep -o 'requests=[0-9]*' <<<"$line" | cut -d= -f2) before: $before after: $(ticks "$pid")" >>"$OUT/cpu-$side.txt"
  done
done
curl -fsS "http://$HOST:$A_PORT/metrics" | grep -E '^gateway_(route_decisions_total|classifier_)' >"$OUT/metrics-a.txt" || true
grep -E '^gateway_classifier_second_opinions_total' "$OUT/metrics-a.txt" >&2 || true
python3 - "$OUT/rounds.txt" <<'PY' | tee "$OUT/summary.txt"
import statistics as st, sys
rows = [dict(kv.split('=', 1) for kv in line.split()) for line in open(sys.argv[1]) if 'p99_us=' in line]
def med(side, col): return st.median(float(r[col]) for r in rows if r['side'] == side)
for side, name in (('a', 'A semantic'), ('b', 'B rules only')):
    print(f"{name:13s} rps {med(side,'rps'):7.1f}  p50 {med(side,'p50_us')/1000:6.2f} ms  p99 {med(side,'p99_us')/1000:6.2f} ms"
          f"  errors {sum(int(r['status_err'])+int(r['socket_err']) for r in rows if r['side']==side)}")
print(f"added by the classifier (median of rounds): p50 {(med('a','p50_us')-med('b','p50_us'))/1000:+.2f} ms, "
      f"p99 {(med('a','p99_us')-med('b','p99_us'))/1000:+.2f} ms; p99 ratio A/B {med('a','p99_us')/med('b','p99_us'):.2f}")
PY
python3 - "$OUT" "$(getconf CLK_TCK)" <<'PY' | tee -a "$OUT/summary.txt"
import statistics as st, sys
for side in 'ab':
  per = {}
  for line in open(f"{sys.argv[1]}/cpu-{side}.txt"):
    head, rest = line.split(' before: ')
    before, after = rest.split(' after: ')
    n = int(head.split('requests=')[1] or 0)
    b = dict(kv.split('=') for kv in before.split()); a = dict(kv.split('=') for kv in after.split())
    for k in a:
      if n: per.setdefault(k, []).append((int(a[k]) - int(b.get(k, 0))) * 1000 / int(sys.argv[2]) / n)
  print(f"{side.upper()}'s CPU per request by thread (median of rounds, ms): " + ", ".join(
      f"{k} {st.median(v):.3f}" for k, v in sorted(per.items(), key=lambda kv: -st.median(kv[1]))))
PY
bench_log "results in $OUT"
