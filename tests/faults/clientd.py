"""The fault bed's client side: runs inside the client network namespace, never in the root one.

The controller (run.py, in the root namespace) starts this with
`ip netns exec <client-ns> python3 clientd.py` and talks to it over stdin/stdout, one JSON
object per line, because nothing in the root namespace may reach the servers' addresses.

Commands (each carries an "id" that the reply repeats):
- {"op": "http", "host", "method", "path", "body", "timeout"}: one request, for the
  controller's probes (leader, final reads). Reply {"status", "index", "body"} or {"error"}.
- {"op": "start", "workload": {...}}: starts the client workers (see Workload). Reply at once.
- {"op": "stop"}: stops the workers, waits for them, writes the history files; the reply
  carries counters.
- {"op": "quit"}.

The workers' history is JSON Lines in the format the linearizability checker reads
(docs/RELIABILITY.md); lock operations go to a separate file, checked by run.py.
"""

import base64
import http.client
import json
import random
import socket
import sys
import threading
import time
import urllib.parse

OUT_LOCK = threading.Lock()


def reply(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


class Outcome:
    """What came back from one HTTP request.

    sent: whether any byte of the request may have reached the server. A refused connection
    never sent anything, so its operation definitely had no effect.
    """

    def __init__(self, status=None, index=None, body=b"", error=None, sent=True):
        self.status = status
        self.index = index
        self.body = body
        self.error = error
        self.sent = sent


def http_call(host, method, path, body=None, timeout=3.0, port=8500):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        try:
            conn.connect()
        except ConnectionRefusedError as err:
            return Outcome(error=f"refused: {err}", sent=False)
        except (socket.timeout, OSError) as err:
            # connect() timed out or the host is unreachable: no byte was sent.
            return Outcome(error=f"connect: {err!r}", sent=False)
        try:
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            data = resp.read()
        except (socket.timeout, OSError, http.client.HTTPException) as err:
            return Outcome(error=repr(err), sent=True)
        index = resp.getheader("X-Consul-Index")
        return Outcome(status=resp.status, index=int(index) if index else None, body=data)
    finally:
        conn.close()


def kv_path(key, query=""):
    return "/v1/kv/" + urllib.parse.quote(key, safe="/") + (("?" + query) if query else "")


class Worker(threading.Thread):
    """One client: a sequential stream of operations, spread over the servers.

    Process ids follow the usual convention of linearizability histories: a process whose
    operation ended "unknown" may still have it in flight, so the worker continues under a
    new process id (old id + number of workers) and never has two open operations under one id.
    """

    def __init__(self, index, cfg, stop):
        super().__init__(daemon=True, name=f"worker-{index}")
        self.index = index
        self.cfg = cfg
        self.stop_event = stop
        self.rng = random.Random(cfg["seed"] * 1000 + index)
        self.process = index
        self.history = []
        self.locks = []
        self.counts = {"ops": 0, "unknown": 0, "refused": 0, "rejected_4xx": 0,
                       "read_failed": 0, "anomaly": 0}
        self.anomalies = []
        self.last_read = {}  # key -> (value, ModifyIndex) from this worker's latest read
        self.value_seq = 0
        self.session = None
        self.last_host = None

    # --- helpers -------------------------------------------------------------------------

    def host(self):
        self.last_host = self.rng.choice(self.cfg["hosts"])
        return self.last_host

    def now(self):
        return time.monotonic_ns()

    def new_value(self):
        self.value_seq += 1
        return f"w{self.index}-{self.value_seq}"

    def crashed(self):
        """After an unknown outcome the process id moves on (see class docstring)."""
        self.process += self.cfg["workers"]

    def record(self, op):
        op["server"] = self.last_host  # moved to history-detail.jsonl by Workload.stop
        self.history.append(op)
        self.counts["ops"] += 1
        if op.get("ok") == "unknown":
            self.counts["unknown"] += 1
            self.crashed()

    def anomaly(self, what):
        self.counts["anomaly"] += 1
        if len(self.anomalies) < 50:
            self.anomalies.append(what)

    # --- operations ----------------------------------------------------------------------

    def do_read(self, key):
        mode = self.rng.choice(self.cfg.get("read_modes") or ["default", "consistent", "stale"])
        query = "" if mode == "default" else mode
        call = self.now()
        out = http_call(self.host(), "GET", kv_path(key, query), timeout=self.cfg["timeout_s"])
        ret = self.now()
        if out.status == 200:
            try:
                entry = json.loads(out.body)[0]
                raw = entry.get("Value")
                value = None if raw is None else base64.b64decode(raw).decode()
                modify = int(entry["ModifyIndex"])
            except (ValueError, KeyError, IndexError, TypeError) as err:
                self.anomaly(f"read {key}: bad body {out.body[:200]!r}: {err}")
                return
            if value is None:
                value = ""  # we never write empty values; the checker will flag it
        elif out.status == 404:
            value, modify = None, 0
        else:
            # A failed read has no effect on the register: it is left out of the history.
            self.counts["read_failed"] += 1
            return
        if out.index is None:
            self.anomaly(f"read {key} ({mode}): no X-Consul-Index")
        self.last_read[key] = (value, modify)
        self.history.append({"process": self.process, "type": "read", "key": key,
                             "value": value, "mode": mode, "index": out.index,
                             "ok": True, "call": call, "return": ret,
                             "server": self.last_host})
        self.counts["ops"] += 1

    def classify_write(self, out, cas):
        """Maps an HTTP outcome of a PUT/DELETE to ok: True, False, "unknown" or None (drop)."""
        if not out.sent:
            self.counts["refused"] += 1
            return None  # nothing reached a server: definitely no effect
        if out.status is None or out.status >= 500:
            return "unknown"  # timeout, reset, or a 5xx such as "No cluster leader"
        if 400 <= out.status < 500:
            # Validation failures are decided before anything is proposed to Raft.
            self.counts["rejected_4xx"] += 1
            self.anomaly(f"4xx {out.status} {out.body[:200]!r}")
            return None
        body = out.body.strip()
        if body == b"true":
            return True
        if body == b"false" and cas:
            return False
        self.anomaly(f"unexpected answer {out.status} {out.body[:200]!r}")
        return "unknown"

    def do_write(self, key, delete=False):
        value = None if delete else self.new_value()
        call = self.now()
        if delete:
            out = http_call(self.host(), "DELETE", kv_path(key), timeout=self.cfg["timeout_s"])
        else:
            out = http_call(self.host(), "PUT", kv_path(key), body=value,
                            timeout=self.cfg["timeout_s"])
        ret = self.now()
        ok = self.classify_write(out, cas=False)
        if ok is None:
            return
        self.record({"process": self.process, "type": "write", "key": key, "value": value,
                     "ok": ok, "call": call, "return": None if ok == "unknown" else ret})

    def do_cas(self, key):
        expected, modify = self.last_read.pop(key)
        value = self.new_value()
        call = self.now()
        out = http_call(self.host(), "PUT", kv_path(key, f"cas={modify}"), body=value,
                        timeout=self.cfg["timeout_s"])
        ret = self.now()
        ok = self.classify_write(out, cas=True)
        if ok is None:
            return
        self.record({"process": self.process, "type": "cas", "key": key, "value": value,
                     "expected": expected, "ok": ok, "call": call,
                     "return": None if ok == "unknown" else ret})

    def lock_op(self, key, kind, host):
        call = self.now()
        out = http_call(host, "PUT", kv_path(key, f"{kind}={self.session}"),
                        body=f"w{self.index}", timeout=self.cfg["timeout_s"])
        ret = self.now()
        if not out.sent:
            ok = False
        elif out.status == 200 and out.body.strip() in (b"true", b"false"):
            ok = out.body.strip() == b"true"
        elif out.status is not None and 400 <= out.status < 500:
            ok = False
            self.anomaly(f"lock {kind} 4xx {out.status} {out.body[:200]!r}")
        else:
            ok = "unknown"
        self.locks.append({"worker": self.index, "session": self.session, "key": key,
                           "op": kind, "ok": ok, "call": call,
                           "return": None if ok == "unknown" else ret})
        return ok

    def do_lock(self):
        host = self.host()
        if self.session is None:
            out = http_call(host, "PUT", "/v1/session/create",
                            # No health checks: nothing but a release may end a hold, which
                            # is what lock_exclusion in checks.py assumes.
                            body=json.dumps({"Name": f"pcf-w{self.index}",
                                             "LockDelay": "0s", "NodeChecks": [],
                                             "Checks": []}),
                            timeout=self.cfg["timeout_s"])
            if out.status != 200:
                return
            try:
                self.session = json.loads(out.body)["ID"]
            except (ValueError, KeyError):
                self.anomaly(f"session create: {out.body[:200]!r}")
                return
        key = self.rng.choice(self.cfg["lock_keys"])
        ok = self.lock_op(key, "acquire", host)
        if ok is False:
            return
        if ok is True:
            time.sleep(self.rng.uniform(0, 0.05))
        # Release after a success, and after an unknown acquire too (it may have taken the
        # lock). Retried a few times; a release is idempotent.
        for _ in range(5):
            if self.stop_event.is_set() and _ > 1:
                break
            if self.lock_op(key, "release", self.host()) is True:
                return
            time.sleep(0.2)

    def run(self):
        cfg = self.cfg
        deadline = time.monotonic() + cfg["duration_s"]
        ops = 0
        while not self.stop_event.is_set() and time.monotonic() < deadline \
                and ops < cfg["ops_max"]:
            ops += 1
            key = self.rng.choice(cfg["keys"])
            roll = self.rng.random()
            try:
                if roll < 0.30:
                    self.do_write(key)
                elif roll < 0.33:
                    self.do_write(key, delete=True)
                elif roll < 0.63:
                    self.do_read(key)
                elif roll < 0.88:
                    if key in self.last_read:
                        self.do_cas(key)
                    else:
                        self.do_read(key)
                elif cfg["lock_keys"]:
                    self.do_lock()
            except Exception as err:  # a bug here must not silently end the worker
                self.anomaly(f"worker exception: {err!r}")
            time.sleep(self.rng.uniform(0.0, cfg["think_s"]))


class Workload:
    def __init__(self, cfg):
        self.cfg = cfg
        self.stop_event = threading.Event()
        self.workers = [Worker(i, cfg, self.stop_event) for i in range(cfg["workers"])]
        for w in self.workers:
            w.start()

    def stop(self):
        self.stop_event.set()
        for w in self.workers:
            w.join(self.cfg["timeout_s"] * 8 + 5)
        alive = [w.name for w in self.workers if w.is_alive()]
        history = sorted((op for w in self.workers for op in w.history),
                         key=lambda op: op["call"])
        # history.jsonl is the checker's format: reads name the server that answered (the
        # stale-index rule is per server); history-detail.jsonl has it for every operation,
        # for reading a failure against nemesis.jsonl.
        with open(self.cfg["history"], "w", encoding="utf-8") as out, \
                open(self.cfg["history"].replace(".jsonl", "-detail.jsonl"), "w",
                     encoding="utf-8") as detail:
            for op in history:
                detail.write(json.dumps(op) + "\n")
                keep = op["type"] == "read"
                out.write(json.dumps({k: v for k, v in op.items()
                                      if k != "server" or keep}) + "\n")
        locks = sorted((op for w in self.workers for op in w.locks), key=lambda op: op["call"])
        with open(self.cfg["locks"], "w", encoding="utf-8") as out:
            for op in locks:
                out.write(json.dumps(op) + "\n")
        counts = {}
        for w in self.workers:
            for k, v in w.counts.items():
                counts[k] = counts.get(k, 0) + v
        counts["lock_ops"] = len(locks)
        anomalies = [a for w in self.workers for a in w.anomalies]
        return {"counts": counts, "anomalies": anomalies[:50], "stuck_workers": alive}


def main():
    workload = None
    for line in sys.stdin:
        try:
            cmd = json.loads(line)
        except ValueError:
            continue
        rid = cmd.get("id")
        op = cmd.get("op")
        if op == "http":
            body = cmd.get("body")
            out = http_call(cmd["host"], cmd["method"], cmd["path"],
                            body=body.encode() if body is not None else None,
                            timeout=cmd.get("timeout", 3.0))
            if out.status is None:
                reply({"id": rid, "error": out.error})
            else:
                reply({"id": rid, "status": out.status, "index": out.index,
                       "body": out.body.decode("utf-8", errors="replace")})
        elif op == "start":
            workload = Workload(cmd["workload"])
            reply({"id": rid, "ok": True})
        elif op == "stop":
            result = workload.stop() if workload else {}
            workload = None
            reply({"id": rid, **result})
        elif op == "quit":
            break


if __name__ == "__main__":
    main()
