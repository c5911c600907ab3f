#!/usr/bin/env python3
"""Helpers of bench/raft_etcd.sh for a 3-member Proconsul or etcd cluster over HTTP/1.1.

  cluster.py ready SYSTEM TIMEOUT_S URL...      all members agree on one leader, and a write
                                                through each member is acknowledged and then
                                                read back (linearizable) through each member;
                                                prints the leader's index in URL... (0-based)
  cluster.py fill SYSTEM URL KEYS VALUE_BYTES   writes bench/0 ... bench/KEYS-1 through URL
                                                over 32 keep-alive connections
  cluster.py count SYSTEM URL                   how many keys bench/ holds (default mode)
  cluster.py failover SYSTEM KILL_PID INTERVAL_MS TIMEOUT_S SURVIVOR_URL...
                                                SIGKILLs KILL_PID (a member the driver
                                                started: the leader), then every INTERVAL_MS
                                                sends one write to each survivor, each on a
                                                new connection, without waiting for earlier
                                                ones; prints one line of key=value with the
                                                time from the kill to the first acknowledged
                                                write (ms), which survivor acknowledged it,
                                                how the attempts before it ended, and when a
                                                survivor first named a new leader (leader_ms,
                                                asked every INTERVAL_MS until then)

SYSTEM is `proconsul` (URL = http://127.0.0.1:HTTP_PORT; writes are PUT /v1/kv/<key>, the
leader is GET /v1/status/leader, 127.0.0.1:SERVER_PORT, matched to the member through the
environment's SERVER_PORTS, the members' server ports in URL order) or `etcd` (URL = a
member's client URL; writes are the JSON gateway's POST /v3/kv/put, the leader is the member
whose POST /v3/maintenance/status has `leader` equal to its `header.member_id`).
"""

import base64
import http.client
import json
import os
import signal
import sys
import threading
import time
import urllib.parse

ATTEMPT_TIMEOUT_S = 10.0


def hostport(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def request(url, method, path, body=None, timeout=5.0, conn=None):
    """(status, body bytes); status 0 and the error text when the request failed."""
    own = conn is None
    try:
        if own:
            conn = http.client.HTTPConnection(*hostport(url), timeout=timeout)
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json" if path.startswith("/v3/") else \
                "application/octet-stream"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data
    except (OSError, http.client.HTTPException) as e:
        if not own and conn is not None:
            conn.close()
        return 0, str(e).encode()
    finally:
        if own and conn is not None:
            conn.close()


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def put(system, url, key, value, timeout=5.0, conn=None):
    """True when the write was acknowledged."""
    if system == "proconsul":
        status, data = request(url, "PUT", "/v1/kv/" + key, value, timeout, conn)
        return status == 200 and data.strip() == b"true", status, data
    body = json.dumps({"key": b64(key), "value": b64(value)}).encode()
    status, data = request(url, "POST", "/v3/kv/put", body, timeout, conn)
    ok = False
    if status == 200:
        try:
            ok = "header" in json.loads(data) and "error" not in json.loads(data)
        except ValueError:
            ok = False
    return ok, status, data


def get(system, url, key, timeout=5.0):
    """The value (bytes) read in the linearizable default mode, or None."""
    if system == "proconsul":
        status, data = request(url, "GET", "/v1/kv/" + key + "?raw", timeout=timeout)
        return data if status == 200 else None
    body = json.dumps({"key": b64(key)}).encode()
    status, data = request(url, "POST", "/v3/kv/range", body, timeout)
    if status != 200:
        return None
    kvs = json.loads(data).get("kvs") or []
    return base64.b64decode(kvs[0]["value"]) if kvs else None


def leader_id(system, url, server_ports):
    """The index of the member this member names as leader, or None."""
    if system == "proconsul":
        status, data = request(url, "GET", "/v1/status/leader", timeout=2.0)
        if status != 200:
            return None
        try:
            address = json.loads(data)
        except ValueError:
            return None
        if not address:
            return None
        port = int(address.rsplit(":", 1)[1])
        return server_ports.index(port) if port in server_ports else None
    status, data = request(url, "POST", "/v3/maintenance/status", b"{}", timeout=2.0)
    if status != 200:
        return None
    d = json.loads(data)
    return d.get("leader"), d.get("header", {}).get("member_id")


def leader_index(system, urls, server_ports):
    """The leader's index when every member agrees on it, else None."""
    if system == "proconsul":
        seen = [leader_id(system, u, server_ports) for u in urls]
        return seen[0] if seen[0] is not None and all(s == seen[0] for s in seen) else None
    seen = [leader_id(system, u, server_ports) for u in urls]
    if any(s is None for s in seen):
        return None
    leaders = {s[0] for s in seen}
    if len(leaders) != 1 or not next(iter(leaders)) or next(iter(leaders)) == "0":
        return None
    lead = next(iter(leaders))
    for i, s in enumerate(seen):
        if s[1] == lead:
            return i
    return None


def cmd_ready(system, timeout_s, urls, server_ports):
    deadline = time.monotonic() + timeout_s
    token = f"{os.getpid()}-{time.time_ns()}"
    stage = "leader"
    while time.monotonic() < deadline:
        lead = leader_index(system, urls, server_ports)
        if lead is None:
            stage = "leader"
            time.sleep(0.05)
            continue
        stage = "writes"
        if not all(put(system, u, f"bench-ready/{i}", token)[0] for i, u in enumerate(urls)):
            time.sleep(0.05)
            continue
        stage = "reads"
        if not all(get(system, u, f"bench-ready/{j}") == token.encode()
                   for u in urls for j in range(len(urls))):
            time.sleep(0.05)
            continue
        if leader_index(system, urls, server_ports) == lead:
            print(lead)
            return 0
    print(f"not ready after {timeout_s}s (stuck at: {stage})", file=sys.stderr)
    return 1


def cmd_fill(system, url, keys, value_bytes):
    value = "v" * value_bytes
    errors = []
    next_key = [0]
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(*hostport(url), timeout=10)
        while True:
            with lock:
                k = next_key[0]
                next_key[0] += 1
            if k >= keys:
                break
            for _ in range(5):
                ok, status, data = put(system, url, f"bench/{k}", value, conn=conn)
                if ok:
                    break
                conn.close()
                conn = http.client.HTTPConnection(*hostport(url), timeout=10)
                time.sleep(0.05)
            else:
                errors.append((k, status, data[:200]))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(32)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"{len(errors)} writes failed, first: {errors[0]}", file=sys.stderr)
        return 1
    print(f"{keys / (time.monotonic() - t0):.0f}")
    return 0


def cmd_count(system, url):
    if system == "proconsul":
        status, data = request(url, "GET", "/v1/kv/bench/?keys", timeout=30)
        print(len(json.loads(data)) if status == 200 else -1)
        return 0
    # bench/ .. bench0: the prefix range; count_only.
    body = json.dumps({"key": b64("bench/"), "range_end": b64("bench0"),
                       "count_only": True}).encode()
    status, data = request(url, "POST", "/v3/kv/range", body, timeout=30)
    print(int(json.loads(data).get("count", 0)) if status == 200 else -1)
    return 0


def named_leader(system, url):
    """Whom this member names as leader now: an address (Proconsul) or a member ID (etcd);
    "" when none."""
    if system == "proconsul":
        status, data = request(url, "GET", "/v1/status/leader", timeout=ATTEMPT_TIMEOUT_S)
        try:
            return json.loads(data) if status == 200 else ""
        except ValueError:
            return ""
    status, data = request(url, "POST", "/v3/maintenance/status", b"{}", ATTEMPT_TIMEOUT_S)
    try:
        lead = json.loads(data).get("leader", "") if status == 200 else ""
    except ValueError:
        return ""
    return "" if lead in ("", "0") else lead


def cmd_failover(system, kill_pid, interval_ms, timeout_s, urls):
    results = []   # (sent, done, survivor index, ok, status, body)
    lock = threading.Lock()
    first = threading.Event()
    n = [0]
    old = named_leader(system, urls[0])
    new_leader = []  # (time a survivor first named a leader other than the killed one, index)

    def attempt(i, url, t_sent):
        with lock:
            n[0] += 1
            seq = n[0]
        ok, status, data = put(system, url, f"failover/{seq}", f"{seq}", ATTEMPT_TIMEOUT_S)
        t_done = time.monotonic()
        with lock:
            results.append((t_sent, t_done, i, ok, status, data[:120]))
        if ok:
            first.set()

    def ask_leader(i, url):
        lead = named_leader(system, url)
        t = time.monotonic()
        if lead and lead != old:
            with lock:
                new_leader.append((t, i))

    t_kill = time.monotonic()
    os.kill(kill_pid, signal.SIGKILL)
    deadline = t_kill + timeout_s
    tick = t_kill
    # Writes until one is acknowledged; leader queries until a survivor names a new leader
    # (at most 5 s after that write).
    t_first = None
    while time.monotonic() < deadline:
        with lock:
            known = bool(new_leader)
        if first.is_set() and t_first is None:
            t_first = time.monotonic()
        if t_first is not None and (known or time.monotonic() > t_first + 5):
            break
        for i, url in enumerate(urls):
            if t_first is None:
                threading.Thread(target=attempt, args=(i, url, time.monotonic()),
                                 daemon=True).start()
            if not known:
                threading.Thread(target=ask_leader, args=(i, url), daemon=True).start()
        tick += interval_ms / 1000.0
        time.sleep(max(0.0, tick - time.monotonic()))
    with lock:
        done = list(results)
        named = min(new_leader) if new_leader else None
    oks = [r for r in done if r[3]]
    if not oks:
        statuses = sorted({r[4] for r in done})
        print(f"ms=-1 attempts={len(done)} statuses={statuses}")
        return 1
    best = min(oks, key=lambda r: r[1])
    before = [r for r in done if r[1] <= best[1] and not r[3]]
    kinds = {}
    for r in before:
        key = f"{r[4]}:{r[5].decode(errors='replace').strip()[:60]}" if r[4] else \
            f"0:{r[5].decode(errors='replace')[:40]}"
        kinds[key] = kinds.get(key, 0) + 1
    summary = ";".join(f"{k}x{v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
    leader_ms = f"{1000 * (named[0] - t_kill):.1f}" if named else "-1"
    print(f"ms={1000 * (best[1] - t_kill):.1f} sent_ms={1000 * (best[0] - t_kill):.1f} "
          f"leader_ms={leader_ms} acked_by={best[2]} attempts_sent={n[0]} "
          f"failed_before={len(before)} failures=\"{summary.replace(chr(34), chr(39))}\"")
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "ready":
        system, timeout_s = argv[2], float(argv[3])
        ports = [int(p) for p in os.environ.get("SERVER_PORTS", "").split()]
        return cmd_ready(system, timeout_s, argv[4:], ports)
    if cmd == "fill":
        return cmd_fill(argv[2], argv[3], int(argv[4]), int(argv[5]))
    if cmd == "count":
        return cmd_count(argv[2], argv[3])
    if cmd == "leader":
        ports = [int(p) for p in os.environ.get("SERVER_PORTS", "").split()]
        lead = leader_index(argv[2], argv[3:], ports)
        print(lead if lead is not None else -1)
        return 0 if lead is not None else 1
    if cmd == "failover":
        return cmd_failover(argv[2], int(argv[3]), float(argv[4]), float(argv[5]), argv[6:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
