#!/usr/bin/env bash
# Where the gateway's per-request CPU goes above the floor of its own stack: nginx, a bare Netty proxy
# (bench/tools/BareProxy.java: the same Netty, transport and allocator, request aggregated, nothing
# else) and the gateway, side by side on one core with the mock (load on the other), plain ~1 KB chat
# completions, closed loop. Rounds alternate the three; prints per target the medians of req/s, p50,
# the process's CPU per request and its event-loop thread's user and system time per request, and the
# ratios against nginx measured in the same run.
#
#   bench/floor.sh                    C=32 SECS=10 ROUNDS=3 WARM=20
#   SKIP_BUILD=1 bench/floor.sh       use the jars already built
#   FEATURES="parse usage meters parse,usage,meters" bench/floor.sh
#                                     also a bare proxy with each of the gateway's own per-request
#                                     features added (BareProxy's -Dbare.features): what each costs alone
# Needs: java 17, wrk, nginx, curl, taskset (apt-get install -y wrk nginx curl util-linux).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
C=${C:-32}; SECS=${SECS:-10}; ROUNDS=${ROUNDS:-3}; WARM=${WARM:-20}; PORT_BASE=${PORT_BASE:-19610}
MOCK_PORT=$PORT_BASE; NGINX_PORT=$((PORT_BASE + 1)); BARE_PORT=$((PORT_BASE + 2)); GW_PORT=$((PORT_BASE + 3))
HOST=127.0.0.1; LOAD_CPU=0; SERVER_CPU=1
for tool in java javac wrk nginx curl taskset; do command -v "$tool" >/dev/null || bench_die "$tool not found"; done
(($(nproc) >= 2)) || bench_die "needs 2 cores (load on one, servers on the other)"
OUT=$ROOT/bench/results/floor-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
TMP=$(mktemp -d); PIDS=()
trap 'bench_stop "${PIDS[@]}"; rm -rf "$TMP"' EXIT
GATEWAY_JAR=${GATEWAY_JAR:-$ROOT/gateway-server/target/gateway-server.jar}
MOCK_JAR=${MOCK_JAR:-$ROOT/bench/mock-backend/target/mock-backend.jar}
[[ -n "${SKIP_BUILD:-}" ]] || bench_build_tree "$ROOT" "$OUT/build.log"
JAVA_OPTS=${JAVA_OPTS:-$(bench_gateway_java_opts "$ROOT")}   # bin/gateway's default options, for both JVM proxies
javac -d "$TMP/bare" -cp "$GATEWAY_JAR" "$ROOT/bench/tools/BareProxy.java"

mkdir -p "$TMP/nginx" "$TMP/gw"
cat >"$TMP/nginx/nginx.conf" <<N
worker_processes 1; daemon off; master_process on; pid $TMP/nginx/nginx.pid; error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $TMP/nginx/access.log;
  client_body_temp_path $TMP/nginx/body; proxy_temp_path $TMP/nginx/proxy; fastcgi_temp_path $TMP/nginx/f;
  uwsgi_temp_path $TMP/nginx/u; scgi_temp_path $TMP/nginx/s;
  keepalive_timeout 300s; keepalive_requests 1000000;
  upstream mock { server $HOST:$MOCK_PORT; keepalive 512; keepalive_requests 1000000; keepalive_timeout 300s; }
  server { listen $HOST:$NGINX_PORT; location / { proxy_pass http://mock; proxy_http_version 1.1;
    proxy_set_header Connection ""; proxy_buffering off; } }
}
N
cat >"$TMP/gw/gateway.yaml" <<Y
listener: {host: $HOST, port: $GW_PORT}
limits: {maxRequestBytes: 1MiB, clientIdleTimeout: 300s}
backends:
  mock:
    baseUrl: http://$HOST:$MOCK_PORT/v1
    models: [mock-model]
    maxConnections: 512
    resilience: {maxConcurrent: 512}
    timeouts: {connect: 2s, firstByte: 30s, idle: 30s, total: 2m}
models:
  bench-model: {backend: mock, model: mock-model}
auth: {open: true}
Y
taskset -c $SERVER_CPU env CHUNK_DELAY_MS=0 MOCK_THREADS=1 java -Xms256m -Xmx256m -XX:+UseSerialGC -jar "$MOCK_JAR" "$MOCK_PORT" >"$OUT/mock.log" 2>&1 & PIDS+=($!)
taskset -c $SERVER_CPU nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" >"$OUT/nginx.log" 2>&1 & NGINX_MASTER=$!; PIDS+=($!)
taskset -c $SERVER_CPU java $JAVA_OPTS -Dio.netty.leakDetection.level=disabled -cp "$GATEWAY_JAR:$TMP/bare" \
  BareProxy "$BARE_PORT" "$HOST" "$MOCK_PORT" >"$OUT/bare.log" 2>&1 & PIDS+=($!); BARE=$!
taskset -c $SERVER_CPU java $JAVA_OPTS -jar "$GATEWAY_JAR" run "$TMP/gw" >"$OUT/gateway.log" 2>&1 & PIDS+=($!); GW=$!
bench_wait_up "http://$HOST:$MOCK_PORT/healthz" || bench_die "mock did not start"
bench_wait_up "http://$HOST:$GW_PORT/healthz" || bench_die "gateway did not start"
for _ in $(seq 40); do NGINX=$(pgrep -P "$NGINX_MASTER" | head -1 || true); [[ -n "$NGINX" ]] && break; sleep 0.25; done
[[ -n "$NGINX" ]] || bench_die "nginx did not start"
declare -A PID=([nginx]=$NGINX [bare]=$BARE [gateway]=$GW) PORT=([nginx]=$NGINX_PORT [bare]=$BARE_PORT [gateway]=$GW_PORT)
TARGETS=(nginx bare)
port=$((PORT_BASE + 10))
for f in ${FEATURES:-}; do
  name="bare+$f"
  taskset -c $SERVER_CPU java $JAVA_OPTS -Dio.netty.leakDetection.level=disabled -Dbare.features="$f" \
    -cp "$GATEWAY_JAR:$TMP/bare" BareProxy "$port" "$HOST" "$MOCK_PORT" >"$OUT/bare-${f//,/-}.log" 2>&1 & PIDS+=($!)
  PID[$name]=$!; PORT[$name]=$port; TARGETS+=("$name"); port=$((port + 1))
done
TARGETS+=(gateway)
for t in "${TARGETS[@]}"; do
  for _ in $(seq 80); do (exec 3<>/dev/tcp/$HOST/${PORT[$t]}) 2>/dev/null && break; sleep 0.25; done
done

loop_thread() { # PID -> the event-loop thread's id (the process itself for nginx's worker)
  local t
  for t in /proc/"$1"/task/*; do [[ "$(cat "$t/comm")" == multiThreadIoEv* ]] && { basename "$t"; return; }; done
  echo "$1"
}
load() { # PORT SECONDS [--latency] -> wrk output
  (cd "$ROOT/bench/wrk" && WRK_BODY="$ROOT/bench/wrk/chat-request.json" taskset -c $LOAD_CPU \
    wrk -t1 -c"$C" -d"${2}s" ${3:-} -s post.lua "http://$HOST:$1/v1/chat/completions")
}
bench_log "warming up ${TARGETS[*]} (${WARM}s each)"
for t in "${TARGETS[@]}"; do load "${PORT[$t]}" "$WARM" >/dev/null; done
: >"$OUT/rounds.txt"
for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    p=${PID[$t]}; lt=$(loop_thread "$p")
    read -r pu0 ps0 < <(awk '{print $14, $15}' /proc/"$p"/stat)
    read -r lu0 ls0 < <(awk '{print $14, $15}' /proc/"$p"/task/"$lt"/stat)
    out=$(load "${PORT[$t]}" "$SECS" --latency)
    read -r pu1 ps1 < <(awk '{print $14, $15}' /proc/"$p"/stat)
    read -r lu1 ls1 < <(awk '{print $14, $15}' /proc/"$p"/task/"$lt"/stat)
    n=$(awk '/requests in/{print $1}' <<<"$out"); rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    p50=$(awk '$1=="50%"{print $2}' <<<"$out"); errs=$(awk '/Non-2xx|Socket errors/{print}' <<<"$out" | tr '\n' ' ')
    line="round=$r target=$t requests=$n rps=$rps p50=$p50 ticks=$((pu1 + ps1 - pu0 - ps0)) loop_user=$((lu1 - lu0)) loop_sys=$((ls1 - ls0)) errors=${errs:-none}"
    echo "$line" | tee -a "$OUT/rounds.txt" >&2
  done
done
python3 - "$OUT/rounds.txt" "$(getconf CLK_TCK)" <<'PY' | tee "$OUT/summary.txt"
import statistics as st, sys
hz = int(sys.argv[2])
rows = [dict(kv.split('=', 1) for kv in l.split(' errors=')[0].split()) for l in open(sys.argv[1])]
def ms(v): return float(v[:-2]) if v.endswith('ms') else float(v[:-2]) / 1000 if v.endswith('us') else float(v[:-1]) * 1000
def med(t, f): return st.median(f(r) for r in rows if r['target'] == t)
per = lambda k: (lambda r: int(r[k]) * 1e6 / hz / int(r['requests']))
targets = list(dict.fromkeys(r['target'] for r in rows))
res = {t: dict(rps=med(t, lambda r: float(r['rps'])), p50=med(t, lambda r: ms(r['p50'])), cpu=med(t, per('ticks')),
               user=med(t, per('loop_user')), sys=med(t, per('loop_sys'))) for t in targets}
w = max(8, max(len(t) for t in targets))
print(f"{'target':{w}s} {'req/s':>9s} {'x nginx':>8s} {'p50 ms':>7s} {'CPU us/req':>10s} {'x nginx':>8s} {'loop user':>9s} {'loop sys':>8s} {'vs bare':>8s}")
for t, v in res.items():
    print(f"{t:{w}s} {v['rps']:9.0f} {v['rps']/res['nginx']['rps']:8.2f} {v['p50']:7.3f} {v['cpu']:10.1f} "
          f"{v['cpu']/res['nginx']['cpu']:8.2f} {v['user']:9.1f} {v['sys']:8.1f} {v['cpu']-res['bare']['cpu']:+8.1f}")
g, b = res['gateway'], res['bare']
print(f"the gateway above the bare proxy: {g['cpu']-b['cpu']:+.1f} us CPU per request "
      f"(event loop user {g['user']-b['user']:+.1f}, system {g['sys']-b['sys']:+.1f}; other threads "
      f"{(g['cpu']-g['user']-g['sys'])-(b['cpu']-b['user']-b['sys']):+.1f})")
PY
bench_log "results in $OUT"
