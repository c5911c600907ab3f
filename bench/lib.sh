# Shared by the bench/*.sh drivers: temp dir, cleanup, starting and stopping the processes a
# benchmark owns. Source it; it sets `set -euo pipefail`. Only processes started here (whose
# PIDs are in BENCH_PIDS) are ever signalled.
set -euo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_TMP="$(mktemp -d /tmp/proconsul-bench.XXXXXX)"
BENCH_PIDS=()
BENCH_KEEP_TMP="${BENCH_KEEP_TMP:-0}"

# Result-file header lines shared by the benchmarks. Paths are given relative to the
# checkout, so a result file names no directory of the machine that wrote it.
bench_host_line() {
  echo "# host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
}
bench_agent_line() {
  local binary="${PROCONSUL#"$BENCH_ROOT"/}"
  echo "# proconsul: $(sed -n "s/.*Version: '\\(.*\\)'.*/\\1/p" "$BENCH_TMP/agent.log" | head -1), binary $binary, HEAD $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || true) (the binary may predate uncommitted changes)"
}

bench_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Stops one process we started: SIGTERM, up to 5 s of grace, then SIGKILL.
bench_stop_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  bench_log "pid $pid did not stop on SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local rc=$?
  local pid
  for pid in "${BENCH_PIDS[@]}"; do bench_stop_pid "$pid"; done
  if [[ "$BENCH_KEEP_TMP" == 1 || $rc -ne 0 ]]; then
    bench_log "logs kept in $BENCH_TMP"
  else
    rm -rf "$BENCH_TMP"
  fi
  exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
bench_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Builds build/proconsul with scripts/build unless BUILD=0.
bench_build_agent() {
  if [[ "${BUILD:-1}" != 0 ]]; then
    bench_log "building proconsul (scripts/build; BUILD=0 skips)"
    "$BENCH_ROOT/scripts/build" >"$BENCH_TMP/build.log" 2>&1 || {
      tail -30 "$BENCH_TMP/build.log" >&2
      bench_die "scripts/build failed"
    }
  fi
  PROCONSUL="${PROCONSUL:-$BENCH_ROOT/build/proconsul}"
  [[ -x "$PROCONSUL" ]] || bench_die "$PROCONSUL not found (build it, or set PROCONSUL=)"
}

# The smaller of $1 and the hard NOFILE limit: raising the hard limit needs CAP_SYS_RESOURCE,
# which a container often lacks even for root.
bench_nofile() {
  local want="$1" hard
  hard="$(ulimit -Hn)"
  if [[ "$hard" != unlimited && "$hard" -lt "$want" ]]; then echo "$hard"; else echo "$want"; fi
}

# Starts `proconsul agent -dev` on a kernel-chosen port, with up to NOFILE descriptors allowed
# (blocking queries hold one socket each). Sets AGENT_PID and AGENT_PORT.
bench_start_agent() {
  local nofile
  nofile="$(bench_nofile "${1:-65536}")"
  local log="$BENCH_TMP/agent.log"
  prlimit --nofile="$nofile:$nofile" "$PROCONSUL" agent -dev -http-port 0 -dns-port -1 \
    >"$log" 2>&1 &
  AGENT_PID=$!
  BENCH_PIDS+=("$AGENT_PID")
  AGENT_PORT=""
  for _ in $(seq 300); do
    if grep -q 'Proconsul agent running' "$log"; then
      AGENT_PORT="$(sed -n 's/.*Client Addr: .*(HTTP: \([0-9]*\).*/\1/p' "$log" | head -1)"
      break
    fi
    kill -0 "$AGENT_PID" 2>/dev/null || { cat "$log" >&2; bench_die "the agent exited"; }
    sleep 0.1
  done
  [[ -n "$AGENT_PORT" && "$AGENT_PORT" != 0 ]] || { cat "$log" >&2; bench_die "no HTTP port in the agent's banner"; }
  # Wait for the leader: a dev agent elects itself at once, but a PUT before then fails.
  for _ in $(seq 100); do
    if curl -sf -o /dev/null -X PUT --data ok "http://127.0.0.1:$AGENT_PORT/v1/kv/bench/ready"; then
      bench_log "agent pid $AGENT_PID on 127.0.0.1:$AGENT_PORT"
      return 0
    fi
    sleep 0.1
  done
  cat "$log" >&2
  bench_die "the agent does not accept a KV PUT"
}

# Starts nginx with one worker. Without an argument it answers `return 200 "ok"` for every
# path and method; with one, the argument is the server block's locations instead (files it
# serves go under $NGINX_DIR/html, which `root` may name). Sets NGINX_PID, NGINX_PORT and
# NGINX_DIR.
bench_start_nginx() {
  local locations="${1:-location / { return 200 \"ok\"; \}}"
  NGINX_PORT="$(bench_free_port)"
  NGINX_DIR="$BENCH_TMP/nginx"
  local dir="$NGINX_DIR"
  mkdir -p "$dir/tmp" "$dir/html"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  # wrk keeps its connections open for the whole run; nginx's default would close each
  # after 1000 requests and make it pay for reconnects that the agent does not.
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    $locations
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  BENCH_PIDS+=("$NGINX_PID")
  for _ in $(seq 100); do
    # Any HTTP answer means it is up (a static root may well answer / with 403 or 404).
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/")" != 000 ]]; then
      bench_log "nginx pid $NGINX_PID on 127.0.0.1:$NGINX_PORT"
      return 0
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null || true
  bench_die "nginx did not start"
}

# Builds one bench tool (a target of bench/CMakeLists.txt) in BUILD_DIR_BENCH (build-bench)
# unless BUILD=0, and prints its path.
bench_build_tool() {
  local target="$1" dir="${BUILD_DIR_BENCH:-build-bench}"
  if [[ "${BUILD:-1}" != 0 ]]; then
    bench_log "building $target in $dir"
    (
      cd "$BENCH_ROOT"
      export CCACHE_BASEDIR="$BENCH_ROOT" CCACHE_NOHASHDIR=1
      [[ -f "$dir/build.ninja" ]] || cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build "$dir" --target "$target"
    ) >"$BENCH_TMP/build-$target.log" 2>&1 || {
      tail -30 "$BENCH_TMP/build-$target.log" >&2
      bench_die "building $target failed"
    }
  fi
  echo "$BENCH_ROOT/$dir/bench/$target"
}

# CPU seconds (user + system) a process has used so far.
bench_cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# Busy and total jiffies of the whole machine, from /proc/stat's first line.
bench_machine_jiffies() {
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat
}

# One field of /proc/PID/status in KiB (VmRSS, VmHWM, ...).
bench_status_kib() {
  awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

# wrk prints latencies as 812.00us, 1.23ms or 2.01s; this prints milliseconds.
bench_to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}

# How busy the machine was over the last second, in % of one core (all cores summed).
bench_machine_busy() {
  local a b
  a="$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)"
  sleep 1
  b="$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)"
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f", 100 * n * (y[1] - x[1]) / (y[2] - x[2]) }'
}

# Before measuring: waits up to WAIT_IDLE seconds (default 0) for the machine to be quiet
# (under IDLE_MAX_PCT, default 25% of one core, busy) and says loudly when it is not, since
# every figure here assumes the benchmark has the cores to itself. Sets BENCH_BUSY_PCT.
bench_check_idle() {
  local deadline=$((SECONDS + ${WAIT_IDLE:-0})) max="${IDLE_MAX_PCT:-25}"
  while :; do
    BENCH_BUSY_PCT="$(bench_machine_busy)"
    ((BENCH_BUSY_PCT <= max)) && return 0
    ((SECONDS >= deadline)) && break
    bench_log "machine busy ($BENCH_BUSY_PCT% of a core); waiting for it to settle"
    sleep 4
  done
  bench_log "WARNING: the machine is busy with other work ($BENCH_BUSY_PCT% of a core before the" \
    "run); figures will be low and noisy. WAIT_IDLE=600 waits for quiet."
}
