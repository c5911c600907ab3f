"""Status, agent/self, common headers, error handling, unknown endpoints, and the agent
process contract (startup banner, ephemeral port, graceful shutdown on SIGTERM).

Facts from Consul's api-docs/status, api-docs/agent (Read Configuration), and
agent/http.go (setMeta: X-Consul-Index, X-Consul-KnownLeader, X-Consul-LastContact).
Consul's /v1/agent/self "Config" holds Datacenter, PrimaryDatacenter, NodeName, NodeID,
Revision, Server, Version (and BuildDate); tunables such as SessionTTLMin are only in
"DebugConfig" (the sanitized runtime config), so that is where this suite looks.
"""

import http.client
import os
import signal
import subprocess
import tempfile
import json
import re
import socket
import threading
import time
import unittest

from proconsul import Agent, AgentTestCase, binary_path, kv_path, unb64

ADDR_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}:\d+$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class StatusAndSelfTest(AgentTestCase):

    def test_status_leader(self):
        resp = self.agent.get("/v1/status/leader")
        self.assertStatus(resp, 200)
        self.assertIn("application/json", resp.header("Content-Type", ""))
        leader = resp.json()
        self.assertIsInstance(leader, str)
        self.assertRegex(leader, ADDR_RE)
        # The body is a JSON string, quotes included.
        self.assertTrue(resp.text.strip().startswith('"'), resp.text)

    def test_status_peers(self):
        resp = self.agent.get("/v1/status/peers")
        self.assertStatus(resp, 200)
        peers = resp.json()
        self.assertIsInstance(peers, list)
        self.assertEqual(len(peers), 1, "a -dev agent is a one-server cluster")
        for peer in peers:
            self.assertRegex(peer, ADDR_RE)
        self.assertIn(self.agent.get("/v1/status/leader").json(), peers)

    def test_agent_self(self):
        resp = self.agent.get("/v1/agent/self")
        self.assertStatus(resp, 200)
        body = resp.json()
        for section in ("Config", "DebugConfig", "Member", "Stats"):
            self.assertIn(section, body)
        config = body["Config"]
        for field in ("Datacenter", "NodeName", "NodeID", "Revision", "Server", "Version"):
            self.assertIn(field, config)
        self.assertEqual(config["Datacenter"], "dc1")
        self.assertEqual(config["NodeName"], "test-node")
        self.assertIs(config["Server"], True)
        self.assertRegex(config["NodeID"], UUID_RE)
        self.assertRegex(config["Version"], r"^\d+\.\d+\.\d+")
        # Consul reports SessionTTLMin in DebugConfig as a Go duration string.
        debug = body["DebugConfig"]
        self.assertIn("SessionTTLMin", debug)
        self.assertIsInstance(debug["SessionTTLMin"], str)
        self.assertEqual(body["Member"]["Name"], "test-node")
        self.assertIsInstance(body["Stats"], dict)

    def test_node_id_is_stable(self):
        a = self.agent.get("/v1/agent/self").json()["Config"]["NodeID"]
        b = self.agent.get("/v1/agent/self").json()["Config"]["NodeID"]
        self.assertEqual(a, b)


class HeadersTest(AgentTestCase):

    def test_default_acl_policy_header_everywhere(self):
        self.agent.kv_put(self.prefix + "k", b"v")
        paths = ["/v1/status/leader", "/v1/status/peers", "/v1/agent/self",
                 kv_path(self.prefix + "k"), kv_path(self.prefix + "missing"),
                 "/v1/session/list"]
        for path in paths:
            resp = self.agent.get(path)
            policy = resp.header("X-Consul-Default-ACL-Policy")
            self.assertIn(policy, ("allow", "deny"), f"{path}: {dict(resp.headers)}")
        resp = self.agent.kv_put(self.prefix + "k2", b"v")
        self.assertIn(resp.header("X-Consul-Default-ACL-Policy"), ("allow", "deny"))

    def test_blocking_reads_carry_query_meta(self):
        self.agent.kv_put(self.prefix + "k", b"v")
        for path in (kv_path(self.prefix + "k"), kv_path(self.prefix, {"recurse": None}),
                     kv_path(self.prefix, {"keys": None}), kv_path(self.prefix + "nope"),
                     "/v1/session/list", "/v1/session/node/test-node",
                     "/v1/session/info/00000000-0000-0000-0000-000000000000"):
            resp = self.agent.get(path)
            self.assertGreaterEqual(resp.index, 1, path)
            self.assertEqual(resp.header("X-Consul-KnownLeader"), "true", path)
            self.assertRegex(resp.header("X-Consul-LastContact", ""), r"^\d+$", path)

    def test_keep_alive_connection_serves_many_requests(self):
        # python-consul (requests) reuses one connection; so do most Consul clients.
        conn = http.client.HTTPConnection("127.0.0.1", self.agent.port, timeout=10)
        try:
            for i in range(5):
                conn.request("PUT", kv_path(self.prefix + f"k{i}"), body=f"v{i}".encode())
                resp = conn.getresponse()
                self.assertEqual((resp.status, json.loads(resp.read())), (200, True))
                conn.request("GET", kv_path(self.prefix + f"k{i}"))
                resp = conn.getresponse()
                body = json.loads(resp.read())
                self.assertEqual(unb64(body[0]["Value"]), f"v{i}".encode())
        finally:
            conn.close()

    def test_unknown_query_parameters_are_ignored(self):
        self.agent.kv_put(self.prefix + "k", b"v")
        resp = self.agent.kv_get(self.prefix + "k", {"frobnicate": "1", "dc": "dc1"})
        self.assertStatus(resp, 200)


class HttpProtocolTest(AgentTestCase):
    """HTTP/1.1 details that real clients rely on (curl's Expect: 100-continue, chunked
    bodies from streaming clients, pipelining)."""

    def raw_exchange(self, payload, read_timeout=5.0):
        """Writes payload (ending in a `Connection: close` request) and reads until the agent
        closes. Reading runs concurrently with writing, so a response sent before the whole
        payload is consumed (e.g. an early 413) is still seen."""
        with socket.create_connection(("127.0.0.1", self.agent.port), timeout=read_timeout) as s:
            chunks = []

            def reader():
                try:
                    while True:
                        data = s.recv(65536)
                        if not data:
                            return
                        chunks.append(data)
                except OSError:  # reset after an early reply, or timeout
                    return

            thread = threading.Thread(target=reader)
            thread.start()
            try:
                s.sendall(payload)
            except OSError:
                pass
            thread.join(read_timeout + 1.0)
            return b"".join(chunks)

    def test_expect_100_continue(self):
        key = self.prefix + "expect"
        body = b"e" * 4096
        with socket.create_connection(("127.0.0.1", self.agent.port), timeout=5) as s:
            s.sendall(f"PUT {kv_path(key)} HTTP/1.1\r\nHost: x\r\n"
                      f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
            interim = s.recv(4096)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            s.sendall(body)
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"true"):
                data = s.recv(4096)
                if not data:
                    break
                reply += data
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, body)

    def test_chunked_request_body(self):
        key = self.prefix + "chunked"
        head = (f"PUT {kv_path(key)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "Connection: close\r\n\r\n").encode()
        reply = self.raw_exchange(head + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:300])
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, b"hello world")

    def test_chunked_body_over_value_limit_is_413(self):
        key = self.prefix + "chunked-big"
        head = (f"PUT {kv_path(key)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "Connection: close\r\n\r\n").encode()
        chunk = b"c" * 65536
        body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 9 + b"0\r\n\r\n"
        reply = self.raw_exchange(head + body)
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:300])
        self.assertIsNone(self.agent.kv_entry(key))

    def test_pipelined_requests_answered_in_order(self):
        p = self.prefix
        self.agent.kv_put(p + "a", b"A")
        self.agent.kv_put(p + "b", b"B")
        reqs = b"".join(f"GET {kv_path(p + k, {'raw': None})} HTTP/1.1\r\nHost: x\r\n\r\n"
                        .encode() for k in ("a", "b"))
        reqs += f"GET {kv_path(p + 'a', {'raw': None})} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        reply = self.raw_exchange(reqs)
        self.assertEqual(reply.count(b"HTTP/1.1 200"), 3, reply)
        bodies = [part.split(b"\r\n\r\n", 1)[1][:1] for part in reply.split(b"HTTP/1.1 ")[1:]]
        self.assertEqual(bodies, [b"A", b"B", b"A"])

    def test_unknown_datacenter(self):
        # Consul: structs.ErrNoDCPath, returned as a 500.
        resp = self.agent.kv_get(self.prefix + "k", {"dc": "no-such-dc"})
        self.assertStatus(resp, 500)
        self.assertIn("No path to datacenter", resp.text)


class ErrorsTest(AgentTestCase):

    def test_unknown_endpoints_are_404(self):
        for method, path in (("GET", "/v1/no-such-endpoint"), ("GET", "/v2/kv/x"),
                             ("PUT", "/v1/kvv/x"), ("GET", "/v1/status/nope"),
                             ("GET", "/nothing")):
            resp = self.agent.request(method, path)
            self.assertStatus(resp, 404, f"{method} {path}")
        self.assertTrue(self.agent.alive())

    def test_wrong_method_is_405(self):
        for method, path in (("PUT", "/v1/session/list"), ("GET", "/v1/session/destroy/x"),
                             ("GET", "/v1/session/renew/x"), ("DELETE", "/v1/txn")):
            resp = self.agent.request(method, path)
            self.assertStatus(resp, 405, f"{method} {path}")

    def test_garbage_requests_do_not_hurt_the_agent(self):
        payloads = [b"GARBAGE\r\n\r\n", b"GET /v1/status/leader HTTP/9.9\r\n\r\n",
                    b"GET " + b"/" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"PUT /v1/kv/x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                    b"\x00\xff" * 100]
        for payload in payloads:
            with socket.create_connection(("127.0.0.1", self.agent.port), timeout=5) as sock:
                try:
                    sock.sendall(payload)
                    sock.shutdown(socket.SHUT_WR)
                    while sock.recv(65536):
                        pass
                except (ConnectionResetError, BrokenPipeError, socket.timeout):
                    pass
        self.assertTrue(self.agent.alive(), self.agent.output_tail())
        self.assertStatus(self.agent.get("/v1/status/leader"), 200)
        # A client that stalls mid-request does not block others.
        stalled = socket.create_connection(("127.0.0.1", self.agent.port), timeout=5)
        try:
            stalled.sendall(b"PUT /v1/kv/stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            start = time.monotonic()
            self.assertStatus(self.agent.get("/v1/status/leader"), 200)
            self.assertLess(time.monotonic() - start, 5.0)
        finally:
            stalled.close()
        self.assertIsNone(self.agent.kv_entry("stall"))

    def test_concurrent_writes_are_all_acknowledged_and_visible(self):
        results, lock = {}, threading.Lock()

        def writer(i):
            resp = self.agent.kv_put(self.prefix + f"c{i:03d}", f"{i}".encode())
            with lock:
                results[i] = (resp.status, resp.json())

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(results), 50)
        self.assertTrue(all(r == (200, True) for r in results.values()), results)
        entries = self.agent.kv_get(self.prefix, {"recurse": None}).json()
        self.assertEqual(len(entries), 50)
        self.assertEqual(len({e["ModifyIndex"] for e in entries}), 50,
                         "each acknowledged write has its own index")


class ProcessTest(unittest.TestCase):
    """The process contract, on agents of its own."""

    def start_agent(self, **kwargs):
        agent = Agent(**kwargs)
        self.addCleanup(agent.stop)
        agent.start()
        return agent

    def test_banner_and_ephemeral_ports(self):
        a = self.start_agent(node="node-a")
        b = self.start_agent(node="node-b")
        self.assertNotEqual(a.port, b.port)
        for agent, name in ((a, "node-a"), (b, "node-b")):
            lines = agent.output()
            self.assertTrue(any("Client Addr:" in line for line in lines))
            self.assertEqual(agent.get("/v1/agent/self").json()["Config"]["NodeName"], name)
        # The two in-memory servers share nothing.
        a.kv_put("only-in-a", b"1")
        self.assertIsNone(b.kv_entry("only-in-a"))

    def test_sigterm_exits_zero_and_closes_port(self):
        agent = self.start_agent()
        self.assertEqual(agent.kv_put("k", b"v").json(), True)
        port = agent.port
        start = time.monotonic()
        agent.stop_checked()
        self.assertLess(time.monotonic() - start, 5.0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()

    def test_sigterm_with_parked_blocking_queries(self):
        agent = self.start_agent()
        agent.kv_put("k", b"v")
        idx = agent.kv_get("k").index
        errors = []

        def park():
            try:
                agent.kv_get("k", {"index": idx, "wait": "5m"}, timeout=30)
            except AssertionError as err:  # connection closed by shutdown: expected
                errors.append(err)

        threads = [threading.Thread(target=park, daemon=True) for _ in range(10)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        agent.stop_checked()
        for t in threads:
            t.join(10)
            self.assertFalse(t.is_alive(), "a parked query outlived the agent")

    def test_sighup_reloads_the_log_level(self):
        # Consul reloads log_level from its config files on SIGHUP; the agent keeps serving.
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "agent.json")
            with open(config, "w") as f:
                json.dump({"log_level": "debug"}, f)
            # Flags outrank files, so this agent takes its level from the file alone.
            agent = Agent(extra_args=["-config-file", config, "-log-json"])
            args = agent.command()
            i = args.index("-log-level")
            del args[i:i + 2]
            agent.command = lambda: args
            self.addCleanup(agent.stop)
            agent.start()
            with open(config, "w") as f:
                json.dump({"log_level": "error"}, f)
            agent.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if any("reloading configuration" in line for line in agent.output()):
                    break
                time.sleep(0.05)
            else:
                self.fail("no reload logged after SIGHUP")
            self.assertEqual(agent.kv_put("after-reload", b"v").json(), True)
            # JSON log lines carry Consul's keys.
            records = [json.loads(line) for line in agent.output() if line.startswith("{")]
            self.assertTrue(records, "no JSON log lines")
            for record in records:
                self.assertEqual(set(record), {"@level", "@message", "@module", "@timestamp"})
            # At level error, the shutdown's info lines are no longer written.
            before = len(agent.output())
            agent.stop_checked()
            after = [line for line in agent.output()[before:] if "Gracefully shutting down" in line]
            self.assertEqual(after, [])

    def test_bad_config_is_refused_naming_key_and_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "bad.json")
            with open(config, "w") as f:
                json.dump({"datacentre": "east"}, f)
            proc = subprocess.run([binary_path(), "agent", "-dev", "-config-file", config],
                                  capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 1)
            self.assertIn(config, proc.stderr)
            self.assertIn('unknown key "datacentre"', proc.stderr)


if __name__ == "__main__":
    unittest.main()
