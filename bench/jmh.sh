#!/usr/bin/env bash
# JMH micro-benchmarks of the request path's hot pieces (bench/jmh), run briefly. See docs/benchmarks.md.
#
#   bench/jmh.sh                         build bench/jmh, run every benchmark (~1.5 min), print the table
#   bench/jmh.sh RequestParser           only benchmarks matching a regex (any JMH arguments work)
#   BENCH_REF=HEAD bench/jmh.sh          a commit, built from `git archive` (the tree untouched)
#   BENCH_REF=WORKTREE bench/jmh.sh      a snapshot copy of the working tree, built in a temp dir
#   JMH_OPTS="-f 2 -wi 5 -i 10" bench/jmh.sh    longer, for a real comparison
#
# Default JMH options: -f1 -wi 3 -i 5 -w 1s -r 1s -prof gc (the gc profiler adds the bytes allocated
# per operation, gc.alloc.rate.norm). Pinned to CPU 1 when there are two or more (JMH_CPUS="" to not).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

JMH_OPTS=${JMH_OPTS:-"-f 1 -wi 3 -i 5 -w 1s -r 1s"}
JMH_PROF=${JMH_PROF:-"-prof gc"}
if (($(nproc) >= 2)); then JMH_CPUS=${JMH_CPUS-1}; else JMH_CPUS=""; fi
OUT=${OUT:-$ROOT/bench/results/jmh-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/llmgw-jmh.XXXXXX)
CHILD=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -z "$CHILD" ]] || kill -TERM "$CHILD" 2>/dev/null || true
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_prepare_src "$ROOT" "$TMP"
JMH_JAR=${JMH_JAR:-$BENCH_SRC/bench/jmh/target/benchmarks.jar}
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  bench_log "building bench/jmh from $BENCH_REV"
  timeout -k 5 600 bash -c 'cd "$0" && ./mvnw -q -B "$@"' "$BENCH_SRC" -Pbench -DskipTests package -pl bench/jmh -am \
    >"$OUT/build.log" 2>&1 &
  CHILD=$!
  wait "$CHILD" || { tail -30 "$OUT/build.log" >&2; bench_die "build failed (see $OUT/build.log)"; }
  CHILD=""
fi
[[ -f "$JMH_JAR" ]] || bench_die "no $JMH_JAR"
if ! java -jar "$JMH_JAR" -l 2>/dev/null | grep -q ClassificationBench; then
  bench_log "routing-rules has no RoutingPolicy in $BENCH_REV: the classification benchmark is skipped"
fi
{
  echo "revision: $BENCH_REV"
  bench_machine
  echo "jmh: $JMH_OPTS $JMH_PROF (cpus: ${JMH_CPUS:-any})"
} | tee "$OUT/meta.txt" >&2

pfx=()
[[ -z "$JMH_CPUS" ]] || pfx=(taskset -c "$JMH_CPUS")
# -Dbench.routing: the routing policy the classification benchmark compiles (forks inherit it)
# shellcheck disable=SC2086
timeout -k 10 1200 "${pfx[@]}" java -Dbench.routing="$BENCH_SRC/config/routing.yaml" -jar "$JMH_JAR" \
  $JMH_OPTS $JMH_PROF -rf json -rff "$OUT/jmh.json" "$@" >"$OUT/jmh.txt" 2>&1 &
CHILD=$!
rc=0
wait "$CHILD" || rc=$?
CHILD=""
((rc == 0)) || { tail -40 "$OUT/jmh.txt" >&2; bench_die "JMH failed ($rc), see $OUT/jmh.txt"; }

# The final table: time per operation, and bytes allocated per operation from the gc profiler.
echo
echo "JMH ($BENCH_REV): average time per operation and bytes allocated per operation"
awk '/^Benchmark +\(|^Benchmark +Mode/ {on = 1} on && (/ avgt / || /^Benchmark/) && !/gc\.(alloc\.rate |count|time|churn)/' \
  "$OUT/jmh.txt"
failed=$(grep -c '<failure>' "$OUT/jmh.txt" || true)
if ((failed > 0)); then
  bench_log "WARNING: $failed benchmark iteration(s) failed; see the stack traces in $OUT/jmh.txt:"
  grep -A2 '<failure>' "$OUT/jmh.txt" | grep -v '^--$' | grep -v '<failure>' | sort -u | head -5 >&2
fi
bench_log "full output: $OUT/jmh.txt, JSON: $OUT/jmh.json"
