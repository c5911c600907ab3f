"""One fault-bed run: a datacenter in namespaces, a client workload, a seeded nemesis, checks.

run_seed(seed, options) builds the network (netbed.Network), starts a relay and a server in
each server namespace and clientd in the client namespace, waits for a leader, starts the
workload, applies the nemesis schedule drawn from random.Random(seed), heals everything,
lets the workload run on a healthy cluster for a moment, stops it, and then checks:
- the cluster elects a leader that every server agrees on;
- no acknowledged write is lost (final ?consistent read of each key + the history);
- every server converges to the same KV contents (?stale read on each);
- two sessions never held a lock at once;
- proconsul-lincheck accepts the history (linearizable);
- servers restarted after kill -9 or a torn WAL tail came back; no server died on its own.
Whatever happens, the finally block stops every process it started (by pid) and deletes every
namespace of the run, then checks that none is left.

The schedule (kinds, targets, durations, gaps) is a pure function of the seed. What it meets
is not: which server leads when "the leader" is chosen, and the timing of the workload, so a
replay repeats the same faults, not the same interleaving.
"""

import base64
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import checks
import netbed
from procs import ClientLink, Relay, Server

FAULT_KINDS = ("partition-halves", "partition-leader", "partition-bridge", "kill", "pause",
               "latency", "loss", "wal-tail", "partition-kill")
KEYS = ("fk/k0", "fk/k1", "fk/k2", "fk/k3")
LOCK_KEYS = ("fl/l0", "fl/l1")
LEADER_WAIT_S = 45.0
READY_WAIT_S = 40.0
CONVERGE_WAIT_S = 40.0
SETTLE_S = 3.0
LINCHECK_TIMEOUT_S = 300


class Failure(Exception):
    """A finding: the run continues to teardown and reports it."""


class Options:
    def __init__(self, servers=3, duration_s=20.0, workers=5, kinds=FAULT_KINDS,
                 read_modes=("default", "consistent", "stale"),
                 binary=None, lincheck=None, keep=False, mid_corruption=False,
                 workroot=None, timeout_s=None, relay=True, log=print):
        self.servers = servers
        self.duration_s = duration_s
        self.workers = workers
        self.kinds = tuple(kinds)
        self.read_modes = list(read_modes)
        self.binary = binary
        self.lincheck = lincheck
        self.keep = keep
        self.mid_corruption = mid_corruption
        self.workroot = workroot
        self.relay = relay
        if not relay:  # latency and loss live in the relays
            self.kinds = tuple(k for k in self.kinds if k not in ("latency", "loss"))
        self.timeout_s = timeout_s or (duration_s + 240)
        self.log = log


# --- the schedule ----------------------------------------------------------------------

def plan(seed, duration_s, servers, kinds):
    """The nemesis schedule of a seed: [{gap_s, kind, hold_s, ...}] within duration_s."""
    rng = random.Random(seed)
    steps, t = [], 0.0
    while True:
        step = {"gap_s": round(rng.uniform(0.5, 2.5), 2), "kind": rng.choice(kinds),
                "hold_s": round(rng.uniform(2.0, 6.0), 2),
                "perm": rng.sample(range(servers), servers),
                "target": rng.choice(["leader", "random"]),
                "delay_ms": rng.choice([5, 20, 50, 150]),
                "jitter_ms": rng.choice([0, 10, 50]),
                "stall_p": round(rng.uniform(0.02, 0.2), 3),
                "stall_ms": rng.choice([200, 300, 500]),
                "reset_p": rng.choice([0.0, 0.002, 0.01]),
                "scope": rng.choice(["one", "all"]),
                "damage": rng.choice(["garbage", "zeros", "half-frame", "bad-crc"]),
                "damage_bytes": rng.randint(1, 300)}
        if t + step["gap_s"] + step["hold_s"] > duration_s:
            break
        t += step["gap_s"] + step["hold_s"]
        steps.append(step)
    return steps


# --- WAL damage (a server must be down) ------------------------------------------------

def wal_segments(data_dir):
    wal_dir = os.path.join(data_dir, "raft", "wal")
    if not os.path.isdir(wal_dir):
        return []
    return sorted(os.path.join(wal_dir, f) for f in os.listdir(wal_dir) if f.endswith(".wal"))


def wal_frames(path):
    """[(offset, length)] of the frames in a segment: crc u32, len u32, type u8, payload.

    A segment is preallocated: its unused end is zeros, where no frame starts (type 0)."""
    with open(path, "rb") as f:
        data = f.read()
    frames, pos = [], 0
    while pos + 9 <= len(data) and data[pos:pos + 9] != bytes(9):
        length = int.from_bytes(data[pos + 4:pos + 8], "little")
        if pos + 9 + length > len(data):
            break
        frames.append((pos, 9 + length))
        pos += 9 + length
    return frames


def damage_wal_tail(data_dir, how, nbytes, rng):
    """Writes what an interrupted, never-synced append leaves behind after the last record of
    the newest segment (over the zeros of its preallocated end, or past the end of the file).

    Only bytes after the last complete record are touched: truncating a record that was
    fdatasynced would be a lost write, which Raft does not tolerate and which would make a
    correct server look wrong. Returns a description, or None when there is no WAL yet.
    """
    segments = wal_segments(data_dir)
    if not segments:
        return None
    path = segments[-1]
    if how == "garbage":
        tail = bytes(rng.randrange(256) for _ in range(nbytes))
    elif how == "zeros":
        tail = bytes(nbytes)
    elif how == "half-frame":
        # A frame header promising more payload than follows: a write cut short.
        length = nbytes + 64
        tail = rng.randrange(1 << 32).to_bytes(4, "little") + length.to_bytes(4, "little") + \
            bytes([2]) + bytes(rng.randrange(256) for _ in range(nbytes))
    else:  # bad-crc: a complete entry frame whose checksum does not match
        payload = (1).to_bytes(8, "little") + (1 << 40).to_bytes(8, "little") + bytes([0]) + \
            bytes(nbytes)
        tail = (0xDEADBEEF).to_bytes(4, "little") + len(payload).to_bytes(4, "little") + \
            bytes([2]) + payload
    frames = wal_frames(path)
    end = frames[-1][0] + frames[-1][1] if frames else 0
    with open(path, "r+b") as f:
        f.seek(end)
        f.write(tail)
    return f"{os.path.basename(path)} +{len(tail)} bytes at {end} ({how})"


def corrupt_wal_middle(data_dir):
    """Flips one payload byte of a record that has good records after it; None if none."""
    for path in reversed(wal_segments(data_dir)):
        frames = wal_frames(path)
        if len(frames) >= 3:
            offset, length = frames[1]
            target = offset + 9 + (length - 9) // 2 if length > 9 else offset + 8
            with open(path, "r+b") as f:
                f.seek(target)
                byte = f.read(1)
                f.seek(target)
                f.write(bytes([byte[0] ^ 0x5A]))
            return f"{os.path.basename(path)} byte {target} of record 2"
    return None


# --- the run ---------------------------------------------------------------------------

class Bed:
    def __init__(self, seed, opts):
        self.seed = seed
        self.opts = opts
        self.log = opts.log
        self.net = netbed.Network(opts.servers, relay=opts.relay)
        self.workdir = None
        self.servers = []
        self.relays = []
        self.client = None
        self.faults = collections.Counter()
        self.findings = []
        self.notes = []
        self.rng = random.Random(seed ^ 0x5EED)

    # --- probes through the client namespace ------------------------------------------

    def leader_seen_by(self, server):
        reply = self.client.http(server.ip, "GET", "/v1/status/leader", timeout=2.0)
        if reply.get("status") != 200:
            return None
        try:
            return json.loads(reply["body"]) or None
        except ValueError:
            return None

    def up_servers(self):
        return [s for s in self.servers if s.alive() and not s.paused]

    def current_leader(self):
        """The server every reachable server names as leader, or None."""
        seen = [self.leader_seen_by(s) for s in self.up_servers()]
        if seen and seen[0] and all(x == seen[0] for x in seen):
            ip = seen[0].rsplit(":", 1)[0]
            return next((s for s in self.servers if s.ip == ip), None)
        return None

    def wait_leader(self, timeout_s=LEADER_WAIT_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            leader = self.current_leader()
            if leader is not None and leader.alive() and not leader.paused:
                return leader
            time.sleep(0.3)
        seen = {}
        for s in self.up_servers():
            reply = self.client.http(s.ip, "GET", "/v1/status/leader", timeout=5.0)
            seen[s.name] = (f"{reply['status']} {reply['body'][:80]!r}" if "status" in reply
                            else f"error {reply.get('error')}")
        self.dump_sockets("no-leader")
        self.dump_raft_views("no-leader")
        raise Failure(f"no leader agreed by all servers within {timeout_s}s: {seen} "
                      f"(sockets: {self.workdir}/sockets-no-leader.txt)")

    def dump_raft_views(self, tag):
        """Saves each server's /v1/status/peers and /v1/operator/raft/configuration."""
        path = os.path.join(self.workdir, f"raft-{tag}.txt")
        with open(path, "w", encoding="utf-8") as out:
            for server in self.up_servers():
                for what in ("/v1/status/leader", "/v1/status/peers",
                             "/v1/operator/raft/configuration?stale"):
                    reply = self.client.http(server.ip, "GET", what, timeout=5.0)
                    out.write(f"=== {server.name} {what}: {reply.get('status')} "
                              f"{reply.get('body', reply.get('error'))}\n")

    def dump_sockets(self, tag):
        """Saves every server namespace's TCP sockets (ss -tnpi) for a post-mortem."""
        path = os.path.join(self.workdir, f"sockets-{tag}.txt")
        with open(path, "w", encoding="utf-8") as out:
            for server in self.servers:
                out.write(f"=== {server.name} {server.ip} ===\n")
                out.write(netbed.sh(self.net.exec_prefix(server.ns) + ["ss", "-tnpi"],
                                    check=False))

    # --- nemesis ----------------------------------------------------------------------

    def pick(self, step):
        if step["target"] == "leader":
            leader = self.current_leader()
            if leader is not None:
                return leader
        return self.servers[step["perm"][0]]

    def event(self, what, **fields):
        """Appends to nemesis.jsonl: t on the history's clock (CLOCK_MONOTONIC, the same in
        every namespace), wall on the servers' log clock."""
        with open(os.path.join(self.workdir, "nemesis.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps({"t": time.monotonic_ns(), "wall": round(time.time(), 3),
                                "event": what, **fields}) + "\n")

    def check_all_running(self):
        """Between faults every server must be running: a crash must not be hidden by the
        next fault's restart."""
        for server in self.servers:
            if server.proc.poll() is not None:
                raise Failure(f"{server.name} exited on its own (status "
                              f"{server.proc.returncode}):\n{server.log_tail()}")

    def apply(self, step):
        """Applies one fault, holds it for hold_s, and heals it."""
        self.check_all_running()
        leader = self.current_leader()
        self.event("start", kind=step["kind"], leader=leader.name if leader else None)
        try:
            self._apply(step)
        finally:
            self.event("healed", kind=step["kind"])

    def _apply(self, step):
        kind, hold, n = step["kind"], step["hold_s"], len(self.servers)
        perm = step["perm"]
        desc = kind
        if kind == "partition-halves":
            minority = perm[:(n - 1) // 2]
            majority = perm[(n - 1) // 2:]
            self.net.set_cuts([(a, b) for a in minority for b in majority])
            desc += f" {sorted(minority)}|{sorted(majority)}"
            time.sleep(hold)
            self.net.heal()
        elif kind == "partition-leader":
            victim = self.pick(dict(step, target="leader"))
            self.net.set_cuts([(victim.i, j) for j in range(n) if j != victim.i])
            desc += f" {victim.name}"
            time.sleep(hold)
            self.net.heal()
        elif kind == "partition-bridge":
            bridge, rest = perm[0], perm[1:]
            left, right = rest[:len(rest) // 2], rest[len(rest) // 2:]
            self.net.set_cuts([(a, b) for a in left for b in right])
            desc += f" bridge s{bridge + 1} between {left}|{right}"
            time.sleep(hold)
            self.net.heal()
        elif kind in ("kill", "wal-tail"):
            victim = self.pick(step)
            victim.kill9()
            desc += f" {victim.name}"
            time.sleep(hold)
            if kind == "wal-tail":
                what = damage_wal_tail(victim.data_dir, step["damage"], step["damage_bytes"],
                                       self.rng)
                desc += f" [{what}]"
            victim.start()
            if not victim.wait_ready(READY_WAIT_S):
                raise Failure(f"{victim.name} did not come back after {desc}:\n"
                              f"{victim.log_tail()}")
            # Zeros after the last record are what a preallocated segment's unused end
            # holds anyway: nothing to cut, so no warning is expected for them.
            if kind == "wal-tail" and step["damage"] != "zeros" and \
                    "torn tail" not in victim.log_since_start():
                self.notes.append(f"{victim.name}: no 'torn tail' warning after {desc}")
        elif kind == "partition-kill":
            # Two faults at once: a majority/minority split, and halfway through it the
            # leader (or a random server) is killed and restarted while still cut off.
            minority = perm[:(n - 1) // 2]
            majority = perm[(n - 1) // 2:]
            self.net.set_cuts([(a, b) for a in minority for b in majority])
            time.sleep(hold / 2)
            victim = self.pick(step)
            victim.kill9()
            time.sleep(hold / 4)
            victim.start()
            if not victim.wait_ready(READY_WAIT_S):
                raise Failure(f"{victim.name} did not come back after {desc}:\n"
                              f"{victim.log_tail()}")
            time.sleep(hold / 4)
            self.net.heal()
            desc += f" {sorted(minority)}|{sorted(majority)} + kill {victim.name}"
        elif kind == "pause":
            victim = self.pick(step)
            victim.pause()
            desc += f" {victim.name}"
            time.sleep(hold)
            victim.resume()
        elif kind in ("latency", "loss"):
            if kind == "latency":
                rule = {"delay_ms": step["delay_ms"], "jitter_ms": step["jitter_ms"]}
            else:
                rule = {"stall_p": step["stall_p"], "stall_ms": step["stall_ms"],
                        "reset_p": step["reset_p"]}
            if step["scope"] == "all":
                for relay in self.relays:
                    relay.set_rules({"*": rule})
                desc += f" all {rule}"
            else:
                victim = self.pick(step)
                for i, relay in enumerate(self.relays):
                    relay.set_rules({"*": rule} if i == victim.i else {victim.ip: rule})
                desc += f" {victim.name} {rule}"
            time.sleep(hold)
            for relay in self.relays:
                relay.set_rules({})
        self.faults[kind] += 1
        self.event("summary", kind=kind, desc=desc)
        self.log(f"  [seed {self.seed}] {desc} for {hold}s")

    def heal_all(self):
        self.net.heal()
        self.relay_stats = [relay.set_rules({}) for relay in self.relays]
        for server in self.servers:
            if server.paused:
                server.resume()
            if not server.alive():
                server.start()
                if not server.wait_ready(READY_WAIT_S):
                    raise Failure(f"{server.name} did not start when healing:\n"
                                  f"{server.log_tail()}")

    # --- final state ------------------------------------------------------------------

    def read_consistent(self, key):
        deadline = time.monotonic() + CONVERGE_WAIT_S
        last = None
        while time.monotonic() < deadline:
            for server in self.servers:
                reply = self.client.http(server.ip, "GET", f"/v1/kv/{key}?consistent",
                                         timeout=5.0)
                last = reply
                if reply.get("status") == 404:
                    return None
                if reply.get("status") == 200:
                    raw = json.loads(reply["body"])[0].get("Value")
                    return None if raw is None else base64.b64decode(raw).decode()
            time.sleep(0.3)
        raise Failure(f"final ?consistent read of {key} failed: {last}")

    def stale_contents(self, server):
        reply = self.client.http(server.ip, "GET", "/v1/kv/fk/?recurse&stale", timeout=5.0)
        if reply.get("status") == 404:
            return {}
        if reply.get("status") != 200:
            return None
        return {e["Key"]: (None if e.get("Value") is None
                           else base64.b64decode(e["Value"]).decode())
                for e in json.loads(reply["body"])}

    def check_convergence(self, final):
        want = {k: v for k, v in final.items() if v is not None}
        deadline = time.monotonic() + CONVERGE_WAIT_S
        seen = {}
        while time.monotonic() < deadline:
            seen = {s.name: self.stale_contents(s) for s in self.servers}
            if all(contents == want for contents in seen.values()):
                return
            time.sleep(0.3)
        raise Failure(f"servers did not converge to {want}: {seen}")

    def run_lincheck(self, history_path):
        tool = self.opts.lincheck
        if not tool or not os.access(tool, os.X_OK):
            return "absent", (f"linearizability checker not found (PROCONSUL_LINCHECK="
                              f"{tool!r}); build the proconsul-lincheck target and set "
                              f"PROCONSUL_LINCHECK")
        try:
            proc = subprocess.run([tool, history_path], capture_output=True, text=True,
                                  timeout=LINCHECK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return "timeout", f"{tool} ran over {LINCHECK_TIMEOUT_S}s"
        verdict = {0: "linearizable", 1: "violation", 2: "bad-input",
                   3: "checker-timeout"}.get(proc.returncode, f"exit {proc.returncode}")
        output = proc.stdout + proc.stderr
        return verdict, _without_stale_details(output)[-6000:]

    # --- the whole run ----------------------------------------------------------------

    def run(self):
        opts = self.opts
        started = time.monotonic()
        result = {"seed": self.seed, "rid": self.net.rid, "ok": False, "ops": 0,
                  "faults": {}, "violations": [], "lost_writes": 0, "lincheck": None,
                  "notes": self.notes}
        self.workdir = tempfile.mkdtemp(prefix=f"pcf-{self.net.rid}-", dir=opts.workroot)
        result["workdir"] = self.workdir
        history = os.path.join(self.workdir, "history.jsonl")
        locks = os.path.join(self.workdir, "locks.jsonl")
        leftovers = None
        old_alarm = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(int(opts.timeout_s))
        try:
            self.net.create()
            config = os.path.join(self.workdir, "server.json")
            with open(config, "w", encoding="utf-8") as f:
                json.dump({"performance": {"raft_multiplier": 1},
                           "raft_snapshot_threshold": 256, "raft_trailing_logs": 64}, f)
            self.relays = [Relay(self.net, i, self.workdir, self.seed * 31 + i)
                           for i in range(opts.servers)] if opts.relay else []
            self.client = ClientLink(self.net, self.workdir)
            self.servers = [Server(i, self.net, opts.binary, self.workdir, config,
                                   [ip for j, ip in enumerate(self.net.server_ip) if j != i])
                            for i in range(opts.servers)]
            for server in self.servers:
                server.start()
            for server in self.servers:
                if not server.wait_ready(READY_WAIT_S):
                    raise Failure(f"{server.name} did not start:\n{server.log_tail()}")
            self.wait_leader()
            self.event("servers", ips={s.name: s.ip for s in self.servers})
            steps = plan(self.seed, opts.duration_s, opts.servers, opts.kinds)
            workload = {"hosts": self.net.server_ip, "keys": list(KEYS),
                        "lock_keys": list(LOCK_KEYS), "workers": opts.workers,
                        "read_modes": opts.read_modes,
                        "seed": self.seed, "history": history, "locks": locks,
                        "timeout_s": 3.0, "think_s": 0.03,
                        "duration_s": opts.duration_s + 120, "ops_max": 20000}
            self.client.call({"op": "start", "workload": workload})
            try:
                time.sleep(1.0)
                for step in steps:
                    time.sleep(step["gap_s"])
                    self.apply(step)
                self.check_all_running()
            finally:
                self.heal_all()
                time.sleep(SETTLE_S)
                stopped = self.client.call({"op": "stop"})
            # The relays must have carried the servers' traffic, or latency and loss
            # faults tested nothing.
            idle = [f"s{i + 1}" for i, st in enumerate(getattr(self, "relay_stats", []))
                    if st["accepted"] == 0 or st["bytes"] == 0]
            if idle:
                raise Failure(f"relays of {idle} carried no server traffic: the redirect "
                              f"rule is not in the path ({self.relay_stats})")
            result["relay"] = getattr(self, "relay_stats", [])
            counts = stopped.get("counts", {})
            result["ops"] = counts.get("ops", 0) + counts.get("lock_ops", 0)
            result["counts"] = counts
            if stopped.get("stuck_workers"):
                self.findings.append(f"client workers did not stop: {stopped['stuck_workers']}")
            anomalies = stopped.get("anomalies") or []
            if anomalies:
                # A worker exception is a bug of the bed; odd answers are the server's to
                # explain, noted with the counts.
                result["anomalies"] = anomalies
                bugs = [a for a in anomalies if a.startswith("worker exception")]
                if bugs:
                    self.findings.append(f"client worker exceptions: {bugs[:3]}")
                self.notes.append(f"{counts.get('anomaly', len(anomalies))} anomalies, e.g. "
                                  f"{anomalies[:2]}")
            self.wait_leader()
            final = {key: self.read_consistent(key) for key in KEYS}
            result["final"] = final
            ops = checks.load_jsonl(history)
            lost = checks.lost_writes(ops, final)
            result["lost_writes"] = len(lost)
            self.findings.extend(lost)
            self.findings.extend(checks.lock_exclusion(checks.load_jsonl(locks)))
            self.check_convergence(final)
            verdict, output = self.run_lincheck(history)
            result["lincheck"] = verdict
            if verdict != "linearizable":
                self.findings.append(f"lincheck: {verdict}\n{output}")
            if opts.mid_corruption:
                self.check_mid_log_corruption_refused()
            for server in self.servers:
                if server.proc.poll() is not None and not server.refused_on_purpose:
                    raise Failure(f"{server.name} exited on its own:\n{server.log_tail()}")
        except Failure as err:
            self.findings.append(str(err))
        except TimeoutError as err:
            self.findings.append(f"run timed out: {err}")
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old_alarm)
            leftovers = self.teardown()
        if leftovers:
            self.findings.append(f"namespaces left behind: {leftovers}")
        result["faults"] = dict(self.faults)
        result["violations"] = self.findings
        result["elapsed_s"] = round(time.monotonic() - started, 1)
        result["ok"] = not self.findings
        if result["ok"] and not opts.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return result

    def check_mid_log_corruption_refused(self):
        """One server, stopped, gets a flipped byte inside written data: it must refuse."""
        victim = self.servers[-1]
        victim.kill9()
        what = corrupt_wal_middle(victim.data_dir)
        if what is None:
            self.notes.append("mid-log corruption check skipped: no segment with 3 records")
            return
        victim.start()
        victim.refused_on_purpose = True
        try:
            victim.proc.wait(READY_WAIT_S)
        except subprocess.TimeoutExpired:
            raise Failure(f"{victim.name} started on a WAL with a flipped byte ({what}); it "
                          f"must refuse:\n{victim.log_tail()}")
        text = victim.log_since_start()
        clear = [line for line in text.splitlines()
                 if "wal" in line and any(word in line for word in
                                          ("orrupt", "checksum mismatch", "not a torn tail"))]
        if victim.proc.returncode == 0 or not clear:
            raise Failure(f"{victim.name} on a corrupted WAL ({what}) exited "
                          f"{victim.proc.returncode} without naming the corruption:\n"
                          f"{victim.log_tail()}")
        self.faults["mid-log-corruption-refused"] += 1
        self.log(f"  [seed {self.seed}] mid-log corruption ({what}) refused: "
                 f"exit {victim.proc.returncode}: {clear[0][:200]}")

    def teardown(self):
        """Stops every process this run started (by pid) and deletes its namespaces.

        SIGINT and SIGTERM are held off meanwhile, so a second Ctrl-C cannot leave half a
        run behind; the namespaces' own process lists catch anything a pid list missed.
        """
        held = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,
                                                                     signal.SIGTERM)}
        try:
            if self.client is not None:
                self.client.stop()
            for server in self.servers:
                try:
                    server.kill9()
                except OSError:
                    pass
            for relay in self.relays:
                relay.stop()
            return self.net.destroy()
        finally:
            for sig, handler in held.items():
                signal.signal(sig, handler)


def _without_stale_details(output):
    """lincheck's report less the per-pair listing of stale index regressions (often
    hundreds of lines); their count stays in its "stale reads:" line."""
    kept, skipping = [], False
    for line in output.splitlines():
        if line.startswith("stale index went back"):
            skipping = True
            continue
        if skipping and line.startswith(" "):
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept)


def _alarm(signum, frame):
    raise TimeoutError("the run's overall deadline passed")


def run_seed(seed, opts):
    return Bed(seed, opts).run()
