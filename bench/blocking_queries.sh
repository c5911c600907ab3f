#!/usr/bin/env bash
# 10,000 parked blocking queries on distinct keys: every one must wake within p99 100 ms of
# its key's write while the agent keeps answering other requests. Starts its own
# `proconsul agent -dev` (with 65536 file descriptors allowed), builds and runs
# bench/blocking_queries against it, then stops the agent.
#
#   bench/blocking_queries.sh                         # 10,000 keys, 4 unpaced writers
#   BUILD=0 KEYS=2000 bench/blocking_queries.sh --write-rate=1000
#
# Environment: KEYS (10000), BUILD (1; 0 uses the existing binaries), PROCONSUL (agent
# binary), BQ (tool binary), BUILD_DIR_BENCH (build-bench: where the tool is built),
# WAIT_IDLE (0: seconds to wait for other work on the machine to stop), IDLE_MAX_PCT (25).
# Extra arguments go to the tool (see `blocking_queries --help`). The tool's RESULT line is
# appended to bench/results/blocking_queries-<time>.txt.
source "$(dirname "$0")/lib.sh"

KEYS="${KEYS:-10000}"
BUILD_DIR_BENCH="${BUILD_DIR_BENCH:-build-bench}"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/blocking_queries-$(date +%Y%m%d-%H%M%S).txt"

bench_build_agent
BQ="${BQ:-$BENCH_ROOT/$BUILD_DIR_BENCH/bench/blocking_queries}"
if [[ "${BUILD:-1}" != 0 ]]; then
  bench_log "building blocking_queries in $BUILD_DIR_BENCH"
  (
    cd "$BENCH_ROOT"
    export CCACHE_BASEDIR="$BENCH_ROOT" CCACHE_NOHASHDIR=1
    [[ -f "$BUILD_DIR_BENCH/build.ninja" ]] || cmake -S . -B "$BUILD_DIR_BENCH" -G Ninja >/dev/null
    cmake --build "$BUILD_DIR_BENCH" --target blocking_queries
  ) >"$BENCH_TMP/build-bq.log" 2>&1 || { tail -30 "$BENCH_TMP/build-bq.log" >&2; bench_die "building blocking_queries failed"; }
fi
[[ -x "$BQ" ]] || bench_die "$BQ not found (build the blocking_queries target, or set BQ=)"

bench_start_agent 65536
agent_nofile="$(awk '/Max open files/ { print $4 }' "/proc/$AGENT_PID/limits")"
bench_log "agent may open $agent_nofile files"
((agent_nofile > KEYS + 64)) || bench_die "the agent's file limit ($agent_nofile) is too low for $KEYS queries"
bench_check_idle
# The tool holds KEYS sockets itself; prlimit raises its limit (the tool also raises its soft
# limit up to the hard one, and fails clearly when that is too low).
nofile="$(bench_nofile $((KEYS + 1024)))"
set +e
prlimit --nofile="$nofile:$nofile" "$BQ" --port="$AGENT_PORT" --keys="$KEYS" \
  --server-pid="$AGENT_PID" "$@" | tee "$BENCH_TMP/bq.txt"
rc=${PIPESTATUS[0]}
set -e
kill -0 "$AGENT_PID" 2>/dev/null || { tail -30 "$BENCH_TMP/agent.log" >&2; bench_die "the agent died during the run"; }
mkdir -p "$RESULTS_DIR"
{
  echo "# bench/blocking_queries.sh $(date -Iseconds) keys=$KEYS args=$*"
  echo "# machine busy before the run: $BENCH_BUSY_PCT% of one core"
  bench_host_line
  grep '^RESULT ' "$BENCH_TMP/bq.txt" || true
} >"$RESULTS"
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
exit "$rc"
