#!/usr/bin/env bash
# GET /v1/health/service/<name> for one service with 1,000 instances (each with a passing
# service check, each node with its serfHealth check), in Consul's default consistency mode,
# with ?stale and with ?passing, side by side in the same run with nginx serving the same
# response body as a static file. Then one connection's unloaded query latency and the wake-up
# of a blocking query on the service when one of its checks changes (while another service's
# check change must wake nothing). Every load is wrk with keep-alive connections and ends by
# itself after DURATION.
#
#   bench/health_service.sh                   # setup, build, then 1, 16 and 64 connections
#   BUILD=0 SETUP=0 DURATION=5s CONNS="16" bench/health_service.sh
#
# Environment: INSTANCES (1000), NODES (100: instances spread evenly, 10 per node),
# SERVICE (web), DURATION (10s), WARMUP (2s, 0 to skip), CONNS ("1 16 64"), THREADS (2; never
# more than the connections), ROUNDS (1: repeat the loads and add a table of medians),
# WAKE_ROUNDS (20), WRK_TIMEOUT (30s: a response slower than that counts as an error),
# BUILD (1; 0 uses the existing binaries), PROCONSUL (agent binary), CATALOG_LOAD (tool
# binary), SETUP (1; 0 skips scripts/setup --bench), WAIT_IDLE (0: seconds to wait for other
# work on the machine to stop), IDLE_MAX_PCT (25).
# Output: tables on stdout and key=value lines in bench/results/health_service-<time>.txt.
source "$(dirname "$0")/lib.sh"

INSTANCES="${INSTANCES:-1000}"
NODES="${NODES:-100}"
SERVICE="${SERVICE:-web}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONNS="${CONNS:-1 16 64}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-1}"
WAKE_ROUNDS="${WAKE_ROUNDS:-20}"
WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/health_service-$(date +%Y%m%d-%H%M%S).txt"

if [[ "${SETUP:-1}" != 0 ]]; then "$BENCH_ROOT/scripts/setup" --bench; fi
command -v wrk >/dev/null || bench_die "wrk not installed (scripts/setup --bench)"
command -v nginx >/dev/null || bench_die "nginx not installed (scripts/setup --bench)"
bench_build_agent
CATALOG_LOAD="${CATALOG_LOAD:-$(bench_build_tool catalog_load)}"
[[ -x "$CATALOG_LOAD" ]] || bench_die "$CATALOG_LOAD not found (build the catalog_load target, or set CATALOG_LOAD=)"
bench_start_agent 65536
AGENT_URL="http://127.0.0.1:$AGENT_PORT"
PATH_Q="/v1/health/service/$SERVICE"

# Register the instances: 8 keep-alive connections, at most 120 s.
bench_log "registering $INSTANCES instances of $SERVICE on $NODES nodes"
timeout 180 "$CATALOG_LOAD" --port="$AGENT_PORT" --instances="$INSTANCES" --nodes="$NODES" \
  --name="$SERVICE" --conns=8 --deadline-s=120 --server-pid="$AGENT_PID" \
  >"$BENCH_TMP/register.txt" || { cat "$BENCH_TMP/register.txt" >&2; bench_die "registration failed"; }
REGISTER_RESULT="$(grep '^RESULT ' "$BENCH_TMP/register.txt")"
grep '^register: [0-9]* of' "$BENCH_TMP/register.txt" >&2

# The response in each mode; nginx serves the default mode's body byte for byte.
for mode in default stale passing; do
  q=""; [[ "$mode" != default ]] && q="?$mode"
  curl -sf --max-time 30 -D "$BENCH_TMP/headers-$mode.txt" -o "$BENCH_TMP/body-$mode.json" \
    "$AGENT_URL$PATH_Q$q" || bench_die "GET $PATH_Q$q failed"
done
BODY_BYTES="$(stat -c %s "$BENCH_TMP/body-default.json")"
ENTRIES="$(grep -o '{"Node":{' "$BENCH_TMP/body-default.json" | wc -l)"
((ENTRIES == INSTANCES)) || bench_die "$PATH_Q has $ENTRIES entries, expected $INSTANCES"
for mode in stale passing; do
  cmp -s "$BENCH_TMP/body-default.json" "$BENCH_TMP/body-$mode.json" ||
    bench_die "the ?$mode body differs from the default one (every check should be passing)"
done
bench_log "$PATH_Q: $ENTRIES entries, $BODY_BYTES bytes"

NGINX_HTML="$BENCH_TMP/nginx/html"
bench_start_nginx "location / { root $NGINX_HTML; default_type application/json; sendfile on; tcp_nopush on; }"
mkdir -p "$NGINX_HTML$(dirname "$PATH_Q")"
cp "$BENCH_TMP/body-default.json" "$NGINX_HTML$PATH_Q"
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
curl -sf -o "$BENCH_TMP/body-nginx.json" "$NGINX_URL$PATH_Q" || bench_die "nginx does not serve $PATH_Q"
cmp -s "$BENCH_TMP/body-default.json" "$BENCH_TMP/body-nginx.json" || bench_die "nginx serves another body"

# run_load NAME SERVER_PID URL CONNS -> appends "round name conns rps p50 p99 errors srv wrk other"
run_load() {
  local name="$1" pid="$2" url="$3" conns="$4"
  local out="$BENCH_TMP/wrk-$name-c$conns-r$ROUND.txt" threads="$THREADS"
  ((threads > conns)) && threads="$conns"
  if [[ "$WARMUP" != 0 ]]; then
    wrk -t"$threads" -c"$conns" -d"$WARMUP" --timeout "$WRK_TIMEOUT" "$url" >/dev/null 2>&1 || true
  fi
  local m0 m1 cpu0 cpu1 t0 t1 times
  m0="$(bench_machine_jiffies)"
  cpu0="$(bench_cpu_seconds "$pid")"
  t0="$(date +%s.%N)"
  local TIMEFORMAT='%U %S'
  times="$( { time wrk -t"$threads" -c"$conns" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency \
              "$url" >"$out" 2>&1; } 2>&1 )" || bench_die "wrk failed: $(cat "$out")"
  t1="$(date +%s.%N)"
  cpu1="$(bench_cpu_seconds "$pid")"
  m1="$(bench_machine_jiffies)"
  kill -0 "$pid" 2>/dev/null || bench_die "$name died under load"
  local rps p50 p99 non2xx sockerr
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
  [[ -n "$rps" ]] || bench_die "no Requests/sec in wrk output: $(cat "$out")"
  p50="$(bench_to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
  p99="$(bench_to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
  sockerr="$(awk -F'[ ,]+' '/Socket errors:/ { print $4 + $6 + $8 + $10 }' "$out")"
  local errors=$(( ${non2xx:-0} + ${sockerr:-0} ))
  local wall srv_cpu wrk_cpu other_cpu
  wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  srv_cpu="$(awk -v a="$cpu0" -v b="$cpu1" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (b - a) / w }')"
  wrk_cpu="$(awk -v t="$times" -v w="$wall" 'BEGIN { split(t, x, " "); printf "%.0f", 100 * (x[1] + x[2]) / w }')"
  # Everything else the machine did meanwhile, in % of one core.
  other_cpu="$(awk -v a="$m0" -v b="$m1" -v n="$(nproc)" -v s="$srv_cpu" -v w="$wrk_cpu" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = 100 * n * (y[1] - x[1]) / (y[2] - x[2])
    o = busy - s - w; printf "%.0f", o < 0 ? 0 : o }')"
  echo "$ROUND $name $conns $rps $p50 $p99 $errors $srv_cpu $wrk_cpu $other_cpu" >>"$BENCH_TMP/rows.txt"
  bench_log "round $ROUND $name c=$conns: $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $errors"
}

bench_check_idle
: >"$BENCH_TMP/rows.txt"
RSS_BEFORE_LOAD_KIB="$(bench_status_kib "$AGENT_PID" VmRSS)"
for round in $(seq "$ROUNDS"); do
  for c in $CONNS; do
    # The agent's runs sit right after nginx's with the same connections, so each ratio
    # compares runs seconds apart under the same conditions.
    ROUND="$round"
    run_load nginx-static "$NGINX_PID" "$NGINX_URL$PATH_Q" "$c"
    run_load proconsul-default "$AGENT_PID" "$AGENT_URL$PATH_Q" "$c"
    run_load proconsul-stale "$AGENT_PID" "$AGENT_URL$PATH_Q?stale" "$c"
    run_load proconsul-passing "$AGENT_PID" "$AGENT_URL$PATH_Q?passing" "$c"
  done
done
RSS_AFTER_LOAD_KIB="$(bench_status_kib "$AGENT_PID" VmRSS)"
HWM_AFTER_LOAD_KIB="$(bench_status_kib "$AGENT_PID" VmHWM)"

# Unloaded latency on one connection, and blocking-query wake-ups (nothing else running).
bench_log "probing $PATH_Q: 50 sequential GETs, $WAKE_ROUNDS blocking-query wake-ups"
set +e
timeout 600 "$CATALOG_LOAD" --port="$AGENT_PORT" --instances="$INSTANCES" --nodes="$NODES" \
  --name="$SERVICE" --register=0 --server-pid="$AGENT_PID" --probe="$SERVICE" \
  --probe-queries=50 --wake-rounds="$WAKE_ROUNDS" >"$BENCH_TMP/probe.txt"
probe_rc=$?
set -e
grep -E '^(query|wake):' "$BENCH_TMP/probe.txt" >&2 || true
PROBE_RESULT="$(grep '^RESULT ' "$BENCH_TMP/probe.txt" || true)"
kill -0 "$AGENT_PID" 2>/dev/null || bench_die "the agent died during the probe"

mkdir -p "$RESULTS_DIR"
{
  echo "# bench/health_service.sh $(date -Iseconds) service=$SERVICE instances=$INSTANCES nodes=$NODES duration=$DURATION threads=$THREADS rounds=$ROUNDS wrk_timeout=$WRK_TIMEOUT"
  bench_host_line
  bench_agent_line
  echo "# GLIBC_TUNABLES (every process started, the agent included): ${GLIBC_TUNABLES:-unset}"
  echo "# machine busy before the runs: $BENCH_BUSY_PCT% of one core (other = busy apart from server and wrk)"
  echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# nginx: $(nginx -v 2>&1 | sed 's/.*: //') static file, sendfile on; wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  echo "body_bytes=$BODY_BYTES entries=$ENTRIES content_length=$(awk 'tolower($1) == "content-length:" { print $2 + 0 }' "$BENCH_TMP/headers-default.txt")"
  echo "agent_rss_kib_before_load=$RSS_BEFORE_LOAD_KIB agent_rss_kib_after_load=$RSS_AFTER_LOAD_KIB agent_hwm_kib_after_load=$HWM_AFTER_LOAD_KIB"
  echo "register ${REGISTER_RESULT#RESULT }"
  echo "probe rc=$probe_rc ${PROBE_RESULT#RESULT }"
} >"$RESULTS"
echo
echo "$PATH_Q: $ENTRIES entries, $BODY_BYTES bytes per response (nginx serves the same bytes)"
awk -v results="$RESULTS" -v rounds="$ROUNDS" -v bytes="$BODY_BYTES" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { round[NR] = $1; name[NR] = $2; conns[NR] = $3; rps[NR] = $4; p50[NR] = $5; p99[NR] = $6
    err[NR] = $7; scpu[NR] = $8; wcpu[NR] = $9; ocpu[NR] = $10; base[$1 "/" $3] = $2 == "nginx-static" ? $4 : base[$1 "/" $3] }
  END {
    printf "%-5s %-17s %5s %9s %8s %9s %9s %6s %8s %7s %7s %7s\n", "round", "load", "conns",
      "req/s", "MB/s", "p50 ms", "p99 ms", "errors", "vs nginx", "srv cpu", "wrk cpu", "other"
    nkeys = 0
    for (i = 1; i <= NR; i++) {
      ratio = "-"; r = ""
      b = base[round[i] "/" conns[i]]
      if (name[i] != "nginx-static" && b > 0) { r = rps[i] / b; ratio = sprintf("%.3fx", r) }
      mbs = rps[i] * bytes / 1e6
      printf "%-5s %-17s %5s %9.1f %8.1f %9.3f %9.3f %6d %8s %6s%% %6s%% %6s%%\n", round[i], name[i],
        conns[i], rps[i], mbs, p50[i], p99[i], err[i], ratio, scpu[i], wcpu[i], ocpu[i]
      printf "round=%s load=%s conns=%s rps=%.1f mb_per_s=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d ratio=%s server_cpu_pct=%s wrk_cpu_pct=%s other_cpu_pct=%s\n",
        round[i], name[i], conns[i], rps[i], mbs, p50[i], p99[i], err[i], ratio, scpu[i], wcpu[i], ocpu[i] >> results
      k = name[i] "/" conns[i]
      if (!(k in seen)) { seen[k] = 1; order[++nkeys] = k; kname[k] = name[i]; kconns[k] = conns[i] }
      lrps[k] = lrps[k] " " rps[i]; lp50[k] = lp50[k] " " p50[i]; lp99[k] = lp99[k] " " p99[i]
      lerr[k] += err[i]; if (ocpu[i] + 0 > omax[k]) omax[k] = ocpu[i] + 0
      if (r != "") lratio[k] = lratio[k] " " sprintf("%.3f", r)
    }
    if (rounds <= 1) exit
    printf "\nmedian of %d rounds:\n", rounds
    printf "%-17s %5s %9s %9s %9s %6s %8s %9s %s\n", "load", "conns", "req/s", "p50 ms", "p99 ms",
      "errors", "vs nginx", "max other", "ratios by round"
    for (j = 1; j <= nkeys; j++) {
      k = order[j]; ratio = lratio[k] != "" ? sprintf("%.3fx", median(lratio[k])) : "-"
      printf "%-17s %5s %9.1f %9.3f %9.3f %6d %8s %8d%% %s\n", kname[k], kconns[k], median(lrps[k]),
        median(lp50[k]), median(lp99[k]), lerr[k], ratio, omax[k] + 0, lratio[k]
      printf "median load=%s conns=%s rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d ratio=%s max_other_cpu_pct=%s ratios=%s\n",
        kname[k], kconns[k], median(lrps[k]), median(lp50[k]), median(lp99[k]), lerr[k], ratio,
        omax[k] + 0, lratio[k] >> results
    }
  }' "$BENCH_TMP/rows.txt"
echo "(cpu in % of one core, $(nproc) cores in all: srv = the server under load, wrk = the load"
echo " generator, other = everything else on the machine; ratios are req/s vs nginx, same conns)"
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
((probe_rc == 0)) || bench_die "the probe failed (rc $probe_rc): $(cat "$BENCH_TMP/probe.txt")"
