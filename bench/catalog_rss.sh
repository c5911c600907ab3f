#!/usr/bin/env bash
# Memory of a loaded catalog: a fresh `proconsul agent -dev` gets 100,000 service instances on
# 10,000 nodes (10 per node, 1,000 service names of 100 instances each, every instance with a
# passing service check and every node with its serfHealth check, as Consul's client agents
# register them) through PUT /v1/catalog/register over parallel keep-alive connections. Reports
# the agent's VmRSS and VmHWM before and after, bytes per instance and the registration
# throughput; then, on the loaded store, the time of GET /v1/health/service/<name> for one
# service and the wake-up of a blocking query on it (a change to another service's check must
# not wake it). Finally reads the whole catalog back to check it.
#
#   bench/catalog_rss.sh                              # setup-free: builds, then about a minute
#   BUILD=0 INSTANCES=20000 NODES=2000 bench/catalog_rss.sh
#
# Environment: INSTANCES (100000), NODES (10000), SERVICES (1000), NAME (svc: services are
# svc-0000 ... svc-0999), PROBE (svc-0042), PROBE_QUERIES (200), WAKE_ROUNDS (20),
# REG_CONNS (8), DEADLINE_S (600: registration stops there, and the run fails), BUILD (1; 0
# uses the existing binaries), PROCONSUL (agent binary), CATALOG_LOAD (tool binary),
# WAIT_IDLE (0: seconds to wait for other work on the machine to stop), IDLE_MAX_PCT (25).
# Output: a summary on stdout and key=value lines in bench/results/catalog_rss-<time>.txt.
source "$(dirname "$0")/lib.sh"

INSTANCES="${INSTANCES:-100000}"
NODES="${NODES:-10000}"
SERVICES="${SERVICES:-1000}"
NAME="${NAME:-svc}"
PROBE="${PROBE:-$NAME-0042}"
PROBE_QUERIES="${PROBE_QUERIES:-200}"
WAKE_ROUNDS="${WAKE_ROUNDS:-20}"
REG_CONNS="${REG_CONNS:-8}"
DEADLINE_S="${DEADLINE_S:-600}"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/catalog_rss-$(date +%Y%m%d-%H%M%S).txt"

bench_build_agent
CATALOG_LOAD="${CATALOG_LOAD:-$(bench_build_tool catalog_load)}"
[[ -x "$CATALOG_LOAD" ]] || bench_die "$CATALOG_LOAD not found (build the catalog_load target, or set CATALOG_LOAD=)"
bench_start_agent 65536
AGENT_URL="http://127.0.0.1:$AGENT_PORT"

# catalog_counts FILE: nodes, service names, serfHealth and service checks the agent holds,
# as key=value into FILE, and how long the one GET /v1/health/state/any took.
catalog_counts() {
  /usr/bin/python3 - "$AGENT_URL" "$1" <<'PY'
import json, sys, time, urllib.request
url, out = sys.argv[1], sys.argv[2]
def get(path):
    t = time.monotonic()
    with urllib.request.urlopen(url + path, timeout=120) as r:
        body = r.read()
    return json.loads(body), len(body), (time.monotonic() - t) * 1000
n, _, _ = get("/v1/catalog/nodes")
s, _, _ = get("/v1/catalog/services")
checks, checks_bytes, checks_ms = get("/v1/health/state/any")
serf = sum(1 for c in checks if c["CheckID"] == "serfHealth")
svc = sum(1 for c in checks if c["ServiceID"])
with open(out, "w") as f:
    f.write(f"nodes={len(n)} service_names={len(s)} serf_checks={serf} service_checks={svc} "
            f"state_any_bytes={checks_bytes} state_any_ms={checks_ms:.0f}\n")
PY
}
catalog_counts "$BENCH_TMP/before.txt" || bench_die "cannot read the empty catalog"
sleep 2  # let start-up allocations settle before the baseline
RSS0="$(bench_status_kib "$AGENT_PID" VmRSS)"
HWM0="$(bench_status_kib "$AGENT_PID" VmHWM)"
bench_check_idle

bench_log "registering $INSTANCES instances ($SERVICES services) on $NODES nodes over $REG_CONNS connections"
set +e
timeout $((DEADLINE_S + 300)) "$CATALOG_LOAD" --port="$AGENT_PORT" --instances="$INSTANCES" \
  --nodes="$NODES" --services="$SERVICES" --name="$NAME" --conns="$REG_CONNS" \
  --deadline-s="$DEADLINE_S" --server-pid="$AGENT_PID" --probe="$PROBE" \
  --probe-queries="$PROBE_QUERIES" --wake-rounds="$WAKE_ROUNDS" | tee "$BENCH_TMP/load.txt" >&2
load_rc=${PIPESTATUS[0]}
set -e
kill -0 "$AGENT_PID" 2>/dev/null || { tail -30 "$BENCH_TMP/agent.log" >&2; bench_die "the agent died"; }
LOAD_RESULT="$(grep '^RESULT ' "$BENCH_TMP/load.txt" || true)"
[[ -n "$LOAD_RESULT" ]] || bench_die "catalog_load printed no RESULT line (rc $load_rc)"
field() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$LOAD_RESULT"; }
RSS1="$(bench_status_kib "$AGENT_PID" VmRSS)"
HWM1="$(bench_status_kib "$AGENT_PID" VmHWM)"

# Read everything back: every node, every service name, every check (one large response),
# against what the agent held before (its own node and serfHealth check) plus what was sent.
bench_log "reading the catalog back"
set +e
catalog_counts "$BENCH_TMP/after.txt"
verify_rc=$?
set -e
VERIFY="$(/usr/bin/python3 - "$BENCH_TMP/before.txt" "$BENCH_TMP/after.txt" "$NODES" "$SERVICES" "$INSTANCES" <<'PY'
import sys
def load(path):
    return dict(kv.split("=") for kv in open(path).read().split())
b, a = load(sys.argv[1]), load(sys.argv[2])
nodes, services, instances = map(int, sys.argv[3:6])
ok = (int(a["nodes"]) - int(b["nodes"]) == nodes and
      int(a["service_names"]) - int(b["service_names"]) == services and
      int(a["serf_checks"]) - int(b["serf_checks"]) == nodes and
      int(a["service_checks"]) - int(b["service_checks"]) == instances)
print(f"verify_ok={int(ok)} " + " ".join(f"{k}={v}" for k, v in a.items()) +
      f" (before: {b['nodes']} node, {b['service_names']} services, {b['serf_checks']} serfHealth)")
PY
)"
[[ "$VERIFY" == verify_ok=1* ]] || verify_rc=1
RSS2="$(bench_status_kib "$AGENT_PID" VmRSS)"
HWM2="$(bench_status_kib "$AGENT_PID" VmHWM)"

REGISTERED="$(field registered)"
PER_INSTANCE="$(awk -v a="$RSS0" -v b="$(field rss_after_register)" -v n="$REGISTERED" \
  'BEGIN { printf "%.0f", (n > 0 ? (b * 1024 - a) * 1024 / n : 0) }')"
mkdir -p "$RESULTS_DIR"
{
  echo "# bench/catalog_rss.sh $(date -Iseconds) instances=$INSTANCES nodes=$NODES services=$SERVICES reg_conns=$REG_CONNS probe=$PROBE"
  echo "# host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  bench_agent_line
  echo "# GLIBC_TUNABLES (every process started, the agent included): ${GLIBC_TUNABLES:-unset}"
  echo "# machine busy before the run: $BENCH_BUSY_PCT% of one core; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rss_kib_start=$RSS0 hwm_kib_start=$HWM0 rss_kib_after_load_and_probe=$RSS1 hwm_kib_after_load_and_probe=$HWM1 rss_kib_after_verify=$RSS2 hwm_kib_after_verify=$HWM2 bytes_per_instance=$PER_INSTANCE"
  echo "load rc=$load_rc ${LOAD_RESULT#RESULT }"
  # The rate and RSS at every 10% of the registrations, as the store grew.
  grep '^register: [0-9]* done' "$BENCH_TMP/load.txt" | sed 's/^register: /progress /' || true
  echo "verify rc=$verify_rc $VERIFY"
} >"$RESULTS"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo
echo "registered      $REGISTERED of $INSTANCES instances ($SERVICES services, $NODES nodes) in $(field register_s) s: $(field register_rate)/s over $REG_CONNS connections"
echo "                PUT latency p50 $(field register_p50) p99 $(field register_p99) max $(field register_max) ms; agent CPU $(field server_cpu_register_s) s, client CPU $(field client_cpu_s) s"
echo "agent RSS       $(mib "$RSS0") MiB at start -> $(field rss_after_register) MiB loaded ($PER_INSTANCE bytes per instance); VmHWM $(field hwm_after_register) MiB"
echo "                after the probes $(field rss_after_probe) MiB (HWM $(field hwm_after_probe)); after reading everything back $(mib "$RSS2") MiB (HWM $(mib "$HWM2"))"
echo "query           GET /v1/health/service/$PROBE ($(field probe_entries) entries, $(field probe_bytes) bytes) x $(field query_count): p50 $(field query_p50) p99 $(field query_p99) max $(field query_max) ms"
echo "blocking query  $(field woken) of $(field wake_rounds) woken, $(field spurious) woken by another service's change; from the PUT's answer p50 $(field wake_ack_p50) p99 $(field wake_ack_p99) max $(field wake_ack_max) ms, from its send p50 $(field wake_send_p50) p99 $(field wake_send_p99) ms"
echo "read back       $VERIFY"
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
((load_rc == 0)) || bench_die "catalog_load failed (rc $load_rc)"
((verify_rc == 0)) || bench_die "the catalog read back does not match what was registered"
