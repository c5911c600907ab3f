#!/usr/bin/env bash
# KV PUT and GET throughput and latency of `proconsul agent -dev`, side by side in the same
# run with the machine's HTTP ceiling: nginx with one worker answering a fixed `return 200`.
# Every load is wrk with keep-alive connections; each run ends by itself after DURATION.
#
#   bench/kv_http.sh                      # setup, build, then 16 and 64 connections, 10 s each
#   BUILD=0 DURATION=5s CONNS="16" bench/kv_http.sh
#
# Environment: DURATION (10s), WARMUP (2s, 0 to skip), CONNS ("16 64"), THREADS (2),
# BUILD (1; 0 uses the existing build/proconsul), PROCONSUL (path to the binary),
# SETUP (1; 0 skips scripts/setup --bench), PUT_KEYS (1000), PUT_BODY_BYTES (64),
# WAIT_IDLE (0: seconds to wait for other work on the machine to stop), IDLE_MAX_PCT (25).
# Output: a table on stdout and a key=value summary in bench/results/kv_http-<time>.txt.
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONNS="${CONNS:-16 64}"
THREADS="${THREADS:-2}"
export PUT_KEYS="${PUT_KEYS:-1000}" PUT_BODY_BYTES="${PUT_BODY_BYTES:-64}"
PUT_LUA="$BENCH_ROOT/bench/wrk/put.lua"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/kv_http-$(date +%Y%m%d-%H%M%S).txt"

if [[ "${SETUP:-1}" != 0 ]]; then "$BENCH_ROOT/scripts/setup" --bench; fi
command -v wrk >/dev/null || bench_die "wrk not installed (scripts/setup --bench)"
command -v nginx >/dev/null || bench_die "nginx not installed (scripts/setup --bench)"
bench_build_agent
bench_start_agent 65536
bench_start_nginx

# The key every GET reads: a small value, like the PUTs write.
curl -sf -o /dev/null -X PUT --data "$(head -c "$PUT_BODY_BYTES" /dev/zero | tr '\0' v)" \
  "http://127.0.0.1:$AGENT_PORT/v1/kv/bench/key" || bench_die "cannot write bench/key"
curl -sf -o /dev/null "http://127.0.0.1:$AGENT_PORT/v1/kv/bench/key" || bench_die "cannot read bench/key"

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# Busy and total jiffies of the whole machine, from /proc/stat's first line.
machine_jiffies() {
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat
}

# wrk prints latencies as 812.00us, 1.23ms or 2.01s; we report milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}

# run_load NAME SERVER_PID URL [LUA] -> appends "name conns rps p50 p99 errors srv_cpu wrk_cpu"
run_load() {
  local name="$1" pid="$2" url="$3" lua="${4:-}" conns="$5"
  local out="$BENCH_TMP/wrk-$name-c$conns.txt" args=()
  [[ -n "$lua" ]] && args=(-s "$lua")
  if [[ "$WARMUP" != 0 ]]; then
    wrk -t"$THREADS" -c"$conns" -d"$WARMUP" "${args[@]}" "$url" >/dev/null 2>&1 || true
  fi
  local cpu0 cpu1 t0 t1 times
  local m0 m1
  m0="$(machine_jiffies)"
  cpu0="$(cpu_seconds "$pid")"
  t0="$(date +%s.%N)"
  local TIMEFORMAT='%U %S'
  times="$( { time wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "${args[@]}" "$url" \
              >"$out" 2>&1; } 2>&1 )" || bench_die "wrk failed: $(cat "$out")"
  t1="$(date +%s.%N)"
  cpu1="$(cpu_seconds "$pid")"
  m1="$(machine_jiffies)"
  kill -0 "$pid" 2>/dev/null || bench_die "$name died under load"
  local rps p50 p99 non2xx sockerr
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
  p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
  p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
  sockerr="$(awk -F'[ ,]+' '/Socket errors:/ { print $4 + $6 + $8 + $10 }' "$out")"
  local errors=$(( ${non2xx:-0} + ${sockerr:-0} ))
  [[ -n "$rps" ]] || bench_die "no Requests/sec in wrk output: $(cat "$out")"
  local wall srv_cpu wrk_cpu
  wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  srv_cpu="$(awk -v a="$cpu0" -v b="$cpu1" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (b - a) / w }')"
  wrk_cpu="$(awk -v t="$times" -v w="$wall" 'BEGIN { split(t, x, " "); printf "%.0f", 100 * (x[1] + x[2]) / w }')"
  # Everything else the machine did meanwhile (other processes, interrupts, steal), in % of
  # one core: a benchmark that shares its cores with a build is not a benchmark.
  local other_cpu
  other_cpu="$(awk -v a="$m0" -v b="$m1" -v n="$(nproc)" -v s="$srv_cpu" -v w="$wrk_cpu" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = 100 * n * (y[1] - x[1]) / (y[2] - x[2])
    o = busy - s - w; printf "%.0f", o < 0 ? 0 : o }')"
  echo "$name $conns $rps $p50 $p99 $errors $srv_cpu $wrk_cpu $other_cpu" >>"$BENCH_TMP/rows.txt"
  bench_log "$name c=$conns: $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $errors"
}

bench_check_idle
AGENT_URL="http://127.0.0.1:$AGENT_PORT"
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
: >"$BENCH_TMP/rows.txt"
for c in $CONNS; do
  # Each agent run sits beside its nginx run with the same request shape and connections.
  run_load nginx-get "$NGINX_PID" "$NGINX_URL/" "" "$c"
  run_load proconsul-get "$AGENT_PID" "$AGENT_URL/v1/kv/bench/key" "" "$c"
  run_load nginx-put "$NGINX_PID" "$NGINX_URL/" "$PUT_LUA" "$c"
  run_load proconsul-put "$AGENT_PID" "$AGENT_URL/" "$PUT_LUA" "$c"
done

# Table and ratios: GET target >= 0.5x nginx, PUT target >= 0.3x nginx.
mkdir -p "$RESULTS_DIR"
{
  echo "# bench/kv_http.sh $(date -Iseconds) duration=$DURATION threads=$THREADS put_keys=$PUT_KEYS body_bytes=$PUT_BODY_BYTES"
  echo "# host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
  echo "# proconsul: $(sed -n "s/.*Version: '\\(.*\\)'.*/\\1/p" "$BENCH_TMP/agent.log" | head -1) at $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || true) (uncommitted changes not shown)"
  echo "# machine busy before the runs: $BENCH_BUSY_PCT% of one core (other = busy apart from server and wrk)"
  echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# nginx: $(nginx -v 2>&1 | sed 's/.*: //'), wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
} >"$RESULTS"
awk -v results="$RESULTS" '
  { name[NR] = $1; conns[NR] = $2; rps[NR] = $3; p50[NR] = $4; p99[NR] = $5; err[NR] = $6
    scpu[NR] = $7; wcpu[NR] = $8; ocpu[NR] = $9; key = $1 "/" $2; base[key] = $3 }
  END {
    printf "%-14s %5s %9s %8s %8s %6s %8s %9s %7s %7s %7s\n", "load", "conns", "req/s", "p50 ms",
      "p99 ms", "errors", "vs nginx", "target", "srv cpu", "wrk cpu", "other"
    for (i = 1; i <= NR; i++) {
      ratio = "-"; target = "-"
      if (name[i] ~ /^proconsul/) {
        kind = name[i]; sub(/^proconsul-/, "", kind)
        b = base["nginx-" kind "/" conns[i]]
        want = kind == "get" ? 0.5 : 0.3
        if (b > 0) {
          r = rps[i] / b; ratio = sprintf("%.2fx", r)
          target = sprintf("%s%.1fx", r >= want ? "ok>=" : "MISS<", want)
        }
      }
      printf "%-14s %5s %9.0f %8.3f %8.3f %6d %8s %9s %6s%% %6s%% %6s%%\n", name[i], conns[i], rps[i],
        p50[i], p99[i], err[i], ratio, target, scpu[i], wcpu[i], ocpu[i]
      printf "load=%s conns=%s rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d ratio=%s server_cpu_pct=%s wrk_cpu_pct=%s other_cpu_pct=%s\n",
        name[i], conns[i], rps[i], p50[i], p99[i], err[i], ratio, scpu[i], wcpu[i], ocpu[i] >> results
    }
  }' "$BENCH_TMP/rows.txt"
echo "(cpu in % of one core, $(nproc) cores in all: srv = the server under load, wrk = the load"
echo " generator, other = everything else on the machine; ratios are req/s vs nginx, same conns)"
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
