"""Shared harness for Proconsul's Python integration and compatibility suites.

What it does, and why:
- Starts `proconsul agent -dev` on an ephemeral HTTP port (`-http-port 0`, our extension) and
  DNS port (`-dns-port 0`) so that test files can run in parallel without choosing ports
  (envoy: hermetic tests).
- Reads the agent's stdout until the `==> Proconsul agent running!` line, parsing the real
  HTTP and DNS ports from the `Client Addr: [...] (HTTP: <port>, HTTPS: -1, DNS: <port>)`
  line of the startup banner (agent.port, agent.dns_port).
  A thread keeps draining stdout for the life of the process so the pipe never fills and
  the agent never blocks on a log write; the captured output is attached to failures.
- Always stops the agent (SIGTERM, then SIGKILL after 5 s) and reports whether the agent
  shut down gracefully (exit status 0 on SIGTERM), because a graceful shutdown is part of
  the behaviour under test.
- Talks HTTP with http.client only (Python's standard library), so that what is sent is
  exactly what the test says: method, path, query, body and headers.

Lifecycle: an Agent is owned by one test class (AgentTestCase starts it in setUpClass and
stops it in tearDownClass / a class cleanup) or by one test (start it and register
agent.stop with addCleanup). Agent methods may be called from several threads: each HTTP
request opens its own connection, and the captured output is guarded by a lock.
"""

import base64
import collections
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest
import urllib.parse

# Deadlines (seconds). Startup and shutdown get fixed budgets; tests use their own.
READY_DEADLINE_S = 20.0
STOP_GRACE_S = 5.0
HTTP_TIMEOUT_S = 30.0
# Captured agent output is bounded: a debug-level agent logs a lot over a long suite.
OUTPUT_HEAD_LINES = 500
OUTPUT_TAIL_LINES = 20000

RUNNING_MARKER = "==> Proconsul agent running!"
CLIENT_ADDR_RE = re.compile(r"Client Addr: \[[^\]]*\] \(HTTP: (\d+)(?:.*?DNS: (-?\d+))?")
# "Cluster Addr: 127.0.0.1 (LAN: <port>, WAN: <port>)": the LAN gossip port actually bound.
CLUSTER_ADDR_RE = re.compile(r"Cluster Addr: \S+ \(LAN: (-?\d+)(?:, WAN: (-?\d+))?")

# Consul's limits that the suites probe from both sides.
KV_VALUE_SIZE_MAX = 512 * 1024
SESSION_TTL_MIN_S = 10
SESSION_TTL_MAX_S = 24 * 3600


def binary_path():
    """The proconsul binary under test; ctest sets PROCONSUL_BIN. Missing is a failure."""
    path = os.environ.get("PROCONSUL_BIN", "")
    if not path:
        raise AssertionError(
            "PROCONSUL_BIN is not set: run these tests through ctest, or set "
            "PROCONSUL_BIN=/path/to/build/proconsul")
    if not os.access(path, os.X_OK):
        raise AssertionError(f"PROCONSUL_BIN={path!r} is not an executable file")
    return path


class Response:
    """One HTTP response, fully read. Header lookups are case-insensitive."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise AssertionError(
                f"response is not JSON ({err}): status {self.status}, body {self.text[:500]!r}")

    @property
    def index(self):
        """X-Consul-Index as an int; absent is a failure (every read must set it)."""
        raw = self.header("X-Consul-Index")
        if raw is None:
            raise AssertionError(
                f"missing X-Consul-Index header (status {self.status}, headers "
                f"{dict(self.headers)})")
        try:
            return int(raw)
        except ValueError:
            raise AssertionError(f"X-Consul-Index is not an integer: {raw!r}")

    def __repr__(self):
        return f"<Response {self.status} {self.text[:300]!r}>"


def query_string(params):
    """Builds ?a=1&flag from a dict; a value of None sends the bare flag (`?recurse`)."""
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        if value is None:
            parts.append(urllib.parse.quote(key, safe=""))
        else:
            parts.append(urllib.parse.quote(key, safe="") + "=" +
                         urllib.parse.quote(str(value), safe=""))
    return "?" + "&".join(parts)


def kv_path(key, params=None):
    return "/v1/kv/" + urllib.parse.quote(key, safe="/") + query_string(params)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return None if text is None else base64.b64decode(text)


_GO_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_s(text):
    """Parses a Go duration string ("1m30s", "10s", "0s") into seconds."""
    if text in ("0", ""):
        return 0.0
    pos, total = 0, 0.0
    while pos < len(text):
        match = _GO_DURATION_RE.match(text, pos)
        if not match:
            raise AssertionError(f"not a Go duration: {text!r}")
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    return total


def wait_until(predicate, timeout_s, interval_s=0.05, message="condition"):
    """Polls predicate until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {message}; "
                                 f"last value {last!r}")
        time.sleep(interval_s)


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return time.monotonic() - start, result


class BackgroundCall:
    """Runs fn in a thread (e.g. a blocking query) and hands back result, error and timing."""

    def __init__(self, fn, *args, **kwargs):
        self.result = None
        self.error = None
        self.started = time.monotonic()
        self.finished = None
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True)
        self._thread.start()

    def _run(self, fn, args, kwargs):
        try:
            self.result = fn(*args, **kwargs)
        except BaseException as err:  # reported to the test thread by join()
            self.error = err
        finally:
            self.finished = time.monotonic()

    def done(self):
        return not self._thread.is_alive()

    def join(self, timeout_s):
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise AssertionError(f"background call still running after {timeout_s}s")
        if self.error is not None:
            raise self.error
        return self.result

    @property
    def elapsed(self):
        return None if self.finished is None else self.finished - self.started


class Agent:
    """One `proconsul agent -dev` process."""

    def __init__(self, node="test-node", extra_args=()):
        self.node = node
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.dns_port = None  # the DNS port (UDP and TCP) from the banner; None when disabled
        self.serf_lan_port = None  # the LAN gossip port from the banner
        self.serf_wan_port = None  # the WAN gossip port from the banner (-1: no WAN pool)
        self.exit_code = None
        self._graceful = True
        self._head = []
        self._tail = collections.deque(maxlen=OUTPUT_TAIL_LINES)
        self._line_count = 0
        self._ready = False
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._drain_thread = None

    # --- process lifecycle -------------------------------------------------------------

    def command(self):
        return [binary_path(), "agent", "-dev", "-http-port", "0", "-dns-port", "0",
                "-serf-lan-port", "0", "-serf-wan-port", "0", "-node", self.node, "-log-level", "debug"] + self.extra_args

    def start(self):
        args = self.command()
        # stderr joins stdout so one thread drains both and failures show everything.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._drain_thread = threading.Thread(target=self._drain, daemon=True)
        self._drain_thread.start()
        deadline = time.monotonic() + READY_DEADLINE_S
        with self._lock:
            while not self._ready:
                if self.proc.poll() is not None and not self._drain_thread.is_alive():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(min(remaining, 0.2))
            ready = self._ready
        if not ready:
            exited = self.proc.poll()
            self.stop()
            why = (f"exited with status {exited}" if exited is not None
                   else f"did not print {RUNNING_MARKER!r} within {READY_DEADLINE_S}s")
            raise AssertionError(f"agent {why}: {' '.join(args)}\n{self.output_tail()}")
        if not self.port:
            self.stop()
            raise AssertionError("agent is running but printed no 'Client Addr: [...] (HTTP: "
                                 f"<port>' line\n{self.output_tail()}")
        return self

    def _drain(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._lock:
                self._line_count += 1
                if len(self._head) < OUTPUT_HEAD_LINES:
                    self._head.append(line)
                else:
                    self._tail.append(line)
                if not self._ready:
                    match = CLIENT_ADDR_RE.search(line)
                    if match:
                        self.port = int(match.group(1))
                        if match.group(2) is not None and int(match.group(2)) > 0:
                            self.dns_port = int(match.group(2))
                    match = CLUSTER_ADDR_RE.search(line)
                    if match:
                        self.serf_lan_port = int(match.group(1))
                        if match.group(2) is not None:
                            self.serf_wan_port = int(match.group(2))
                    if RUNNING_MARKER in line:
                        self._ready = True
                self._changed.notify_all()
        with self._lock:
            self._changed.notify_all()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_GRACE_S. Returns (exit_code, graceful). Idempotent."""
        if self.proc is None:
            return None, True
        if self.exit_code is not None:
            return self.exit_code, self._graceful
        graceful = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                graceful = False
                self._force_kill()
        else:
            graceful = False  # it was already dead: a crash, not a shutdown
        self.exit_code = self.proc.wait()
        self._graceful = graceful
        if self._drain_thread is not None:
            self._drain_thread.join(2.0)
        if not self._drain_thread or not self._drain_thread.is_alive():
            self.proc.stdout.close()
        return self.exit_code, graceful

    def stop_checked(self):
        """Stops the agent and fails unless it exited 0 on SIGTERM within the grace period."""
        if self.exit_code is None and self.proc is not None and self.proc.poll() is not None:
            code, _ = self.stop()
            raise AssertionError(f"agent died before it was stopped (exit status {code})\n"
                                 f"{self.output_tail()}")
        code, graceful = self.stop()
        if not graceful:
            raise AssertionError(f"agent did not exit within {STOP_GRACE_S}s of SIGTERM "
                                 f"(killed)\n{self.output_tail()}")
        if code != 0:
            raise AssertionError(f"agent exited with status {code} on SIGTERM, want 0\n"
                                 f"{self.output_tail()}")

    def _force_kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def output(self):
        """Captured output: the first OUTPUT_HEAD_LINES lines and the latest OUTPUT_TAIL_LINES."""
        with self._lock:
            return list(self._head) + list(self._tail)

    def output_tail(self, lines=80):
        with self._lock:
            captured = list(self._head) + list(self._tail)
            total = self._line_count
        tail = captured[-lines:]
        head = f"--- agent output (last {len(tail)} of {total} lines) ---\n"
        return head + "\n".join(tail) + ("\n" if tail else "") + "--- end agent output ---"

    # --- HTTP ----------------------------------------------------------------------------

    @property
    def http_addr(self):
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self):
        return f"http://{self.http_addr}"

    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT_S):
        """Sends one request on a fresh connection and reads the whole response.

        body may be bytes, str, or a dict/list (sent as JSON). An agent that closes the
        connection early (e.g. after rejecting an oversized body) still gets its response
        read, so a 413 is seen as a 413 and not as a broken pipe.
        """
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            send_error = None
            try:
                conn.request(method, path, body=body, headers=headers or {})
            except (BrokenPipeError, ConnectionResetError) as err:
                send_error = err
            try:
                resp = conn.getresponse()
                data = resp.read()
            except (ConnectionError, http.client.HTTPException, OSError) as err:
                state = "alive" if self.alive() else f"DEAD (exit {self.proc.poll()})"
                raise AssertionError(
                    f"{method} {path}: no HTTP response ({err!r}"
                    f"{', send failed: ' + repr(send_error) if send_error else ''}); "
                    f"agent is {state}\n{self.output_tail(40)}") from None
            return Response(resp.status, resp.reason, resp.headers, data)
        except ConnectionRefusedError as err:
            state = "alive" if self.alive() else f"DEAD (exit {self.proc.poll()})"
            raise AssertionError(f"{method} {path}: {err}; agent is {state}\n"
                                 f"{self.output_tail(40)}") from None
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # --- small conveniences shared by the suites ----------------------------------------

    def kv_put(self, key, value=b"", params=None):
        return self.put(kv_path(key, params), body=value)

    def kv_get(self, key, params=None, timeout=HTTP_TIMEOUT_S):
        return self.get(kv_path(key, params), timeout=timeout)

    def kv_delete(self, key, params=None):
        return self.delete(kv_path(key, params))

    def kv_entry(self, key):
        """The single entry at key, or None on 404."""
        resp = self.kv_get(key)
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise AssertionError(f"GET {key}: {resp!r}")
        entries = resp.json()
        if not isinstance(entries, list) or len(entries) != 1:
            raise AssertionError(f"GET {key}: want a one-element list, got {entries!r}")
        return entries[0]

    def session_create(self, body=None):
        resp = self.put("/v1/session/create", body=body)
        if resp.status != 200:
            raise AssertionError(f"session create {body!r}: {resp!r}")
        sid = resp.json().get("ID")
        if not sid:
            raise AssertionError(f"session create returned no ID: {resp!r}")
        return sid

    def session_destroy(self, sid):
        resp = self.put(f"/v1/session/destroy/{sid}")
        if resp.status != 200:
            raise AssertionError(f"session destroy {sid}: {resp!r}")
        return resp.json()


class AgentTestCase(unittest.TestCase):
    """One agent per test class; every test gets its own key prefix so tests don't collide.

    tearDownClass fails the class if the agent did not exit 0 on SIGTERM (graceful
    shutdown is part of the contract); a class cleanup stops it even if setUpClass failed.
    """

    agent = None
    node_name = "test-node"
    agent_args = ()

    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(node=cls.node_name, extra_args=cls.agent_args)
        cls.addClassCleanup(cls.agent.stop)
        cls.agent.start()

    @classmethod
    def tearDownClass(cls):
        if cls.agent is not None:
            cls.agent.stop_checked()

    def setUp(self):
        if not self.agent.alive():
            self.fail(f"agent is not running (exit {self.agent.proc.poll()})\n"
                      f"{self.agent.output_tail()}")
        # Keys use only characters Consul accepts everywhere: [A-Za-z0-9,-_./].
        self.prefix = "t/" + self._testMethodName + "/"

    def assertStatus(self, resp, status, msg=""):
        if resp.status != status:
            self.fail(f"want HTTP {status}, got {resp.status}: body {resp.text[:800]!r} {msg}")

    def assertJSON(self, resp, expected, status=200):
        self.assertStatus(resp, status)
        self.assertEqual(resp.json(), expected, f"body {resp.text[:800]!r}")
