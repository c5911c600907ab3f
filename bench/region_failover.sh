#!/usr/bin/env bash
# Cross-region failover and ?dc= forwarded reads over an emulated WAN, in the two-region bed
# (tests/regions/): us-west-2 and us-east-1, SERVERS servers and CLIENTS client agents each,
# every host in its own network namespace, every packet between the regions held DELAY_MS
# by the router (a round trip of twice that). Client agents run services A and B with HTTP
# checks every 1 s against a tiny HTTP server in their namespace.
#
#   bench/region_failover.sh                          # setup, build, 10 trials (~5 min)
#   BUILD=0 SETUP=0 TRIALS=20 bench/region_failover.sh
#
# Figures:
# - failover: a prepared query for A that fails over to us-east-1; all A instances of
#   us-west-2 are SIGKILLed, and from a us-west-2 client's namespace its execution
#   (/v1/query/A/execute) and DNS (A.query.consul on the client agent) are polled every
#   20 ms: time from the last instance dying to the first answer from us-east-1 (median,
#   p99 = the largest below 100 trials), and back to us-west-2 after the instances restart.
#   Anchor: Route53's health-checked DNS failover, 30 s or more at its fastest settings
#   (10 s check interval x failure threshold 3, before DNS TTLs). Target: at most 3 s.
# - forwarded read: GET /v1/kv/bench/key?dc=us-east-1 (default and ?stale) from a us-west-2
#   client agent, beside the same read of its own region: median and p99 over READS.
# A figure whose feature is not in the binary (?dc= forwarding, prepared queries) is
# written as "skipped: <the answer>"; nothing is made up.
#
# Environment: TRIALS (10), READS (200), SERVERS (3), CLIENTS (2), DELAY_MS (35), SETTLE_S
# (2: after A passes again, before the next trial), BUILD (1), SETUP (1), WAIT_IDLE,
# IDLE_MAX_PCT, PROCONSUL (the binary). Needs root (ip netns, nft, iptables-nft).
# Output: key=value lines in bench/results/region_failover-<time>.txt, echoed on stdout.
source "$(dirname "$0")/lib.sh"

TRIALS="${TRIALS:-10}"
READS="${READS:-200}"
SERVERS="${SERVERS:-3}"
CLIENTS="${CLIENTS:-2}"
DELAY_MS="${DELAY_MS:-35}"
SETTLE_S="${SETTLE_S:-2}"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/region_failover-$(date +%Y%m%d-%H%M%S).txt"

[[ $(id -u) == 0 ]] || bench_die "needs root: it makes network namespaces and nftables rules"
((TRIALS >= 1 && CLIENTS >= 1 && SERVERS >= 1)) || bench_die "TRIALS, CLIENTS, SERVERS >= 1"
if [[ "${SETUP:-1}" != 0 ]]; then "$BENCH_ROOT/scripts/setup"; fi
bench_build_agent
bench_check_idle

mkdir -p "$RESULTS_DIR"
{
  echo "# region_failover: $TRIALS trials, $SERVERS servers + $CLIENTS clients per region," \
    "WAN $DELAY_MS ms each way, checks every 1 s"
  bench_host_line
  head="$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || true)"
  echo "# proconsul: binary ${PROCONSUL#"$BENCH_ROOT"/}, HEAD $head"
  echo "machine_busy_pct_before=$BENCH_BUSY_PCT"
} >"$RESULTS"

bench_log "two-region bed: $SERVERS servers + $CLIENTS clients per region, $TRIALS trials"
PROCONSUL_BIN="$PROCONSUL" /usr/bin/python3 "$BENCH_ROOT/tests/regions/regions.py" bench \
  --servers "$SERVERS" --clients "$CLIENTS" --delay-ms "$DELAY_MS" --trials "$TRIALS" \
  --reads "$READS" --settle-s "$SETTLE_S" --out "$RESULTS"
bench_log "results in ${RESULTS#"$BENCH_ROOT"/}"
