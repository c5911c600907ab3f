#!/usr/bin/env bash
# DNS service lookups of `proconsul agent -dev`, side by side in the same run with NSD (one
# server process) serving a static `consul.` zone that holds the same names and records.
# dnsperf drives both over UDP with the same query file (A and SRV lookups of three
# services); each load ends by itself after DURATION. Then, while dnsperf loads the agent,
# one instance's check flips to critical and back, and bench/dns/reflect.py times how long
# the DNS answers take to leave the instance out and to bring it back.
#
#   bench/dns_nsd.sh                          # setup, build, then 1 and 4 dnsperf clients
#   BUILD=0 SETUP=0 ROUNDS=3 WAIT_IDLE=600 bench/dns_nsd.sh
#
# Environment: INSTANCES (5: instances of each of web, api and db, instance i on node-i),
# DURATION (10: seconds per dnsperf run), WARMUP (2: seconds, 0 to skip), CLIENTS ("1 4":
# dnsperf -c, one table row each), THREADS (1: dnsperf -T, never more than the clients),
# ROUNDS (1: repeat the loads and add a table of medians), UDP_ANSWER_LIMIT (0: the agent's
# dns_config.udp_answer_limit; 0 answers every instance, as NSD answers the whole RRset),
# PACED_QPS (20000) and PACED_DURATION (5): the paced run whose per-query latencies give
# p50/p99, FLIPS (5: check flips to critical and back), REFLECT_MAX_MS (1000: a flip slower
# than this fails the run), BUILD (1; 0 uses the existing binary), BUILD_DIR (build-bench),
# BUILD_JOBS (2), PROCONSUL (agent binary), SETUP (1; 0 skips scripts/setup --bench),
# WAIT_IDLE (0: seconds to wait for other work on the machine to stop), IDLE_MAX_PCT (25).
# Output: tables on stdout and key=value lines in bench/results/dns_nsd-<time>.txt.
source "$(dirname "$0")/lib.sh"

INSTANCES="${INSTANCES:-5}"
SERVICES=(web api db)
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CLIENTS="${CLIENTS:-1 4}"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-1}"
UDP_ANSWER_LIMIT="${UDP_ANSWER_LIMIT:-0}"
PACED_QPS="${PACED_QPS:-20000}"
PACED_DURATION="${PACED_DURATION:-5}"
FLIPS="${FLIPS:-5}"
REFLECT_MAX_MS="${REFLECT_MAX_MS:-1000}"
BUILD_DIR="${BUILD_DIR:-build-bench}"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/dns_nsd-$(date +%Y%m%d-%H%M%S).txt"
QUERIES="$BENCH_TMP/queries.txt"

if [[ "${SETUP:-1}" != 0 ]]; then "$BENCH_ROOT/scripts/setup" --bench; fi
for tool in dnsperf nsd nsd-checkconf dig; do
  command -v "$tool" >/dev/null || bench_die "$tool not installed (scripts/setup --bench)"
done
((INSTANCES >= 1 && INSTANCES <= 250)) || bench_die "INSTANCES must be 1..250"

# The agent from BUILD_DIR (Release), only its target, BUILD_JOBS compile jobs.
if [[ "${BUILD:-1}" != 0 && -z "${PROCONSUL:-}" ]]; then
  bench_log "building proconsul in $BUILD_DIR (BUILD=0 skips)"
  (
    cd "$BENCH_ROOT"
    export CCACHE_BASEDIR="$BENCH_ROOT" CCACHE_NOHASHDIR=1
    [[ -f "$BUILD_DIR/build.ninja" ]] || cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD_DIR" --target proconsul -j "${BUILD_JOBS:-2}"
  ) >"$BENCH_TMP/build.log" 2>&1 || { tail -30 "$BENCH_TMP/build.log" >&2; bench_die "building proconsul failed"; }
fi
PROCONSUL="${PROCONSUL:-$BENCH_ROOT/$BUILD_DIR/proconsul}"
[[ -x "$PROCONSUL" ]] || bench_die "$PROCONSUL not found (build it, or set PROCONSUL=)"

# A port on 127.0.0.1 free for both UDP and TCP a moment ago (NSD listens on both).
free_udp_tcp_port() {
  /usr/bin/python3 -c '
import socket
for _ in range(50):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port); break'
}

# CPU seconds of a process and of its descendants (NSD's server is a grandchild of the
# process started: nsd forks its main process, which forks the server).
tree_cpu_seconds() {
  local total=0 pid pids=("$1") i=0 children
  while ((i < ${#pids[@]})); do
    mapfile -t children < <(pgrep -P "${pids[i]}" || true)
    pids+=("${children[@]}")
    i=$((i + 1))
  done
  for pid in "${pids[@]}"; do
    [[ -r "/proc/$pid/stat" ]] || continue
    total="$(awk -v t="$total" -v c="$(bench_cpu_seconds "$pid" 2>/dev/null || echo 0)" 'BEGIN { print t + c }')"
  done
  echo "$total"
}

# "name ticks" per thread of a process, summed by thread name.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" \
      "$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat" 2>/dev/null)"
  done | awk '{ s[$1] += $2 } END { for (n in s) print n, s[n] }' | sort
}

# ---- the agent -----------------------------------------------------------------------------
AGENT_CONFIG="$BENCH_TMP/agent.json"
echo "{\"dns_config\": {\"udp_answer_limit\": $UDP_ANSWER_LIMIT}}" >"$AGENT_CONFIG"
"$PROCONSUL" agent -dev -http-port 0 -dns-port 0 -config-file "$AGENT_CONFIG" \
  >"$BENCH_TMP/agent.log" 2>&1 &
AGENT_PID=$!
BENCH_PIDS+=("$AGENT_PID")
AGENT_PORT="" AGENT_DNS_PORT=""
for _ in $(seq 300); do
  if grep -q 'Proconsul agent running' "$BENCH_TMP/agent.log" 2>/dev/null; then
    AGENT_PORT="$(sed -n 's/.*Client Addr: .*(HTTP: \([0-9]*\).*/\1/p' "$BENCH_TMP/agent.log" | head -1)"
    AGENT_DNS_PORT="$(sed -n 's/.*Client Addr: .*DNS: \([0-9]*\)).*/\1/p' "$BENCH_TMP/agent.log" | head -1)"
    break
  fi
  kill -0 "$AGENT_PID" 2>/dev/null || { cat "$BENCH_TMP/agent.log" >&2; bench_die "the agent exited"; }
  sleep 0.1
done
[[ -n "$AGENT_PORT" && -n "$AGENT_DNS_PORT" && "$AGENT_DNS_PORT" -gt 0 ]] ||
  { cat "$BENCH_TMP/agent.log" >&2; bench_die "no HTTP or DNS port in the agent's banner"; }
DATACENTER="$(sed -n "s/.*Datacenter: '\\(.*\\)'.*/\\1/p" "$BENCH_TMP/agent.log" | head -1)"
AGENT_URL="http://127.0.0.1:$AGENT_PORT"
for _ in $(seq 100); do
  curl -sf -o /dev/null -X PUT --data ok "$AGENT_URL/v1/kv/bench/ready" && break
  sleep 0.1
done
curl -sf -o /dev/null "$AGENT_URL/v1/kv/bench/ready" || bench_die "the agent does not accept a KV PUT"
bench_log "agent pid $AGENT_PID, HTTP 127.0.0.1:$AGENT_PORT, DNS 127.0.0.1:$AGENT_DNS_PORT (udp_answer_limit $UDP_ANSWER_LIMIT)"

# Instance i of each service runs on node-i (address 10.0.0.i, port 8000+i) with one service
# check, as a client agent's anti-entropy registers it.
register() {  # register NODE_INDEX SERVICE STATUS
  local i="$1" s="$2" status="$3"
  curl -sf -o /dev/null -X PUT "$AGENT_URL/v1/catalog/register" --data @- <<JSON || bench_die "registering $s-$i failed"
{"Node": "node-$i", "Address": "10.0.0.$i",
 "Service": {"ID": "$s-$i", "Service": "$s", "Port": $((8000 + i))},
 "Checks": [{"CheckID": "svc:$s-$i", "Name": "$s-$i alive", "Status": "$status", "ServiceID": "$s-$i"}]}
JSON
}
for i in $(seq "$INSTANCES"); do
  for s in "${SERVICES[@]}"; do register "$i" "$s" passing; done
done
bench_log "registered ${#SERVICES[@]} services x $INSTANCES instances on $INSTANCES nodes"

# ---- NSD: the same names and records as a static zone -------------------------------------
NSD_DIR="$BENCH_TMP/nsd"
mkdir -p "$NSD_DIR"
NSD_PORT="$(free_udp_tcp_port)"
[[ -n "$NSD_PORT" ]] || bench_die "no free port for NSD"
{
  # shellcheck disable=SC2016 # master-file directives, not shell variables
  printf '%s\n' '$ORIGIN consul.' '$TTL 0'
  # The agent's SOA; the NS target has no address in the zone, so NSD adds no glue.
  echo '@ IN SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0'
  echo '@ IN NS ns.consul.'
  for i in $(seq "$INSTANCES"); do echo "node-$i.node.$DATACENTER IN A 10.0.0.$i"; done
  for s in "${SERVICES[@]}"; do
    for i in $(seq "$INSTANCES"); do
      echo "$s.service IN A 10.0.0.$i"
      echo "$s.service IN SRV 1 1 $((8000 + i)) node-$i.node.$DATACENTER.consul."
      echo "_$s._tcp.service IN SRV 1 1 $((8000 + i)) node-$i.node.$DATACENTER.consul."
    done
  done
} >"$NSD_DIR/consul.zone"
cat >"$NSD_DIR/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1
  port: $NSD_PORT
  do-ip6: no
  server-count: 1
  reuseport: no
  username: ""
  chroot: ""
  zonesdir: "$NSD_DIR"
  database: ""
  zonelistfile: "$NSD_DIR/zone.list"
  xfrdfile: "$NSD_DIR/xfrd.state"
  xfrdir: "$NSD_DIR"
  pidfile: "$NSD_DIR/nsd.pid"
  logfile: "$NSD_DIR/nsd.log"
  verbosity: 1
  hide-version: yes
  rrl-ratelimit: 0
  # Rotates each RRset, as the agent shuffles its answers.
  round-robin: yes
remote-control:
  control-enable: no
zone:
  name: "consul."
  zonefile: "consul.zone"
CONF
nsd-checkconf "$NSD_DIR/nsd.conf" || bench_die "nsd-checkconf refuses $NSD_DIR/nsd.conf"
nsd -d -c "$NSD_DIR/nsd.conf" >"$NSD_DIR/stdout.log" 2>&1 &
NSD_PID=$!
BENCH_PIDS+=("$NSD_PID")
for _ in $(seq 100); do
  dig @127.0.0.1 -p "$NSD_PORT" +norec +tries=1 +time=1 +short consul SOA 2>/dev/null | grep -q hostmaster && break
  kill -0 "$NSD_PID" 2>/dev/null || { cat "$NSD_DIR/stdout.log" "$NSD_DIR/nsd.log" >&2 2>/dev/null; bench_die "nsd exited"; }
  sleep 0.1
done
dig @127.0.0.1 -p "$NSD_PORT" +norec +short consul SOA | grep -q hostmaster ||
  { cat "$NSD_DIR/stdout.log" "$NSD_DIR/nsd.log" >&2 2>/dev/null; bench_die "nsd does not answer"; }
bench_log "nsd pid $NSD_PID on 127.0.0.1:$NSD_PORT"

# ---- the queries, and the same answers from both --------------------------------------------
# Half A, half SRV (both SRV forms Consul answers), for each service in turn.
for s in "${SERVICES[@]}"; do
  printf '%s.service.consul A\n%s.service.consul A\n%s.service.consul SRV\n_%s._tcp.service.consul SRV\n' \
    "$s" "$s" "$s" "$s"
done >"$QUERIES"
# The records over TCP (complete whatever udp_answer_limit says); the sizes as dnsperf asks:
# UDP, no EDNS0, no recursion desired.
dig_records() {  # dig_records PORT NAME TYPE -> the answer and additional records, sorted
  dig @127.0.0.1 -p "$1" +tcp +norec +noedns +tries=2 +time=2 +noall +answer +additional "$2" "$3" |
    awk 'NF >= 5 { $1 = tolower($1); print }' | sort
}
dig_size() {  # dig_size PORT NAME TYPE -> response bytes
  dig @127.0.0.1 -p "$1" +norec +noedns +tries=2 +time=2 "$2" "$3" | sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p'
}
SIZES=""
while read -r name type; do
  a="$(dig_records "$AGENT_DNS_PORT" "$name" "$type")"
  n="$(dig_records "$NSD_PORT" "$name" "$type")"
  [[ -n "$a" && "$a" == "$n" ]] || {
    printf 'agent:\n%s\nnsd:\n%s\n' "$a" "$n" >&2
    bench_die "the agent and NSD answer $name $type differently"
  }
  key="$name/$type"
  [[ "$SIZES" == *" $key="* ]] && continue
  SIZES+=" $key=$(dig_size "$AGENT_DNS_PORT" "$name" "$type"),$(dig_size "$NSD_PORT" "$name" "$type")"
done <"$QUERIES"
bench_log "both answer the same records for every query (response bytes agent,nsd:$SIZES)"

# ---- loads ---------------------------------------------------------------------------------
# run_load NAME SERVER_PID PORT CLIENTS -> appends a row to rows.txt
run_load() {
  local name="$1" pid="$2" port="$3" clients="$4"
  local out="$BENCH_TMP/dnsperf-$name-c$clients-r$ROUND.txt" threads="$THREADS"
  ((threads > clients)) && threads="$clients"
  local args=(-s 127.0.0.1 -p "$port" -d "$QUERIES" -c "$clients" -T "$threads")
  if [[ "$WARMUP" != 0 ]]; then dnsperf "${args[@]}" -l "$WARMUP" >/dev/null 2>&1 || true; fi
  local m0 m1 cpu0 cpu1 t0 t1 times th0 th1
  m0="$(bench_machine_jiffies)"
  cpu0="$(tree_cpu_seconds "$pid")"
  th0="$(thread_ticks "$pid")"
  t0="$(date +%s.%N)"
  local TIMEFORMAT='%U %S'
  times="$( { time dnsperf "${args[@]}" -l "$DURATION" >"$out" 2>&1; } 2>&1 )" ||
    bench_die "dnsperf failed: $(cat "$out")"
  t1="$(date +%s.%N)"
  th1="$(thread_ticks "$pid")"
  cpu1="$(tree_cpu_seconds "$pid")"
  m1="$(bench_machine_jiffies)"
  kill -0 "$pid" 2>/dev/null || bench_die "$name died under load"
  local qps avg sd max lost noerror completed resp
  qps="$(awk '/Queries per second:/ { print $4 }' "$out")"
  [[ -n "$qps" ]] || bench_die "no 'Queries per second' in dnsperf's output: $(cat "$out")"
  avg="$(awk '/Average Latency \(s\):/ { printf "%.3f", $4 * 1000 }' "$out")"
  max="$(awk '/Average Latency \(s\):/ { gsub(/[),]/, ""); printf "%.3f", $8 * 1000 }' "$out")"
  sd="$(awk '/Latency StdDev \(s\):/ { printf "%.3f", $4 * 1000 }' "$out")"
  lost="$(awk '/Queries lost:/ { print $3 }' "$out")"
  completed="$(awk '/Queries completed:/ { print $3 }' "$out")"
  noerror="$(awk '/Response codes:/ { for (i = 3; i < NF; i++) if ($i == "NOERROR") print $(i + 1) }' "$out")"
  resp="$(awk '/Average packet size:/ { print $NF }' "$out")"
  local errors=$(( ${lost:-0} + ${completed:-0} - ${noerror:-0} ))
  local wall srv_cpu perf_cpu other_cpu threads_cpu
  wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  srv_cpu="$(awk -v a="$cpu0" -v b="$cpu1" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (b - a) / w }')"
  perf_cpu="$(awk -v t="$times" -v w="$wall" 'BEGIN { split(t, x, " "); printf "%.0f", 100 * (x[1] + x[2]) / w }')"
  other_cpu="$(awk -v a="$m0" -v b="$m1" -v n="$(nproc)" -v s="$srv_cpu" -v w="$perf_cpu" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = 100 * n * (y[1] - x[1]) / (y[2] - x[2])
    o = busy - s - w; printf "%.0f", o < 0 ? 0 : o }')"
  # The server's threads that used at least 1% of a core, e.g. pc-dns-0:98,pc-http-0:1.
  threads_cpu="$(join <(echo "$th0") <(echo "$th1") | awk -v hz="$(getconf CLK_TCK)" -v w="$wall" '
    { p = 100 * ($3 - $2) / hz / w; if (p >= 1) printf "%s%s:%.0f", n++ ? "," : "", $1, p }')"
  echo "$ROUND $name $clients $qps $avg $sd $max $errors $resp $srv_cpu $perf_cpu $other_cpu ${threads_cpu:--}" >>"$BENCH_TMP/rows.txt"
  bench_log "round $ROUND $name c=$clients: $qps q/s, avg $avg ms, sd $sd ms, max $max ms, errors $errors"
}

# Latency at a fixed rate both serve easily: per-query latencies from dnsperf -v.
# paced_load NAME PORT -> appends a row to paced.txt
paced_load() {
  local name="$1" port="$2" out="$BENCH_TMP/paced-$1-r$ROUND.txt"
  dnsperf -s 127.0.0.1 -p "$port" -d "$QUERIES" -c 4 -T 1 -Q "$PACED_QPS" -l "$PACED_DURATION" -v \
    >"$out" 2>&1 || bench_die "dnsperf (paced) failed: $(tail -5 "$out")"
  local qps stats
  qps="$(awk '/Queries per second:/ { print $4 }' "$out")"
  stats="$(awk '$1 == ">" { print $NF * 1000 }' "$out" | sort -n | awk '
    { v[NR] = $1 } END { if (NR == 0) { print "0 0 0 0 0"; exit }
      printf "%d %.3f %.3f %.3f %.3f", NR, v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1],
        v[(int(NR * 0.999) + 1 > NR) ? NR : int(NR * 0.999) + 1], v[NR] }')"
  echo "$ROUND $name $PACED_QPS $qps $stats" >>"$BENCH_TMP/paced.txt"
  bench_log "round $ROUND $name paced at $PACED_QPS q/s: achieved $qps, answered/p50/p99/p99.9/max ms $stats"
}

bench_check_idle
: >"$BENCH_TMP/rows.txt"
: >"$BENCH_TMP/paced.txt"
for round in $(seq "$ROUNDS"); do
  ROUND="$round"
  for c in $CLIENTS; do
    # The agent's run comes right after NSD's with the same clients, so each ratio compares
    # runs seconds apart under the same conditions.
    run_load nsd "$NSD_PID" "$NSD_PORT" "$c"
    run_load proconsul "$AGENT_PID" "$AGENT_DNS_PORT" "$c"
  done
  paced_load nsd "$NSD_PORT"
  paced_load proconsul "$AGENT_DNS_PORT"
done
RSS_KIB="$(bench_status_kib "$AGENT_PID" VmRSS)"

# ---- health reflection: a check flips while dnsperf loads the agent --------------------------
# bench/dns/reflect.py flips web-1's check with PUT /v1/catalog/register and queries until the
# answers change, one line per flip: "status from_send_ms from_answer_ms queries".
REFLECT_LOAD_OUT="$BENCH_TMP/dnsperf-reflect.txt"
REFLECT_LOAD_S=$((FLIPS + 4))
bench_log "health reflection: $FLIPS flips of web-1's check to critical and back, under ${REFLECT_LOAD_S}s of dnsperf load"
dnsperf -s 127.0.0.1 -p "$AGENT_DNS_PORT" -d "$QUERIES" -c 4 -T "$THREADS" -l "$REFLECT_LOAD_S" \
  >"$REFLECT_LOAD_OUT" 2>&1 &
REFLECT_LOAD_PID=$!
BENCH_PIDS+=("$REFLECT_LOAD_PID")
sleep 1
set +e
timeout 120 /usr/bin/python3 "$BENCH_ROOT/bench/dns/reflect.py" --http-port="$AGENT_PORT" \
  --dns-port="$AGENT_DNS_PORT" --flips="$FLIPS" --timeout-s=5 >"$BENCH_TMP/reflect.txt"
reflect_rc=$?
set -e
# Whether every flip happened under load (a slow flip may outlast dnsperf's run).
REFLECT_UNDER_LOAD=yes
kill -0 "$REFLECT_LOAD_PID" 2>/dev/null || REFLECT_UNDER_LOAD=no
wait "$REFLECT_LOAD_PID" || bench_die "dnsperf (reflection load) failed: $(tail -5 "$REFLECT_LOAD_OUT")"
((reflect_rc == 0)) || bench_die "bench/dns/reflect.py failed (rc $reflect_rc): $(cat "$BENCH_TMP/reflect.txt")"
# dig agrees at the end: every instance back.
n="$(dig @127.0.0.1 -p "$AGENT_DNS_PORT" +norec +bufsize=4096 +short web.service.consul A | wc -l)"
((n == INSTANCES)) || bench_die "after the flips dig sees $n instances of web, expected $INSTANCES"
REFLECT_LOAD_QPS="$(awk '/Queries per second:/ { print $4 }' "$REFLECT_LOAD_OUT")"
REFLECT_SUMMARY="$(awk -v max="$REFLECT_MAX_MS" '
  { n[$1]++; s = $2 + 0; if (s > m[$1]) m[$1] = s; sum[$1] += s; if (s > max) slow++; if ($4 == 1) first++; tot++ }
  END { printf "flips=%d first_query=%d over_limit=%d critical_max_ms=%.1f critical_avg_ms=%.1f passing_max_ms=%.1f passing_avg_ms=%.1f",
        tot, first, slow, m["critical"], sum["critical"] / (n["critical"] ? n["critical"] : 1),
        m["passing"], sum["passing"] / (n["passing"] ? n["passing"] : 1) }' "$BENCH_TMP/reflect.txt")"
REFLECT_SLOW="$(sed -n 's/.*over_limit=\([0-9]*\).*/\1/p' <<<"$REFLECT_SUMMARY")"
kill -0 "$AGENT_PID" 2>/dev/null || bench_die "the agent died during the reflection check"

# ---- results --------------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
{
  echo "# bench/dns_nsd.sh $(date -Iseconds) services=${SERVICES[*]} instances=$INSTANCES duration=${DURATION}s warmup=${WARMUP}s threads=$THREADS rounds=$ROUNDS udp_answer_limit=$UDP_ANSWER_LIMIT"
  bench_host_line
  bench_agent_line
  echo "# machine busy before the runs: $BENCH_BUSY_PCT% of one core (other = busy apart from server and dnsperf)"
  echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# nsd: $(nsd -v 2>&1 | head -1 | awk '{ print $3 }') server-count 1, round-robin, rrl off; dnsperf: $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }') UDP, no EDNS0, queries: $(tr '\n' ';' <"$QUERIES")"
  echo "response_bytes agent,nsd:$SIZES"
  echo "agent_rss_kib_after_load=$RSS_KIB"
  awk '{ printf "paced round=%s server=%s target_qps=%s qps=%s answers=%s p50_ms=%s p99_ms=%s p999_ms=%s max_ms=%s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$BENCH_TMP/paced.txt"
  awk '{ printf "reflect status=%s from_send_ms=%s from_answer_ms=%s queries=%s\n", $1, $2, $3, $4 }' "$BENCH_TMP/reflect.txt"
  echo "reflect $REFLECT_SUMMARY limit_ms=$REFLECT_MAX_MS load_qps=${REFLECT_LOAD_QPS:-?} under_load=$REFLECT_UNDER_LOAD"
} >"$RESULTS"
echo
echo "dnsperf over UDP, ${#SERVICES[*]} services x $INSTANCES instances, A and SRV (response bytes agent,nsd:$SIZES)"
awk -v results="$RESULTS" -v rounds="$ROUNDS" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { round[NR] = $1; name[NR] = $2; cl[NR] = $3; qps[NR] = $4; avg[NR] = $5; sd[NR] = $6; mx[NR] = $7
    err[NR] = $8; resp[NR] = $9; scpu[NR] = $10; pcpu[NR] = $11; ocpu[NR] = $12; thr[NR] = $13
    if ($2 == "nsd") base[$1 "/" $3] = $4 }
  END {
    printf "%-5s %-9s %7s %9s %8s %8s %8s %6s %5s %7s %7s %7s %6s  %s\n", "round", "server", "clients",
      "q/s", "avg ms", "sd ms", "max ms", "errors", "bytes", "vs nsd", "srv cpu", "dnsperf", "other", "threads"
    nkeys = 0
    for (i = 1; i <= NR; i++) {
      ratio = "-"; r = ""
      b = base[round[i] "/" cl[i]]
      if (name[i] != "nsd" && b > 0) { r = qps[i] / b; ratio = sprintf("%.3fx", r) }
      printf "%-5s %-9s %7s %9.0f %8.3f %8.3f %8.3f %6d %5s %7s %6s%% %6s%% %5s%%  %s\n", round[i], name[i],
        cl[i], qps[i], avg[i], sd[i], mx[i], err[i], resp[i], ratio, scpu[i], pcpu[i], ocpu[i], thr[i]
      printf "round=%s server=%s clients=%s qps=%.0f avg_ms=%.3f sd_ms=%.3f max_ms=%.3f errors=%d response_bytes=%s ratio=%s server_cpu_pct=%s dnsperf_cpu_pct=%s other_cpu_pct=%s threads_cpu_pct=%s\n",
        round[i], name[i], cl[i], qps[i], avg[i], sd[i], mx[i], err[i], resp[i], ratio, scpu[i], pcpu[i], ocpu[i], thr[i] >> results
      k = name[i] "/" cl[i]
      if (!(k in seen)) { seen[k] = 1; order[++nkeys] = k; kname[k] = name[i]; kcl[k] = cl[i] }
      lqps[k] = lqps[k] " " qps[i]; lavg[k] = lavg[k] " " avg[i]; lerr[k] += err[i]
      if (ocpu[i] + 0 > omax[k]) omax[k] = ocpu[i] + 0
      if (r != "") lratio[k] = lratio[k] " " sprintf("%.3f", r)
    }
    if (rounds <= 1) exit
    printf "\nmedian of %d rounds:\n", rounds
    printf "%-9s %7s %9s %8s %6s %8s %9s %s\n", "server", "clients", "q/s", "avg ms", "errors", "vs nsd",
      "max other", "ratios by round"
    for (j = 1; j <= nkeys; j++) {
      k = order[j]; ratio = lratio[k] != "" ? sprintf("%.3fx", median(lratio[k])) : "-"
      printf "%-9s %7s %9.0f %8.3f %6d %8s %8d%% %s\n", kname[k], kcl[k], median(lqps[k]), median(lavg[k]),
        lerr[k], ratio, omax[k] + 0, lratio[k]
      printf "median server=%s clients=%s qps=%.0f avg_ms=%.3f errors=%d ratio=%s max_other_cpu_pct=%s ratios=%s\n",
        kname[k], kcl[k], median(lqps[k]), median(lavg[k]), lerr[k], ratio, omax[k] + 0, lratio[k] >> results
    }
  }' "$BENCH_TMP/rows.txt"
echo "(cpu in % of one core, $(nproc) cores in all: srv = the server under load (NSD: all its processes),"
echo " dnsperf = the load generator, other = everything else; threads = the server's threads over 1%)"
echo
echo "paced at $PACED_QPS q/s for ${PACED_DURATION}s (dnsperf -c 4 -Q, per-query latency):"
awk '{ printf "  round %s %-9s achieved %8.0f q/s  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n", $1, $2, $4, $6, $7, $8, $9 }' "$BENCH_TMP/paced.txt"
echo
echo "health reflection (web-1's check flipped via PUT /v1/catalog/register, then A queries until the answer changes;"
echo " dnsperf meanwhile at ${REFLECT_LOAD_QPS:-?} q/s on the agent; every flip under load: $REFLECT_UNDER_LOAD):"
awk '{ printf "  %-8s %7.2f ms from the PUT sent, %7.2f ms from its answer, %d quer%s\n", $1, $2, $3, $4, $4 == 1 ? "y" : "ies" }' "$BENCH_TMP/reflect.txt"
echo "  $REFLECT_SUMMARY"
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
((REFLECT_SLOW == 0)) || bench_die "$REFLECT_SLOW flip(s) took longer than $REFLECT_MAX_MS ms to reach DNS"
