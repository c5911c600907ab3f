#!/usr/bin/env bash
# A 3-server Proconsul datacenter (`agent -server -bootstrap-expect 3`, Raft, a WAL fsynced on
# every commit) side by side in the same run with a 3-member etcd cluster (Debian's etcd 3.4,
# default fsync, heartbeat and election timeouts), all six on 127.0.0.1 with their data on
# the same disk. Both are driven by wrk over HTTP/1.1 keep-alive connections to their leader:
# KV writes (Proconsul PUT /v1/kv/bench/<n>; etcd's JSON gateway POST /v3/kv/put) and reads
# (Proconsul default mode and ?stale; etcd POST /v3/kv/range linearizable and serializable),
# 128-byte values over 10,000 keys, each point for etcd then Proconsul back to back. Then
# failover: TRIALS times per system, the leader is killed with SIGKILL and a client sends a
# write to each survivor every 20 ms until one is acknowledged; the killed member restarts
# from its data directory and the cluster must be whole again before the next trial.
#
#   bench/raft_etcd.sh                        # setup, build, about 6 minutes
#   BUILD=0 SETUP=0 WAIT_IDLE=600 bench/raft_etcd.sh
#   BUILD=0 SETUP=0 CONNS="64" DURATION=5s TRIALS=3 bench/raft_etcd.sh   # a quick one
#
# Environment: DURATION (10s per wrk run), WARMUP (2s before each, 0 to skip), CONNS
# ("16 64 256"), THREADS (2: wrk -t, never more than the connections), KEYS (10000),
# VALUE_BYTES (128), WRK_TIMEOUT (5s: a request unanswered this long is a socket error),
# LOADS ("put get stale"; "none": failover only), TRIALS (10 failovers per system; 0 skips), PROBE_INTERVAL_MS (20),
# RAFT_MULTIPLIER (1: Proconsul's performance.raft_multiplier, 1 s election timeout as
# etcd's default), BUILD (1; 0 uses the existing binary), BUILD_DIR (build-bench), BUILD_JOBS
# (2), PROCONSUL (agent binary), ETCD (etcd binary), SETUP (1; 0 skips scripts/setup --bench),
# WAIT_IDLE (0: seconds to wait for other work on the machine to stop), IDLE_MAX_PCT (25),
# PC_EXTRA_CONFIG (JSON members added to the servers' config, e.g. ', "log_level": "debug"';
# BENCH_KEEP_TMP=1 keeps their logs).
# Output: tables on stdout and key=value lines in bench/results/raft_etcd-<time>.txt.
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONNS="${CONNS:-16 64 256}"
THREADS="${THREADS:-2}"
KEYS="${KEYS:-10000}"
VALUE_BYTES="${VALUE_BYTES:-128}"
WRK_TIMEOUT="${WRK_TIMEOUT:-5s}"
LOADS="${LOADS:-put get stale}"
[[ "$LOADS" == none ]] && LOADS=""  # failover trials only
TRIALS="${TRIALS:-10}"
PROBE_INTERVAL_MS="${PROBE_INTERVAL_MS:-20}"
RAFT_MULTIPLIER="${RAFT_MULTIPLIER:-1}"
BUILD_DIR="${BUILD_DIR:-build-bench}"
RESULTS_DIR="$BENCH_ROOT/bench/results"
RESULTS="$RESULTS_DIR/raft_etcd-$(date +%Y%m%d-%H%M%S).txt"
LUA="$BENCH_ROOT/bench/wrk/raft_kv.lua"
CLUSTER_PY="$BENCH_ROOT/bench/raft/cluster.py"

if [[ "${SETUP:-1}" != 0 ]]; then "$BENCH_ROOT/scripts/setup" --bench; fi
ETCD="${ETCD:-$(command -v etcd || true)}"
[[ -n "$ETCD" && -x "$ETCD" ]] || bench_die "etcd not installed (scripts/setup --bench)"
command -v wrk >/dev/null || bench_die "wrk not installed (scripts/setup --bench)"

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

# ---- the two clusters ----------------------------------------------------------------------
# Members are numbered 0..2. PC_* are Proconsul's (server, LAN gossip, HTTP port, PID), ET_* etcd's
# (client port, peer port, PID). Every data directory is under BENCH_TMP, on the same disk.
PC_SERVER=() PC_LAN=() PC_HTTP=() PC_PID=() ET_CLIENT=() ET_PEER=() ET_PID=()
for i in 0 1 2; do
  PC_SERVER+=("$(bench_free_port)") PC_LAN+=("$(bench_free_port)") PC_HTTP+=("$(bench_free_port)")
  ET_CLIENT+=("$(bench_free_port)") ET_PEER+=("$(bench_free_port)")
done
export SERVER_PORTS="${PC_SERVER[*]}"
PC_CONFIG="$BENCH_TMP/proconsul.json"
echo "{\"performance\": {\"raft_multiplier\": $RAFT_MULTIPLIER}${PC_EXTRA_CONFIG:-}}" >"$PC_CONFIG"
ET_CLUSTER="e0=http://127.0.0.1:${ET_PEER[0]},e1=http://127.0.0.1:${ET_PEER[1]},e2=http://127.0.0.1:${ET_PEER[2]}"
PC_URLS=() ET_URLS=()
for i in 0 1 2; do
  PC_URLS+=("http://127.0.0.1:${PC_HTTP[i]}") ET_URLS+=("http://127.0.0.1:${ET_CLIENT[i]}")
  mkdir -p "$BENCH_TMP/s$i" "$BENCH_TMP/e$i"
done

# Forgets a PID once it has been reaped, so that cleanup never signals a reused PID.
forget_pid() {
  local pid="$1" kept=() p
  for p in "${BENCH_PIDS[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
  BENCH_PIDS=("${kept[@]}")
}

# Starts Proconsul server i (again, after a kill: same data directory, log appended).
start_proconsul() {
  local i="$1" args=() j
  # Servers find each other in the LAN gossip pool: -retry-join names LAN gossip ports.
  for j in 0 1 2; do [[ $j == "$i" ]] || args+=(-retry-join "127.0.0.1:${PC_LAN[j]}"); done
  "$PROCONSUL" agent -server -bootstrap-expect 3 -data-dir "$BENCH_TMP/s$i" -node "s$i" \
    -bind 127.0.0.1 -http-port "${PC_HTTP[i]}" -dns-port -1 -server-port "${PC_SERVER[i]}" \
    -serf-lan-port "${PC_LAN[i]}" -serf-wan-port 0 -retry-interval 1s "${args[@]}" -config-file "$PC_CONFIG" \
    >>"$BENCH_TMP/s$i.log" 2>&1 &
  PC_PID[i]=$!
  BENCH_PIDS+=("${PC_PID[i]}")
}

# Starts etcd member i; on a restart its data directory makes it rejoin (the --initial-*
# flags are then ignored, as etcd documents).
start_etcd() {
  local i="$1" state="${2:-new}"
  "$ETCD" --name "e$i" --data-dir "$BENCH_TMP/e$i" \
    --listen-client-urls "http://127.0.0.1:${ET_CLIENT[i]}" \
    --advertise-client-urls "http://127.0.0.1:${ET_CLIENT[i]}" \
    --listen-peer-urls "http://127.0.0.1:${ET_PEER[i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ET_PEER[i]}" \
    --initial-cluster "$ET_CLUSTER" --initial-cluster-state "$state" \
    --initial-cluster-token "bench-$$" >>"$BENCH_TMP/e$i.log" 2>&1 &
  ET_PID[i]=$!
  BENCH_PIDS+=("${ET_PID[i]}")
}

# ready SYSTEM TIMEOUT: the leader's index once every member agrees on it and a write through
# every member is acknowledged and read back through every member.
ready() {
  local system="$1" urls
  if [[ "$system" == proconsul ]]; then urls=("${PC_URLS[@]}"); else urls=("${ET_URLS[@]}"); fi
  python3 "$CLUSTER_PY" ready "$system" "$2" "${urls[@]}"
}

leader_now() {
  local system="$1" urls
  if [[ "$system" == proconsul ]]; then urls=("${PC_URLS[@]}"); else urls=("${ET_URLS[@]}"); fi
  python3 "$CLUSTER_PY" leader "$system" "${urls[@]}" 2>/dev/null || echo -1
}

dump_logs() {
  local f
  for f in "$BENCH_TMP"/s?.log "$BENCH_TMP"/e?.log; do
    echo "---- ${f##*/} (last 20 lines)" >&2
    tail -20 "$f" >&2
  done
}

for i in 0 1 2; do start_proconsul "$i"; start_etcd "$i"; done
PC_LEADER="$(ready proconsul 60)" || { dump_logs; bench_die "the Proconsul servers did not form a cluster"; }
ET_LEADER="$(ready etcd 60)" || { dump_logs; bench_die "the etcd members did not form a cluster"; }
bench_log "proconsul: pids ${PC_PID[*]}, HTTP ${PC_HTTP[*]}, server ${PC_SERVER[*]}; leader s$PC_LEADER"
bench_log "etcd: pids ${ET_PID[*]}, client ${ET_CLIENT[*]}, peer ${ET_PEER[*]}; leader e$ET_LEADER"

# Every key exists before the loads (the reads then find a value every time).
for system in etcd proconsul; do
  if [[ "$system" == proconsul ]]; then url="${PC_URLS[PC_LEADER]}"; else url="${ET_URLS[ET_LEADER]}"; fi
  rate="$(python3 "$CLUSTER_PY" fill "$system" "$url" "$KEYS" "$VALUE_BYTES")" ||
    { dump_logs; bench_die "filling $system failed"; }
  count="$(python3 "$CLUSTER_PY" count "$system" "$url")"
  [[ "$count" == "$KEYS" ]] || bench_die "$system holds $count keys under bench/, want $KEYS"
  bench_log "$system: $KEYS keys of $VALUE_BYTES bytes written ($rate/s from 32 Python threads)"
done

# ---- load ----------------------------------------------------------------------------------
# CPU seconds of the three members of a system together.
members_cpu() {
  local total=0 pid pids
  if [[ "$1" == proconsul ]]; then pids=("${PC_PID[@]}"); else pids=("${ET_PID[@]}"); fi
  for pid in "${pids[@]}"; do
    total="$(awk -v t="$total" -v c="$(bench_cpu_seconds "$pid" 2>/dev/null || echo 0)" 'BEGIN { print t + c }')"
  done
  echo "$total"
}

# run_load SYSTEM KIND CONNS: one wrk run against the system's leader; appends a row
# "system kind conns rps p50 p99 errors members_cpu leader_cpu wrk_cpu other leader_changed".
run_load() {
  local system="$1" kind="$2" conns="$3" leader url pid
  if [[ "$system" == proconsul ]]; then
    leader="$PC_LEADER" url="${PC_URLS[PC_LEADER]}" pid="${PC_PID[PC_LEADER]}"
  else
    leader="$ET_LEADER" url="${ET_URLS[ET_LEADER]}" pid="${ET_PID[ET_LEADER]}"
  fi
  local threads=$((conns < THREADS ? conns : THREADS))
  local out="$BENCH_TMP/wrk-$system-$kind-c$conns.txt"
  export RAFT_KV_MODE="$system-$kind" RAFT_KV_KEYS="$KEYS" RAFT_KV_VALUE_BYTES="$VALUE_BYTES"
  if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
    wrk -t"$threads" -c"$conns" -d"$WARMUP" --timeout "$WRK_TIMEOUT" -s "$LUA" "$url" >/dev/null 2>&1 || true
  fi
  local m0 m1 all0 all1 l0 l1 t0 t1 times
  m0="$(bench_machine_jiffies)"
  all0="$(members_cpu "$system")"
  l0="$(bench_cpu_seconds "$pid")"
  t0="$(date +%s.%N)"
  local TIMEFORMAT='%U %S'
  times="$( { time wrk -t"$threads" -c"$conns" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency \
              -s "$LUA" "$url" >"$out" 2>&1; } 2>&1 )" || { dump_logs; bench_die "wrk failed: $(cat "$out")"; }
  t1="$(date +%s.%N)"
  l1="$(bench_cpu_seconds "$pid")"
  all1="$(members_cpu "$system")"
  m1="$(bench_machine_jiffies)"
  kill -0 "$pid" 2>/dev/null || { dump_logs; bench_die "the $system leader died under load"; }
  local now changed=0
  now="$(leader_now "$system")"
  [[ "$now" == "$leader" ]] || changed=1
  local rps p50 p99 non2xx sockerr
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
  [[ -n "$rps" ]] || bench_die "no Requests/sec in wrk output: $(cat "$out")"
  p50="$(bench_to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
  p99="$(bench_to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
  sockerr="$(awk -F'[ ,]+' '/Socket errors:/ { print $4 + $6 + $8 + $10 }' "$out")"
  local errors=$(( ${non2xx:-0} + ${sockerr:-0} ))
  local cpus
  cpus="$(awk -v t0="$t0" -v t1="$t1" -v a0="$all0" -v a1="$all1" -v l0="$l0" -v l1="$l1" \
    -v t="$times" -v m0="$m0" -v m1="$m1" -v n="$(nproc)" 'BEGIN {
      w = t1 - t0; split(t, x, " "); split(m0, p, " "); split(m1, q, " ")
      all = 100 * (a1 - a0) / w; lead = 100 * (l1 - l0) / w; wrk = 100 * (x[1] + x[2]) / w
      busy = 100 * n * (q[1] - p[1]) / (q[2] - p[2]); o = busy - all - wrk
      printf "%.0f %.0f %.0f %.0f", all, lead, wrk, o < 0 ? 0 : o }')"
  echo "$system $kind $conns $rps $p50 $p99 $errors $cpus $changed" >>"$BENCH_TMP/rows.txt"
  bench_log "$system $kind c=$conns: $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $errors" \
    "$( ((changed)) && echo "(LEADER CHANGED: now $now)")"
  if ((changed)); then
    if [[ "$system" == proconsul ]]; then PC_LEADER="$(ready proconsul 60)"; else ET_LEADER="$(ready etcd 60)"; fi
  fi
}

bench_check_idle
: >"$BENCH_TMP/rows.txt"
for c in $CONNS; do
  for kind in $LOADS; do
    run_load etcd "$kind" "$c"
    run_load proconsul "$kind" "$c"
  done
done

# ---- failover ------------------------------------------------------------------------------
# trial SYSTEM N: kills the leader, times the first acknowledged write through a survivor,
# restarts the killed member and waits for the whole cluster (a write through each member
# read back through each). Appends "system n ms killed acked_by recover_ms new_leader leader_ms".
trial() {
  local system="$1" n="$2" leader pid urls=() i survivors=() idx=()
  if [[ "$system" == proconsul ]]; then
    leader="$PC_LEADER" pid="${PC_PID[PC_LEADER]}" urls=("${PC_URLS[@]}")
  else
    leader="$ET_LEADER" pid="${ET_PID[ET_LEADER]}" urls=("${ET_URLS[@]}")
  fi
  for i in 0 1 2; do [[ $i == "$leader" ]] || { survivors+=("${urls[i]}"); idx+=("$i"); }; done
  local line rc=0
  line="$(python3 "$CLUSTER_PY" failover "$system" "$pid" "$PROBE_INTERVAL_MS" 30 "${survivors[@]}")" || rc=$?
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
  ((rc == 0)) || { dump_logs; bench_die "$system trial $n: no write acknowledged within 30 s ($line)"; }
  local ms acked leader_ms
  ms="$(sed -n 's/^ms=\([^ ]*\).*/\1/p' <<<"$line")"
  leader_ms="$(sed -n 's/.* leader_ms=\([^ ]*\).*/\1/p' <<<"$line")"
  acked="${idx[$(sed -n 's/.* acked_by=\([0-9]\).*/\1/p' <<<"$line")]}"
  echo "$system trial=$n killed=$leader $line" >>"$BENCH_TMP/failover-detail.txt"
  local t0 t1 new
  t0="$(date +%s%N)"
  if [[ "$system" == proconsul ]]; then start_proconsul "$leader"; else start_etcd "$leader" existing; fi
  new="$(ready "$system" 60)" || { dump_logs; bench_die "$system trial $n: the cluster is not whole 60 s after restarting member $leader"; }
  t1="$(date +%s%N)"
  if [[ "$system" == proconsul ]]; then PC_LEADER="$new"; else ET_LEADER="$new"; fi
  local recover_ms=$(( (t1 - t0) / 1000000 ))
  echo "$system $n $ms $leader $acked $recover_ms $new $leader_ms" >>"$BENCH_TMP/failover.txt"
  bench_log "$system trial $n: killed member $leader, new leader named after $leader_ms ms, first" \
    "write acknowledged after $ms ms (by member $acked); restarted and whole again after" \
    "$recover_ms ms, leader $new"
}

: >"$BENCH_TMP/failover.txt"
: >"$BENCH_TMP/failover-detail.txt"
for n in $(seq "$TRIALS"); do
  # Alternate which system goes first, so neither always follows the other's restart.
  if ((n % 2)); then trial etcd "$n"; trial proconsul "$n"; else trial proconsul "$n"; trial etcd "$n"; fi
done

# ---- results -------------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
{
  echo "# bench/raft_etcd.sh $(date -Iseconds) duration=$DURATION warmup=$WARMUP threads=$THREADS keys=$KEYS value_bytes=$VALUE_BYTES wrk_timeout=$WRK_TIMEOUT trials=$TRIALS probe_interval_ms=$PROBE_INTERVAL_MS raft_multiplier=$RAFT_MULTIPLIER"
  bench_host_line
  echo "# disk: data dirs on $(findmnt -n -o FSTYPE,SOURCE -T "$BENCH_TMP" | tr -s ' ') (the same for both systems)"
  echo "# proconsul: $(sed -n "s/.*Version: '\\(.*\\)'.*/\\1/p" "$BENCH_TMP/s0.log" | head -1), binary ${PROCONSUL#"$BENCH_ROOT"/}, HEAD $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || true) (the binary may predate uncommitted changes)"
  echo "# etcd: $("$ETCD" --version 2>/dev/null | head -1 | sed 's/etcd Version: //'), $("$ETCD" --version 2>/dev/null | sed -n 's/Go Version: //p'); wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  echo "# machine busy before the loads: $BENCH_BUSY_PCT% of one core; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RESULTS"

echo
echo "load (wrk -t$THREADS, $DURATION after $WARMUP of warm-up, to the leader; cpu in % of one core, $(nproc) cores:"
echo " cluster = the 3 members, leader = the leader alone, wrk, other = everything else)"
awk -v results="$RESULTS" '
  { sys[NR] = $1; kind[NR] = $2; conns[NR] = $3; rps[NR] = $4; p50[NR] = $5; p99[NR] = $6
    err[NR] = $7; call[NR] = $8; clead[NR] = $9; cwrk[NR] = $10; coth[NR] = $11; chg[NR] = $12
    if ($1 == "etcd") { erps[$2 "/" $3] = $4; ep99[$2 "/" $3] = $6 } }
  END {
    printf "%-9s %-6s %5s %9s %8s %8s %6s %9s %9s %7s %6s %5s %5s %s\n", "system", "load", "conns",
      "req/s", "p50 ms", "p99 ms", "errors", "vs etcd", "p99 ratio", "cluster", "leader", "wrk",
      "other", "target"
    for (i = 1; i <= NR; i++) {
      ratio = "-"; pr = "-"; target = ""
      k = kind[i] "/" conns[i]
      if (sys[i] == "proconsul" && erps[k] > 0) {
        ratio = sprintf("%.2fx", rps[i] / erps[k]); pr = sprintf("%.2fx", p99[i] / ep99[k])
        if (kind[i] == "put")
          target = (rps[i] >= 2 * erps[k] && p99[i] <= ep99[k]) ? "met (>=2x, p99 <= etcd)" : "MISSED (>=2x at p99 <= etcd)"
      }
      if (chg[i]) target = target " LEADER CHANGED"
      printf "%-9s %-6s %5s %9.0f %8.2f %8.2f %6d %9s %9s %6s%% %5s%% %4s%% %4s%% %s\n", sys[i], kind[i],
        conns[i], rps[i], p50[i], p99[i], err[i], ratio, pr, call[i], clead[i], cwrk[i], coth[i], target
      printf "load system=%s kind=%s conns=%s rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d ratio=%s p99_ratio=%s cluster_cpu_pct=%s leader_cpu_pct=%s wrk_cpu_pct=%s other_cpu_pct=%s leader_changed=%s\n",
        sys[i], kind[i], conns[i], rps[i], p50[i], p99[i], err[i], ratio, pr, call[i], clead[i],
        cwrk[i], coth[i], chg[i] >> results
    }
  }' "$BENCH_TMP/rows.txt"
echo "(put: Proconsul PUT /v1/kv vs etcd POST /v3/kv/put; get: Proconsul default mode vs etcd"
echo " linearizable range; stale: Proconsul ?stale vs etcd serializable range; ratios Proconsul/etcd)"

if ((TRIALS > 0)); then
  echo
  echo "failover ($TRIALS trials each: SIGKILL the leader, a write to each survivor every ${PROBE_INTERVAL_MS} ms;"
  echo " ms from the kill to the first acknowledged write; leader named = a survivor first names a"
  echo " new leader; recovery = restart to a whole cluster)"
  cat "$BENCH_TMP/failover-detail.txt" >>"$RESULTS"
  awk -v results="$RESULTS" '
    function pct(list, p,   n, a, i, j, t, r) {
      n = split(list, a, " ")
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      r = int(p * n / 100 + 0.999999); if (r < 1) r = 1; if (r > n) r = n
      return a[r]
    }
    { ms[$1] = ms[$1] " " $3; rec[$1] = rec[$1] " " $6; lms[$1] = lms[$1] " " $8; cnt[$1]++
      printf "failover system=%s trial=%s ms=%s leader_ms=%s killed=%s acked_by=%s recover_ms=%s new_leader=%s\n", $1, $2, $3, $8, $4, $5, $6, $7 >> results }
    END {
      printf "%-9s %6s %8s %8s %8s %8s   %-22s %s\n", "system", "trials", "p50 ms", "p99 ms", "max ms", "min ms",
        "leader named p50/max", "recovery p50/max ms"
      for (s in cnt) {
        printf "%-9s %6d %8.0f %8.0f %8.0f %8.0f   %-22s %.0f/%.0f\n", s, cnt[s], pct(ms[s], 50), pct(ms[s], 99),
          pct(ms[s], 100), pct(ms[s], 1), sprintf("%.0f/%.0f", pct(lms[s], 50), pct(lms[s], 100)),
          pct(rec[s], 50), pct(rec[s], 100)
        printf "failover_summary system=%s trials=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f min_ms=%.1f leader_named_p50_ms=%.1f leader_named_max_ms=%.1f recover_p50_ms=%.0f recover_max_ms=%.0f all_ms=%s\n",
          s, cnt[s], pct(ms[s], 50), pct(ms[s], 99), pct(ms[s], 100), pct(ms[s], 1), pct(lms[s], 50),
          pct(lms[s], 100), pct(rec[s], 50), pct(rec[s], 100), ms[s] >> results
        p99[s] = pct(ms[s], 99)
      }
      if ("proconsul" in p99)
        printf "target (a new leader within 1 s at p99): %s (Proconsul p99 %.0f ms%s)\n",
          p99["proconsul"] <= 1000 ? "met" : "MISSED", p99["proconsul"],
          ("etcd" in p99) ? sprintf(", etcd %.0f ms", p99["etcd"]) : ""
    }' "$BENCH_TMP/failover.txt"
fi
bench_log "summary written to ${RESULTS#"$BENCH_ROOT/"}"
