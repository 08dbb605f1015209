#!/usr/bin/env bash
# Shared helpers for bench/run.sh and bench/jmh.sh (sourced, not run).
#
# Source selection:
#   default          build and measure the working tree in place (./mvnw ... package)
#   BENCH_REF=<ref>  build that git commit instead, from `git archive` into a temp dir (read-only for
#                    git; the working tree and its target/ dirs are not touched), with the current
#                    bench/ copied over it. Use it to compare commits, or while others edit the tree.
#   BENCH_REF=WORKTREE  build a snapshot copy of the working tree (uncommitted changes included) in a
#                    temp dir: measures what is being edited without building inside the shared tree
#   SKIP_BUILD=1     use the jars already built in the tree (or GATEWAY_JAR / MOCK_JAR / JMH_JAR)

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "ERROR: $*"; exit 1; }

# bench_build_tree ROOT LOG : builds gateway-server and bench/mock-backend in the working tree (in place)
bench_build_tree() {
  bench_log "building gateway-server and bench/mock-backend"
  (cd "$1" && ./mvnw -B -q -Pbench -DskipTests -Dimage.skip=true package -pl gateway-server,bench/mock-backend -am) >"$2" 2>&1 ||
    { tail -30 "$2" >&2; bench_die "build failed"; }
}

# bench_wait_up URL : waits up to 60 s for URL to answer 2xx (a gateway or mock starting)
bench_wait_up() { for _ in $(seq 1 240); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.25; done; return 1; }

# bench_stop PID... : TERM each process the script started, wait up to 10 s for all to go, then KILL
bench_stop() {
  local p alive
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.25
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

# bench_prepare_src ROOT WORKDIR -> sets BENCH_SRC (the tree to build) and BENCH_REV (what it is)
bench_prepare_src() {
  local root=$1 work=$2
  if [[ "${BENCH_REF:-}" == WORKTREE ]]; then
    BENCH_SRC="$work/src"
    rm -rf "$BENCH_SRC"
    mkdir -p "$BENCH_SRC"
    (cd "$root" && tar --exclude=./.git --exclude='*/target' --exclude=./bench/results -cf - .) |
      tar -x -C "$BENCH_SRC" || bench_die "copying the working tree failed"
    BENCH_REV="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) + working-tree changes (snapshot copy)"
  elif [[ -n "${BENCH_REF:-}" ]]; then
    BENCH_SRC="$work/src"
    rm -rf "$BENCH_SRC"
    mkdir -p "$BENCH_SRC"
    git -C "$root" archive --format=tar "$BENCH_REF" | tar -x -C "$BENCH_SRC" \
      || bench_die "git archive $BENCH_REF failed"
    # the bench/ of the working tree, over the archived one (results and build output left out)
    rm -rf "$BENCH_SRC/bench"
    mkdir -p "$BENCH_SRC/bench"
    (cd "$root/bench" && tar --exclude=./results --exclude='./*/target' -cf - .) | tar -x -C "$BENCH_SRC/bench"
    if ! grep -q '<id>bench</id>' "$BENCH_SRC/pom.xml"; then
      # older commits have no `bench` profile: add the module to the temp copy's root pom only
      sed -i 's#</project>#  <profiles><profile><id>bench</id><modules><module>bench</module></modules></profile></profiles>\n</project>#' \
        "$BENCH_SRC/pom.xml"
    fi
    cp -r "$root/.mvn" "$BENCH_SRC/" 2>/dev/null || true
    BENCH_REV="$(git -C "$root" rev-parse --short "$BENCH_REF") ($BENCH_REF, built from git archive)"
  else
    BENCH_SRC="$root"
    local dirty=""
    [[ -n "$(git -C "$root" status --porcelain -- routing-rules gateway-core gateway-server 2>/dev/null)" ]] \
      && dirty=" + uncommitted changes"
    BENCH_REV="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree$dirty)"
  fi
}

# bench_mvn SRC ARGS... : the Maven Wrapper of the tree being built, quiet and batch
# The JVM options bin/gateway runs the gateway with by default (its GATEWAY_JAVA_OPTS fallback): the
# benchmarks run every JVM proxy with them unless told otherwise.
bench_gateway_java_opts() { sed -n 's/.*GATEWAY_JAVA_OPTS:-\([^}]*\)}.*/\1/p' "$1/bin/gateway" | head -1; }

bench_mvn() {
  local src=$1
  shift
  (cd "$src" && ./mvnw -q -B "$@")
}

# bench_machine : one line per fact, for the results and docs/benchmarks.md
bench_machine() {
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    "(family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 -E '^model\s' /proc/cpuinfo | cut -d: -f2 | tr -d ' ');" \
    "$(grep -qw hypervisor /proc/cpuinfo && echo "virtual machine" || echo "bare metal"))"
  echo "kernel: $(uname -srm)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "java: $(java -version 2>&1 | head -1) / $(java -version 2>&1 | sed -n 3p)"
  echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //')"
}
