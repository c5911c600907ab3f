#!/usr/bin/env bash
# Gossip failure detection beside hashicorp/memberlist, in the same run: for each member count
# and each packet loss, N memberlist instances (Debian's golang-github-hashicorp-memberlist-dev
# 0.2.2, with Lifeguard; bench/gossip/memberlist_anchor.go) and N Proconsul gossip pools
# (bench/gossip/pool_bench.cc), each set in one process on 127.0.0.1, go through the same
# phases: join, warm-up, a steady state of STEADY_S seconds (false "dead" and suspicions of
# running members; bytes sent per member per second), then KILLS members stopped one at a time
# without leaving (time from the stop to the first survivor, and to every survivor, declaring
# it dead). Both run inside a network namespace of their own whose nftables rule drops LOSS %
# of the UDP datagrams on its loopback at random, so both see the same kernel-made loss.
#
#   bench/gossip_memberlist.sh                      # setup, build, ~45 min (100 members, 0/1/5 %)
#   BUILD=0 SETUP=0 WAIT_IDLE=600 bench/gossip_memberlist.sh
#   BUILD=0 SETUP=0 MEMBERS=30 STEADY_S=30 KILLS=3 bench/gossip_memberlist.sh   # ~8 min
#
# Environment: MEMBERS ("100"), LOSSES ("0 1 5", % of UDP datagrams dropped), STEADY_S (120),
# KILLS (10), WARMUP_S (15: after every member sees all alive, before the steady state),
# SETTLE_S (5: after a kill is seen everywhere, before the next), PROFILE (lan: memberlist's
# DefaultLANConfig and our lan_config; local: DefaultLocalConfig and local_config), META_BYTES
# (160, each member's meta), BUILD (1; 0 uses the existing binaries), BUILD_DIR_BENCH
# (build-bench), POOL_BENCH and ANCHOR (other binaries), SETUP (1; 0 skips scripts/setup
# --bench), WAIT_IDLE, IDLE_MAX_PCT. Needs root (ip netns, nft).
# Output: a table on stdout and key=value lines in bench/results/gossip_memberlist-<time>.txt.
source "$(dirname "$0")/lib.sh"

MEMBERS="${MEMBERS:-100}"
LOSSES="${LOSSES:-0 1 5}"
STEADY_S="${STEADY_S:-120}"
KILLS="${KILLS:-10}"
WARMUP_S="${WARMUP_S:-15}"
SETTLE_S="${SETTLE_S:-5}"
PROFILE="${PROFILE:-lan}"
META_BYTES="${META_BYTES:-160}"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/gossip_memberlist-$(date +%Y%m%d-%H%M%S).txt"
NETNS="pcgb-$$"

[[ $(id -u) == 0 ]] || bench_die "needs root: it makes a network namespace and an nftables rule"
[[ "$PROFILE" == lan || "$PROFILE" == local ]] || bench_die "PROFILE is lan or local"
if [[ "${SETUP:-1}" != 0 ]]; then "$BENCH_ROOT/scripts/setup" --bench; fi
command -v nft >/dev/null || bench_die "nft not installed (scripts/setup)"

# ---- the two programs ----------------------------------------------------------------------
POOL_BENCH="${POOL_BENCH:-$(bench_build_tool pool_bench)}"
[[ -x "$POOL_BENCH" ]] || bench_die "$POOL_BENCH not found (build it, or set POOL_BENCH=)"
ANCHOR="${ANCHOR:-$BENCH_ROOT/${BUILD_DIR_BENCH:-build-bench}/bench/memberlist_anchor}"
if [[ "${BUILD:-1}" != 0 ]]; then
  command -v go >/dev/null || bench_die "go not installed (scripts/setup --bench)"
  bench_log "building memberlist_anchor (Go, offline, GOPATH mode over /usr/share/gocode)"
  mkdir -p "$(dirname "$ANCHOR")" "$BENCH_TMP/gopath"
  (
    cd "$BENCH_ROOT/bench/gossip"
    GO111MODULE=off GOPATH="$BENCH_TMP/gopath:/usr/share/gocode" GOPROXY=off GOFLAGS= \
      GOCACHE="$BENCH_TMP/gocache" go build -o "$ANCHOR" memberlist_anchor.go
  ) >"$BENCH_TMP/build-anchor.log" 2>&1 || {
    cat "$BENCH_TMP/build-anchor.log" >&2
    bench_die "building memberlist_anchor failed"
  }
fi
[[ -x "$ANCHOR" ]] || bench_die "$ANCHOR not found (BUILD=1 builds it, or set ANCHOR=)"

# ---- the namespace -------------------------------------------------------------------------
# Our processes are stopped first (they run inside it), then the namespace goes.
gossip_cleanup() {
  local rc=$? pid
  for pid in "${BENCH_PIDS[@]}"; do bench_stop_pid "$pid"; done
  BENCH_PIDS=()
  ip netns del "$NETNS" 2>/dev/null || true
  (exit "$rc")
  bench_cleanup
}
trap gossip_cleanup EXIT
ip netns add "$NETNS" || bench_die "ip netns add $NETNS failed"
ip -n "$NETNS" link set lo up

# set_loss PCT: drops PCT % of the UDP datagrams arriving on the namespace's loopback, chosen
# at random per datagram. On input, not output: a datagram dropped on output fails the sender's
# sendto() with EPERM, which tells both implementations what a lossy network never would. The
# two counters (every UDP datagram; the dropped ones) show the loss each run really had.
set_loss() {
  ip netns exec "$NETNS" nft flush ruleset
  ip netns exec "$NETNS" nft -f - <<NFT
table inet pcgb {
  chain input {
    type filter hook input priority 0; policy accept;
    meta l4proto udp counter
    meta l4proto udp numgen random mod 100 < ${1} counter drop
  }
}
NFT
}

# "all dropped": the two counters' packets so far.
udp_counters() {
  ip netns exec "$NETNS" nft list chain inet pcgb input |
    sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | tr '\n' ' '
}

# Forgets a PID once it has been reaped, so that cleanup never signals a reused PID.
forget_pid() {
  local kept=() p
  for p in "${BENCH_PIDS[@]}"; do [[ "$p" == "$1" ]] || kept+=("$p"); done
  BENCH_PIDS=("${kept[@]}")
}

# run_one IMPL N LOSS: one program in the namespace, to completion. Appends its output to the
# results (each line prefixed with the point) and "IMPL N LOSS cpu_pct other_pct" to
# runs.txt; the output stays in $BENCH_TMP/IMPL-N-LOSS.out.
run_one() {
  local impl="$1" n="$2" loss="$3" prog
  if [[ "$impl" == memberlist ]]; then prog="$ANCHOR"; else prog="$POOL_BENCH"; fi
  local out="$BENCH_TMP/$impl-$n-$loss.out" log="$BENCH_TMP/$impl-$n-$loss.log"
  local m0 m1 t0 t1 pid rc=0 c0 c1
  c0="$(udp_counters)"
  m0="$(bench_machine_jiffies)"
  t0="$(date +%s.%N)"
  ip netns exec "$NETNS" "$prog" --members="$n" --steady-s="$STEADY_S" --kills="$KILLS" \
    --warmup-s="$WARMUP_S" --settle-s="$SETTLE_S" --profile="$PROFILE" \
    --meta-bytes="$META_BYTES" >"$out" 2>"$log" &
  pid=$!
  BENCH_PIDS+=("$pid")
  # The program's own CPU, read while it still exists (it sleeps its last second away in no
  # phase, so the last sample misses little).
  local cpu=0
  while kill -0 "$pid" 2>/dev/null; do
    cpu="$(bench_cpu_seconds "$pid" 2>/dev/null || echo "$cpu")"
    sleep 1
  done
  wait "$pid" || rc=$?
  forget_pid "$pid"
  t1="$(date +%s.%N)"
  m1="$(bench_machine_jiffies)"
  c1="$(udp_counters)"
  ((rc == 0)) || { tail -20 "$log" >&2; bench_die "$impl with $n members at $loss % loss exited $rc"; }
  sed "s/^/run impl=$impl members=$n loss_pct=$loss | /" "$out" >>"$RESULTS"
  awk -v impl="$impl" -v n="$n" -v loss="$loss" -v t0="$t0" -v t1="$t1" -v cpu="$cpu" \
    -v m0="$m0" -v m1="$m1" -v cores="$(nproc)" -v c0="$c0" -v c1="$c1" -v results="$RESULTS" 'BEGIN {
      w = t1 - t0; split(m0, p, " "); split(m1, q, " ")
      own = 100 * cpu / w; busy = 100 * cores * (q[1] - p[1]) / (q[2] - p[2]); o = busy - own
      split(c0, a, " "); split(c1, b, " "); all = b[1] - a[1]; dropped = b[2] - a[2]
      printf "run impl=%s members=%s loss_pct=%s | udp_datagrams=%d udp_dropped=%d udp_dropped_pct=%.2f\n",
        impl, n, loss, all, dropped, (all > 0 ? 100 * dropped / all : 0) >> results
      printf "%s %s %s %.0f %.0f %.2f\n", impl, n, loss, own, o < 0 ? 0 : o, (all > 0 ? 100 * dropped / all : 0) }' \
    >>"$BENCH_TMP/runs.txt"
  bench_log "$impl, $n members, $loss % loss: $(grep -h '^detect_' "$out")"
}

mkdir -p "$RESULTS_DIR"
{
  echo "# bench/gossip_memberlist.sh $(date -Iseconds) members=\"$MEMBERS\" losses=\"$LOSSES\" steady_s=$STEADY_S kills=$KILLS warmup_s=$WARMUP_S settle_s=$SETTLE_S profile=$PROFILE meta_bytes=$META_BYTES"
  bench_host_line
  echo "# proconsul: pool_bench ${POOL_BENCH#"$BENCH_ROOT"/}, HEAD $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || true) (the binary may predate uncommitted changes)"
  echo "# memberlist: $(dpkg-query -W -f='${Package} ${Version}' golang-github-hashicorp-memberlist-dev 2>/dev/null), $(go version 2>/dev/null | awk '{print $3}'), anchor ${ANCHOR#"$BENCH_ROOT"/}"
  echo "# loss: nftables in namespace $NETNS, input hook on lo: meta l4proto udp numgen random mod 100 < LOSS drop"
} >"$RESULTS"

bench_check_idle
echo "# machine busy before the runs: $BENCH_BUSY_PCT% of one core" >>"$RESULTS"
: >"$BENCH_TMP/runs.txt"
point=0
for n in $MEMBERS; do
  for loss in $LOSSES; do
    set_loss "$loss"
    # Alternate which goes first, so neither always runs after the other.
    if ((point % 2 == 0)); then order="memberlist proconsul"; else order="proconsul memberlist"; fi
    for impl in $order; do run_one "$impl" "$n" "$loss"; done
    # Same names by construction; the metas are checked (each program prints a digest of them).
    d1="$(tr ' ' '\n' <"$BENCH_TMP/memberlist-$n-$loss.out" | sed -n 's/^meta_digest=//p')"
    d2="$(tr ' ' '\n' <"$BENCH_TMP/proconsul-$n-$loss.out" | sed -n 's/^meta_digest=//p')"
    [[ -n "$d1" && "$d1" == "$d2" ]] || bench_die "the programs' member metas differ ($d1, $d2)"
    point=$((point + 1))
  done
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS"

# ---- the table -----------------------------------------------------------------------------
# Documented memberlist figures for the profile: the suspicion timeout bounds (config.go's
# SuspicionMult and SuspicionMaxTimeoutMult; suspicionTimeout() in util.go scales by
# max(1, log10(N))), and serf's convergence simulator's bandwidth estimate
# (website/source/assets/javascripts/_simulator.js, bytesUsed(): 1400-byte packets x fanout x
# rounds per second x 2, shown as bytes x 8 / 1024 "kilobits").
if [[ "$PROFILE" == lan ]]; then smult=4 smax=6 gnodes=3 gint=0.2; else smult=3 smax=6 gnodes=3 gint=0.1; fi
echo
echo "memberlist's documented figures ($PROFILE profile: SuspicionMult $smult, SuspicionMaxTimeoutMult $smax,"
echo " ProbeInterval 1 s, GossipNodes $gnodes, GossipInterval ${gint} s):"
for n in $MEMBERS; do
  awk -v n="$n" -v m="$smult" -v x="$smax" -v results="$RESULTS" 'BEGIN {
    s = log(n) / log(10); if (s < 1) s = 1
    printf "  %d members: suspicion timeout min %.1f s, max %.1f s (SuspicionMult x max(1, log10 N) x ProbeInterval; x %d)\n", n, m * s, m * s * x, x
    printf "documented members=%d suspicion_min_ms=%.0f suspicion_max_ms=%.0f\n", n, 1000 * m * s, 1000 * m * s * x >> results }'
done
awk -v g="$gnodes" -v i="$gint" -v results="$RESULTS" 'BEGIN {
  b = 1400 * g * (1 / i) * 2
  printf "  serf convergence simulator, max bandwidth per node: 1400 B x %d x %g/s x 2 = %d B/s (%.1f kbit/s as it shows it)\n", g, 1 / i, b, b * 8 / 1024
  printf "documented serf_simulator_bytes_per_s=%d\n", b >> results }'

echo
echo "failure detection and bandwidth, $STEADY_S s steady state, $KILLS kills (one at a time), members stay dead;"
echo " first/all = ms from the stop to the first / the last survivor declaring it dead (p50/p99 by nearest"
echo " rank); susp = suspicions of running members in the steady state (summed over members); false dead ="
echo " running members declared dead, whole run; bytes per member per second in the steady state, payload"
echo " only; conv = from the first join to every member seeing all alive (never: not within N probe"
echo " intervals + 60 s, and the run went on with the pool as it was); cpu = the program's, other ="
echo " the rest of the machine, % of one core; drop = UDP datagrams the rule dropped, % of all during the run;"
echo " ratio = Proconsul / memberlist)"
for n in $MEMBERS; do
  for loss in $LOSSES; do
    for impl in memberlist proconsul; do
      f="$BENCH_TMP/$impl-$n-$loss.out"
      kv() { tr ' ' '\n' <"$f" | sed -n "s/^$1=//p" | head -1; }
      echo "$impl $n $loss $(kv detect_first_p50_ms) $(kv detect_first_p99_ms) $(kv detect_all_p50_ms)" \
        "$(kv detect_all_p99_ms) $(kv undetected) $(kv steady_suspicions) $(kv false_dead_total)" \
        "$(kv udp_bytes_per_member_s) $(kv tcp_bytes_per_member_s) $(kv converge_ms) $(awk -v i="$impl" -v n="$n" -v l="$loss" '$1 == i && $2 == n && $3 == l { print $4, $5, $6 }' "$BENCH_TMP/runs.txt")"
    done
  done
done | awk -v results="$RESULTS" '
  function r(a, b) { return (b > 0 && a >= 0) ? sprintf("%.2fx", a / b) : "-" }
  { i = $1 == "memberlist" ? 0 : 1; for (c = 1; c <= NF; c++) v[i, c] = $c
    if (i == 0) next
    if (!header++) printf "%7s %5s %-10s %8s %8s %8s %8s %5s %5s %6s %9s %9s %6s %5s %5s %5s\n", "members", "loss%",
      "impl", "first p50", "p99", "all p50", "p99", "undet", "susp", "f.dead", "UDP B/s", "TCP B/s", "conv s", "cpu%", "other", "drop%"
    for (k = 0; k <= 1; k++) {
      # converge_ms -1: the pool never had every member see all alive (the program warned).
      conv = v[k, 13] < 0 ? "never" : sprintf("%.1f", v[k, 13] / 1000)
      printf "%7s %5s %-10s %8.0f %8.0f %8.0f %8.0f %5d %5d %6d %9.1f %9.1f %6s %5s %5s %5s\n", v[k, 2], v[k, 3], v[k, 1],
        v[k, 4], v[k, 5], v[k, 6], v[k, 7], v[k, 8], v[k, 9], v[k, 10], v[k, 11], v[k, 12], conv, v[k, 14],
        v[k, 15], v[k, 16]
      printf "point impl=%s members=%s loss_pct=%s detect_first_p50_ms=%s detect_first_p99_ms=%s detect_all_p50_ms=%s detect_all_p99_ms=%s undetected=%s steady_suspicions=%s false_dead_total=%s udp_bytes_per_member_s=%s tcp_bytes_per_member_s=%s converge_ms=%s cpu_pct=%s other_cpu_pct=%s udp_dropped_pct=%s\n",
        v[k, 1], v[k, 2], v[k, 3], v[k, 4], v[k, 5], v[k, 6], v[k, 7], v[k, 8], v[k, 9], v[k, 10], v[k, 11], v[k, 12],
        v[k, 13], v[k, 14], v[k, 15], v[k, 16] >> results
    }
    printf "%7s %5s %-10s %8s %8s %8s %8s %5s %5s %6s %9s %9s\n", "", "", "ratio", r(v[1, 4], v[0, 4]),
      r(v[1, 5], v[0, 5]), r(v[1, 6], v[0, 6]), r(v[1, 7], v[0, 7]), "", "", "", r(v[1, 11], v[0, 11]), r(v[1, 12], v[0, 12])
    printf "ratio members=%s loss_pct=%s detect_first_p50=%s detect_first_p99=%s detect_all_p50=%s detect_all_p99=%s udp_bytes=%s tcp_bytes=%s\n",
      v[1, 2], v[1, 3], r(v[1, 4], v[0, 4]), r(v[1, 5], v[0, 5]), r(v[1, 6], v[0, 6]), r(v[1, 7], v[0, 7]),
      r(v[1, 11], v[0, 11]), r(v[1, 12], v[0, 12]) >> results
  }'
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
