"""Agent check runners (HTTP, TCP, TTL, script), reaping of critical services, the deferred
output sync, session invalidation by agent checks and blocking health queries woken by them.

Facts from Consul's agent/checks/check.go (CheckHTTP, CheckTCP, CheckTTL, CheckMonitor),
agent/local/state.go (UpdateCheck, CriticalFor), agent/agent.go (reapServicesInternal,
validateService), agent/consul/session_endpoint.go and state/session.go, and the api-docs for
/agent/check and the agent configuration reference:

- HTTP: GET (or Method) with User-Agent "Consul Health Check"; 2xx is passing, 429 warning,
  anything else critical; Output "HTTP <METHOD> <url>: <status line> Output: <body>"; a
  transport error is critical with Go's client error as Output, e.g. `Get "<url>": dial tcp
  <addr>: connect: connection refused`.
- TCP: passing "TCP connect <host:port>: Success", critical with Go's dial error
  `dial tcp <addr>: connect: connection refused`.
- TTL: critical at registration unless Status is given; when no update arrives within the
  TTL it turns critical with Output "TTL expired", or "TTL expired (last output before
  timeout follows): <last output>" when the last update carried one; every update restarts
  the TTL.
- Script checks (Args/ScriptArgs, run without a shell) are refused unless
  enable_script_checks (flag -enable-script-checks) is set: 500 "Scripts are disabled on this
  agent; ..."; exit 0 is passing, 1 warning, anything else critical; Output is stdout and
  stderr together, cut to its last 4 KiB behind a "Captured 4096 of <n> bytes" header; a
  script still running at its Timeout is killed: critical "Timed out (<timeout>) running
  check".
- HTTP Timeout: a target that does not answer in time is critical with Go's client error
  `Get "<url>": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`.
- Interval checks start at a random point within their first interval, so every wait below
  is a bounded poll.
- DeregisterCriticalServiceAfter removes the service (and its checks) once the check has
  been critical that long (at least check_deregister_interval_min, looked at every
  check_reap_interval; our documented test keys, Consul's defaults 1m and 30s).
- A status change is written to the catalog at once; a change of Output alone is deferred
  by check_update_interval (default 5m, "0s" writes every change) while /v1/agent/checks
  shows it immediately.
- A session that lists a check (NodeChecks/ServiceChecks or the legacy Checks) is
  invalidated when that check turns critical, which releases its locks; a session cannot be
  created on a check that is critical ("Check '<id>' is in critical state").
"""

import http.server
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

from proconsul import AgentTestCase, BackgroundCall, query_string

NODE = "test-node"


class ProbeTarget:
    """A tiny HTTP server on 127.0.0.1:<ephemeral> whose answers the test sets per path."""

    def __init__(self):
        self.routes = {}      # path -> (status, body, delay_s)
        self.requests = []    # (method, path, headers) in arrival order
        self.lock = threading.Lock()
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self):
                path = self.path.split("?", 1)[0]
                with target.lock:
                    target.requests.append((self.command, path, dict(self.headers)))
                    status, body, delay_s = target.routes.get(path, (404, "no route", 0))
                if delay_s:
                    time.sleep(delay_s)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = handle_one

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path, status, body, delay_s=0):
        with self.lock:
            self.routes[path] = (status, body, delay_s)

    def hits(self, path, method=None):
        with self.lock:
            return [r for r in self.requests
                    if r[1] == path and (method is None or r[0] == method)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def closed_port():
    """A port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(test_class, config):
    """Writes config as a JSON file for the class's agent and returns its -config-file args."""
    tmp = tempfile.mkdtemp(prefix="pc-agent-checks-")
    test_class.addClassCleanup(shutil.rmtree, tmp, True)
    path = os.path.join(tmp, "agent.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return ["-config-file", path]


class CheckTestCase(AgentTestCase):

    def name(self, suffix=""):
        return self._testMethodName.replace("_", "-") + suffix

    def put_ok(self, path, body=None):
        resp = self.agent.put(path, body=body)
        self.assertStatus(resp, 200, path)
        return resp

    def register(self, body):
        resp = self.agent.put("/v1/agent/service/register", body=body)
        self.assertStatus(resp, 200, f"registering {body!r}")
        sid = body.get("ID") or body["Name"]
        self.addCleanup(self.agent.put, f"/v1/agent/service/deregister/{sid}")
        return sid

    def target(self):
        t = ProbeTarget()
        self.addCleanup(t.close)
        return t

    def agent_checks(self):
        resp = self.agent.get("/v1/agent/checks")
        self.assertStatus(resp, 200)
        return resp.json()

    def catalog_check(self, service, cid, timeout_s=5.0):
        """The catalog's row for cid, once its Status is the agent's.

        A probe's result reaches the catalog through the agent's next sync pass, a moment
        after /v1/agent/checks shows it (writes through the agent API are synced before they
        answer); a status change carries its output with it.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            resp = self.agent.get(f"/v1/health/checks/{service}")
            self.assertStatus(resp, 200)
            found = [c for c in resp.json() if c["CheckID"] == cid]
            remote = found[0] if found else None
            local = self.agent_checks().get(cid)
            settled = local is None or (remote is not None and
                                        remote["Status"] == local["Status"])
            if settled or time.monotonic() >= deadline:
                return remote
            time.sleep(0.02)

    def wait_check(self, cid, status, timeout_s=8.0, output=None):
        """Polls /v1/agent/checks until cid has status (and output); returns the check."""
        deadline = time.monotonic() + timeout_s
        last = None
        while True:
            last = self.agent_checks().get(cid)
            if last and last["Status"] == status and (output is None or
                                                      last["Output"] == output):
                return last
            if time.monotonic() >= deadline:
                self.fail(f"check {cid!r} did not become {status!r} (output {output!r}) "
                          f"within {timeout_s}s; last {last!r}")
            time.sleep(0.1)

    def wait_gone(self, sid, timeout_s):
        deadline = time.monotonic() + timeout_s
        while sid in self.agent.get("/v1/agent/services").json():
            if time.monotonic() >= deadline:
                self.fail(f"service {sid!r} still registered after {timeout_s}s")
            time.sleep(0.1)


class CheckRunnerTest(CheckTestCase):

    def test_http_check_statuses_and_output(self):
        t = self.target()
        t.route("/ok", 200, "ok body")
        t.route("/busy", 429, "slow down")
        t.route("/fail", 500, "boom")
        name = self.name()
        want = {
            "ok": ("passing", f"HTTP GET {t.url('/ok')}: 200 OK Output: ok body"),
            "busy": ("warning", f"HTTP GET {t.url('/busy')}: 429 Too Many Requests Output: "
                                "slow down"),
            "fail": ("critical", f"HTTP GET {t.url('/fail')}: 500 Internal Server Error "
                                 "Output: boom"),
        }
        for kind in want:
            self.register({"Name": f"{name}-{kind}",
                           "Check": {"HTTP": t.url(f"/{kind}"), "Interval": "1s"}})
        for kind, (status, output) in want.items():
            with self.subTest(kind=kind):
                check = self.wait_check(f"service:{name}-{kind}", status, output=output)
                self.assertEqual(check["Type"], "http")
        # Status changes reach the catalog at once, with their output.
        for kind in ("ok", "busy"):
            status, output = want[kind]
            remote = self.catalog_check(f"{name}-{kind}", f"service:{name}-{kind}")
            self.assertEqual((remote["Status"], remote["Output"]), (status, output))
        self.assertEqual(
            self.catalog_check(f"{name}-fail", f"service:{name}-fail")["Status"], "critical")
        passing = self.agent.get(f"/v1/health/service/{name}-ok?passing").json()
        self.assertEqual([e["Service"]["ID"] for e in passing], [f"{name}-ok"])
        self.assertEqual(self.agent.get(f"/v1/health/service/{name}-busy?passing").json(), [])
        # Consul's probe identifies itself.
        self.assertEqual(t.hits("/ok")[0][0], "GET")
        self.assertEqual(t.hits("/ok")[0][2].get("User-Agent"), "Consul Health Check")

    def test_http_check_follows_the_target(self):
        t = self.target()
        t.route("/flip", 200, "up")
        sid = self.register({"Name": self.name(),
                             "Check": {"HTTP": t.url("/flip"), "Interval": "1s"}})
        cid = f"service:{sid}"
        self.wait_check(cid, "passing")
        t.route("/flip", 503, "down")
        self.wait_check(cid, "critical",
                        output=f"HTTP GET {t.url('/flip')}: 503 Service Unavailable Output: down")
        self.assertEqual(self.catalog_check(sid, cid)["Status"], "critical")
        t.route("/flip", 200, "up again")
        self.wait_check(cid, "passing",
                        output=f"HTTP GET {t.url('/flip')}: 200 OK Output: up again")
        # Deregistering the service stops its check.
        self.put_ok(f"/v1/agent/service/deregister/{sid}")
        time.sleep(0.3)
        seen = len(t.hits("/flip"))
        time.sleep(2.5)
        self.assertLessEqual(len(t.hits("/flip")), seen + 1, "the check kept running")

    def test_http_check_method_and_header(self):
        t = self.target()
        t.route("/post", 200, "posted")
        sid = self.register({"Name": self.name(), "Check": {
            "HTTP": t.url("/post"), "Method": "POST", "Header": {"X-Probe": ["yes"]},
            "Interval": "1s"}})
        self.wait_check(f"service:{sid}", "passing",
                        output=f"HTTP POST {t.url('/post')}: 200 OK Output: posted")
        method, _, headers = t.hits("/post")[0]
        self.assertEqual(method, "POST")
        self.assertEqual(headers.get("X-Probe"), "yes")

    def test_http_check_unreachable(self):
        port = closed_port()
        url = f"http://127.0.0.1:{port}/health"
        sid = self.register({"Name": self.name(), "Check": {"HTTP": url, "Interval": "1s"}})
        self.wait_check(f"service:{sid}", "critical",
                        output=f'Get "{url}": dial tcp 127.0.0.1:{port}: connect: '
                               'connection refused')

    def test_http_check_timeout(self):
        t = self.target()
        t.route("/slow", 200, "too late", delay_s=4)
        url = t.url("/slow")
        sid = self.register({"Name": self.name(), "Check": {
            "HTTP": url, "Interval": "2s", "Timeout": "1s", "Status": "passing"}})
        self.wait_check(f"service:{sid}", "critical", timeout_s=8.0,
                        output=f'Get "{url}": context deadline exceeded (Client.Timeout '
                               'exceeded while awaiting headers)')

    def test_tcp_check(self):
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        open_addr = f"127.0.0.1:{listener.getsockname()[1]}"
        closed_addr = f"127.0.0.1:{closed_port()}"
        name = self.name()
        self.register({"Name": name + "-up", "Check": {"TCP": open_addr, "Interval": "1s"}})
        self.register({"Name": name + "-down", "Check": {"TCP": closed_addr, "Interval": "1s"}})
        up = self.wait_check(f"service:{name}-up", "passing",
                             output=f"TCP connect {open_addr}: Success")
        self.assertEqual(up["Type"], "tcp")
        self.wait_check(f"service:{name}-down", "critical",
                        output=f"dial tcp {closed_addr}: connect: connection refused")
        remote = self.catalog_check(name + "-up", f"service:{name}-up")
        self.assertEqual((remote["Status"], remote["Output"]),
                         ("passing", f"TCP connect {open_addr}: Success"))
        self.assertEqual(len(self.agent.get(f"/v1/health/service/{name}-up?passing").json()), 1)
        self.assertEqual(self.agent.get(f"/v1/health/service/{name}-down?passing").json(), [])

    def test_ttl_expiry(self):
        sid = self.register({"Name": self.name(),
                             "Check": {"TTL": "1s", "Status": "passing"}})
        cid = f"service:{sid}"
        self.assertEqual(self.agent_checks()[cid]["Status"], "passing")
        self.wait_check(cid, "critical", timeout_s=6.0, output="TTL expired")
        remote = self.catalog_check(sid, cid)
        self.assertEqual((remote["Status"], remote["Output"]), ("critical", "TTL expired"))

        self.put_ok(f"/v1/agent/check/pass/{cid}?note=alive")
        passed_at = time.monotonic()
        self.assertEqual(self.catalog_check(sid, cid)["Status"], "passing")
        self.wait_check(cid, "critical", timeout_s=6.0,
                        output="TTL expired (last output before timeout follows): alive")
        self.assertGreaterEqual(time.monotonic() - passed_at, 0.9, "expired before its TTL")
        self.assertEqual(self.catalog_check(sid, cid)["Output"],
                         "TTL expired (last output before timeout follows): alive")

    def test_ttl_updates_restart_the_ttl(self):
        sid = self.register({"Name": self.name(), "Check": {"TTL": "2s"}})
        cid = f"service:{sid}"
        for i in range(8):  # 4 s of updates every 0.5 s: twice the TTL
            self.put_ok(f"/v1/agent/check/pass/{cid}?note=beat-{i}")
            time.sleep(0.5)
            check = self.agent_checks()[cid]
            self.assertEqual((check["Status"], check["Output"]), ("passing", f"beat-{i}"))
        self.wait_check(cid, "critical", timeout_s=6.0,
                        output="TTL expired (last output before timeout follows): beat-7")

    def test_script_checks_are_refused(self):
        name = self.name()
        resp = self.agent.put("/v1/agent/service/register", body={
            "Name": name, "Check": {"Args": ["/bin/true"], "Interval": "1s"}})
        self.assertStatus(resp, 500)
        self.assertTrue(resp.text.startswith("Scripts are disabled on this agent"), resp.text)
        self.assertNotIn(name, self.agent.get("/v1/agent/services").json())
        self.assertEqual(self.agent.get(f"/v1/catalog/service/{name}").json(), [])
        resp = self.agent.put("/v1/agent/check/register", body={
            "Name": name, "ScriptArgs": ["/bin/true"], "Interval": "1s"})
        self.assertStatus(resp, 500)
        self.assertTrue(resp.text.startswith("Scripts are disabled on this agent"), resp.text)
        self.assertNotIn(name, self.agent_checks())

    def test_output_only_change_is_deferred_to_the_catalog(self):
        sid = self.register({"Name": self.name(), "Check": {"TTL": "30s"}})
        cid = f"service:{sid}"
        self.put_ok(f"/v1/agent/check/pass/{cid}?note=one")
        self.assertEqual(self.catalog_check(sid, cid)["Output"], "one")
        self.put_ok(f"/v1/agent/check/pass/{cid}?note=two")
        self.assertEqual(self.agent_checks()[cid]["Output"], "two")
        time.sleep(1.0)
        remote = self.catalog_check(sid, cid)
        self.assertEqual((remote["Status"], remote["Output"]), ("passing", "one"),
                         "an output-only change waits for check_update_interval (5m)")
        # The next status change carries the latest output with it.
        self.put_ok(f"/v1/agent/check/warn/{cid}?note=three")
        remote = self.catalog_check(sid, cid)
        self.assertEqual((remote["Status"], remote["Output"]), ("warning", "three"))

    def test_session_invalidated_by_agent_check(self):
        sid = self.register({"Name": self.name(),
                             "Check": {"TTL": "30s", "Status": "passing"}})
        cid = f"service:{sid}"
        bodies = [("ServiceChecks", {"ServiceChecks": [{"ID": cid}]}),
                  ("legacy Checks", {"Checks": ["serfHealth", cid]})]
        for label, body in bodies:
            with self.subTest(label):
                self.put_ok(f"/v1/agent/check/pass/{cid}")
                session = self.agent.session_create(body)
                self.addCleanup(self.agent.put, f"/v1/session/destroy/{session}")
                key = self.prefix + label.replace(" ", "-")
                resp = self.agent.kv_put(key, b"held", {"acquire": session})
                self.assertJSON(resp, True)
                self.assertEqual(self.agent.kv_entry(key)["Session"], session)

                self.put_ok(f"/v1/agent/check/fail/{cid}?note=gone")
                info = self.agent.get(f"/v1/session/info/{session}")
                self.assertJSON(info, [])
                entry = self.agent.kv_entry(key)
                self.assertNotIn("Session", entry, "the lock was not released")
                self.assertEqual(entry["LockIndex"], 1)

        # A session cannot be created on a critical check.
        resp = self.agent.put("/v1/session/create", body={"ServiceChecks": [{"ID": cid}]})
        self.assertStatus(resp, 500)
        self.assertIn(f"Check '{cid}' is in critical state", resp.text)

    def test_blocking_health_query_wakes_on_ttl_pass(self):
        name = self.name()
        sid = self.register({"Name": name, "Check": {"TTL": "30s"}})
        first = self.agent.get(f"/v1/health/service/{name}")
        self.assertStatus(first, 200)
        index = first.index
        self.assertEqual(first.json()[0]["Checks"][1]["Status"], "critical")
        passing_first = self.agent.get(f"/v1/health/service/{name}?passing")
        self.assertEqual(passing_first.json(), [])

        call = BackgroundCall(self.agent.get,
                              f"/v1/health/service/{name}" +
                              query_string({"index": index, "wait": "5s"}))
        passing_call = BackgroundCall(self.agent.get,
                                      f"/v1/health/service/{name}?passing" +
                                      f"&index={passing_first.index}&wait=5s")
        time.sleep(0.5)
        self.assertFalse(call.done(), "returned before anything changed")
        self.put_ok(f"/v1/agent/check/pass/service:{sid}?note=up")
        resp = call.join(10.0)
        self.assertStatus(resp, 200)
        self.assertLess(call.elapsed, 4.0, "did not wake on the check change")
        self.assertGreater(resp.index, index)
        check = resp.json()[0]["Checks"][1]
        self.assertEqual((check["CheckID"], check["Status"], check["Output"]),
                         (f"service:{sid}", "passing", "up"))
        resp = passing_call.join(10.0)
        self.assertLess(passing_call.elapsed, 4.0)
        self.assertEqual([e["Service"]["ID"] for e in resp.json()], [sid])


class ScriptCheckTest(CheckTestCase):
    agent_args = ("-enable-script-checks",)

    def test_exit_codes(self):
        name = self.name()
        keys = {0: "Args", 1: "args", 2: "ScriptArgs"}
        for code, key in keys.items():
            self.register({"Name": f"{name}-{code}", "Check": {
                key: ["/bin/sh", "-c", f"echo out{code}; echo err{code} >&2; exit {code}"],
                "Interval": "1s"}})
        for code, status in ((0, "passing"), (1, "warning"), (2, "critical")):
            with self.subTest(code=code):
                check = self.wait_check(f"service:{name}-{code}", status,
                                        output=f"out{code}\nerr{code}\n")
                self.assertEqual(check["Type"], "script")
        for code, status in ((0, "passing"), (1, "warning")):
            remote = self.catalog_check(f"{name}-{code}", f"service:{name}-{code}")
            self.assertEqual((remote["Status"], remote["Output"]),
                             (status, f"out{code}\nerr{code}\n"))

    def test_timeout_kills_the_script(self):
        sid = self.register({"Name": self.name(), "Check": {
            "Args": ["/bin/sleep", "30"], "Interval": "2s", "Timeout": "1s",
            "Status": "passing"}})
        self.wait_check(f"service:{sid}", "critical", timeout_s=8.0,
                        output="Timed out (1s) running check")

    def test_output_is_capped_at_4k_keeping_the_tail(self):
        sid = self.register({"Name": self.name(), "Check": {
            "Args": ["/bin/sh", "-c", "head -c 9000 /dev/zero | tr '\\0' a; printf END"],
            "Interval": "1s"}})
        tail = "a" * (4096 - 3) + "END"
        self.wait_check(f"service:{sid}", "passing",
                        output=f"Captured 4096 of 9003 bytes\n...\n{tail}")

    def test_check_register_script(self):
        cid = self.name()
        resp = self.agent.put("/v1/agent/check/register", body={
            "ID": cid, "Name": cid, "Args": ["/bin/sh", "-c", "echo fine"],
            "Interval": "1s"})
        self.assertStatus(resp, 200)
        self.addCleanup(self.agent.put, f"/v1/agent/check/deregister/{cid}")
        self.wait_check(cid, "passing", output="fine\n")
        remote = [c for c in self.agent.get(f"/v1/health/node/{NODE}").json()
                  if c["CheckID"] == cid]
        self.assertEqual([(c["Status"], c["Output"]) for c in remote], [("passing", "fine\n")])


class ScriptCheckConfigKeyTest(CheckTestCase):

    @classmethod
    def setUpClass(cls):
        cls.agent_args = write_config(cls, {"enable_script_checks": True})
        super().setUpClass()

    def test_enable_script_checks_from_config_file(self):
        sid = self.register({"Name": self.name(),
                             "Check": {"Args": ["/bin/sh", "-c", "exit 1"], "Interval": "1s"}})
        self.wait_check(f"service:{sid}", "warning", output="")


class ReapCriticalServicesTest(CheckTestCase):

    @classmethod
    def setUpClass(cls):
        cls.agent_args = write_config(cls, {"check_deregister_interval_min": "1s",
                                            "check_reap_interval": "1s"})
        super().setUpClass()

    def test_deregister_critical_service_after(self):
        name = self.name()
        doomed = self.register({"Name": name + "-doomed", "Tags": ["x"], "Check": {
            "TTL": "30s", "DeregisterCriticalServiceAfter": "1s"}})
        kept = self.register({"Name": name + "-kept", "Check": {
            "TTL": "30s", "Status": "passing", "DeregisterCriticalServiceAfter": "1s"}})
        plain = self.register({"Name": name + "-plain", "Check": {"TTL": "30s"}})
        registered = time.monotonic()

        self.wait_gone(doomed, timeout_s=10.0)
        self.assertGreaterEqual(time.monotonic() - registered, 0.9,
                                "reaped before it had been critical for 1s")
        self.assertEqual(self.agent.get(f"/v1/catalog/service/{name}-doomed").json(), [])
        self.assertIsNone(self.catalog_check(name + "-doomed", f"service:{doomed}"))
        self.assertNotIn(f"service:{doomed}", self.agent_checks())

        time.sleep(2.5)  # more than the deregister and reap intervals together
        services = self.agent.get("/v1/agent/services").json()
        self.assertIn(kept, services, "a passing service was reaped")
        self.assertIn(plain, services, "a service without DeregisterCriticalServiceAfter "
                                       "was reaped")

        self.put_ok(f"/v1/agent/check/fail/service:{kept}")
        self.wait_gone(kept, timeout_s=10.0)
        self.assertEqual(self.agent.get(f"/v1/catalog/service/{name}-kept").json(), [])
        self.assertIn(plain, self.agent.get("/v1/agent/services").json())

    def test_passing_again_in_time_saves_the_service(self):
        sid = self.register({"Name": self.name(), "Check": {
            "TTL": "30s", "Status": "passing", "DeregisterCriticalServiceAfter": "3s"}})
        cid = f"service:{sid}"
        self.put_ok(f"/v1/agent/check/fail/{cid}")
        time.sleep(1.0)
        self.put_ok(f"/v1/agent/check/pass/{cid}")
        time.sleep(4.0)  # past the deregister time counted from the failure
        self.assertIn(sid, self.agent.get("/v1/agent/services").json())


class ImmediateOutputSyncTest(CheckTestCase):

    @classmethod
    def setUpClass(cls):
        cls.agent_args = write_config(cls, {"check_update_interval": "0s"})
        super().setUpClass()

    def test_every_output_change_reaches_the_catalog(self):
        name = self.name()
        sid = self.register({"Name": name, "Check": {"TTL": "30s"}})
        cid = f"service:{sid}"
        for note in ("one", "two", "three"):
            self.put_ok(f"/v1/agent/check/pass/{cid}?note={note}")
            remote = self.catalog_check(sid, cid)
            self.assertEqual((remote["Status"], remote["Output"]), ("passing", note))
        entry = self.agent.get(f"/v1/health/service/{name}").json()[0]
        self.assertEqual(entry["Checks"][1]["Output"], "three")


if __name__ == "__main__":
    unittest.main()
