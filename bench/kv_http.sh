#!/usr/bin/env bash
# KV PUT and GET throughput and latency of `proconsul agent -dev`, side by side in the same
# run with the machine's HTTP ceiling: nginx with one worker answering a fixed `return 200`.
# Every load is wrk with keep-alive connections; each run ends by itself after DURATION.
#
#   bench/kv_http.sh                      # setup, build, then 16 and 64 connections, 10 s each
#   BUILD=0 DURATION=5s CONNS="16" bench/kv_http.sh
#
# Environment: DURATION (10s), WARMUP (2s, 0 to skip), CONNS ("16 64"), THREADS (2),
# ROUNDS (1: repeat everything and add a table of medians; ratios are paired per round),
# BUILD (1; 0 uses the existing build/proconsul), PROCONSUL (path to the binary),
# SETUP (1; 0 skips scripts/setup --bench), PUT_KEYS (1000), PUT_BODY_BYTES (64),
# WAIT_IDLE (0: seconds to wait for other work on the machine to stop), IDLE_MAX_PCT (25).
# Output: a table on stdout and a key=value summary in bench/results/kv_http-<time>.txt.
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONNS="${CONNS:-16 64}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-1}"
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
  echo "$ROUND $name $conns $rps $p50 $p99 $errors $srv_cpu $wrk_cpu $other_cpu" >>"$BENCH_TMP/rows.txt"
  bench_log "round $ROUND $name c=$conns: $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $errors"
}

bench_check_idle
AGENT_URL="http://127.0.0.1:$AGENT_PORT"
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
: >"$BENCH_TMP/rows.txt"
for round in $(seq "$ROUNDS"); do
  for c in $CONNS; do
    # Each agent run sits right after its nginx run with the same request shape and
    # connections, so a ratio compares two runs seconds apart under the same conditions.
    ROUND="$round"
    run_load nginx-get "$NGINX_PID" "$NGINX_URL/" "" "$c"
    run_load proconsul-get "$AGENT_PID" "$AGENT_URL/v1/kv/bench/key" "" "$c"
    run_load nginx-put "$NGINX_PID" "$NGINX_URL/" "$PUT_LUA" "$c"
    run_load proconsul-put "$AGENT_PID" "$AGENT_URL/" "$PUT_LUA" "$c"
  done
done

# Table and ratios: GET target >= 0.5x nginx, PUT target >= 0.3x nginx. With ROUNDS > 1 a
# second table gives, per load, the median over rounds of req/s, p50, p99 and of the ratio
# (each round's agent run against that round's nginx run), and the most CPU anything else
# took during any of its runs.
mkdir -p "$RESULTS_DIR"
{
  echo "# bench/kv_http.sh $(date -Iseconds) duration=$DURATION threads=$THREADS rounds=$ROUNDS put_keys=$PUT_KEYS body_bytes=$PUT_BODY_BYTES"
  bench_host_line
  echo "# proconsul: $(sed -n "s/.*Version: '\\(.*\\)'.*/\\1/p" "$BENCH_TMP/agent.log" | head -1) at $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || true) (uncommitted changes not shown)"
  echo "# machine busy before the runs: $BENCH_BUSY_PCT% of one core (other = busy apart from server and wrk)"
  echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# nginx: $(nginx -v 2>&1 | sed 's/.*: //'), wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
} >"$RESULTS"
awk -v results="$RESULTS" -v rounds="$ROUNDS" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { round[NR] = $1; name[NR] = $2; conns[NR] = $3; rps[NR] = $4; p50[NR] = $5; p99[NR] = $6
    err[NR] = $7; scpu[NR] = $8; wcpu[NR] = $9; ocpu[NR] = $10; base[$1 "/" $2 "/" $3] = $4 }
  END {
    printf "%-5s %-14s %5s %9s %8s %8s %6s %8s %9s %7s %7s %7s\n", "round", "load", "conns",
      "req/s", "p50 ms", "p99 ms", "errors", "vs nginx", "target", "srv cpu", "wrk cpu", "other"
    nkeys = 0
    for (i = 1; i <= NR; i++) {
      ratio = "-"; target = "-"; r = ""
      if (name[i] ~ /^proconsul/) {
        kind = name[i]; sub(/^proconsul-/, "", kind)
        b = base[round[i] "/nginx-" kind "/" conns[i]]
        want[name[i]] = kind == "get" ? 0.5 : 0.3
        if (b > 0) {
          r = rps[i] / b; ratio = sprintf("%.2fx", r)
          target = sprintf("%s%.1fx", r >= want[name[i]] ? "ok>=" : "MISS<", want[name[i]])
        }
      }
      printf "%-5s %-14s %5s %9.0f %8.3f %8.3f %6d %8s %9s %6s%% %6s%% %6s%%\n", round[i], name[i],
        conns[i], rps[i], p50[i], p99[i], err[i], ratio, target, scpu[i], wcpu[i], ocpu[i]
      printf "round=%s load=%s conns=%s rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d ratio=%s server_cpu_pct=%s wrk_cpu_pct=%s other_cpu_pct=%s\n",
        round[i], name[i], conns[i], rps[i], p50[i], p99[i], err[i], ratio, scpu[i], wcpu[i], ocpu[i] >> results
      k = name[i] "/" conns[i]
      if (!(k in seen)) { seen[k] = 1; order[++nkeys] = k; kname[k] = name[i]; kconns[k] = conns[i] }
      lrps[k] = lrps[k] " " rps[i]; lp50[k] = lp50[k] " " p50[i]; lp99[k] = lp99[k] " " p99[i]
      lerr[k] += err[i]; if (ocpu[i] + 0 > omax[k]) omax[k] = ocpu[i] + 0
      if (r != "") lratio[k] = lratio[k] " " sprintf("%.2f", r)
    }
    if (rounds <= 1) exit
    printf "\nmedian of %d rounds:\n", rounds
    printf "%-14s %5s %9s %8s %8s %6s %8s %9s %9s %s\n", "load", "conns", "req/s", "p50 ms", "p99 ms",
      "errors", "vs nginx", "target", "max other", "ratios by round"
    for (j = 1; j <= nkeys; j++) {
      k = order[j]; ratio = "-"; target = "-"
      if (lratio[k] != "") {
        m = median(lratio[k]); ratio = sprintf("%.2fx", m)
        target = sprintf("%s%.1fx", m >= want[kname[k]] ? "ok>=" : "MISS<", want[kname[k]])
      }
      printf "%-14s %5s %9.0f %8.3f %8.3f %6d %8s %9s %8s%% %s\n", kname[k], kconns[k], median(lrps[k]),
        median(lp50[k]), median(lp99[k]), lerr[k], ratio, target, omax[k], lratio[k]
      printf "median load=%s conns=%s rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d ratio=%s max_other_cpu_pct=%s ratios=%s\n",
        kname[k], kconns[k], median(lrps[k]), median(lp50[k]), median(lp99[k]), lerr[k], ratio,
        omax[k], lratio[k] >> results
    }
  }' "$BENCH_TMP/rows.txt"
echo "(cpu in % of one core, $(nproc) cores in all: srv = the server under load, wrk = the load"
echo " generator, other = everything else on the machine; ratios are req/s vs nginx, same conns)"
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
