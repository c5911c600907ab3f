"""python3-consul 0.7.1's Agent API (and the Health/Catalog reads an application makes after
it), unchanged, against Proconsul's /v1/agent.

What the client sends, from consul/base.py: service and check registrations with lower-case
JSON keys ("name", "id", "port", "tags", "check": {"ttl"|"http"|"tcp", "interval", ...},
"serviceid", "notes"); GET for service/check deregistration and for ttl_pass/ttl_warn/ttl_fail
(?note=), as Consul accepted before 1.0; PUT for maintenance with ?enable=True/False (Python's
str(bool), which Go's ParseBool accepts). CB.bool turns 200 into True, 404 into False, 400
into BadRequest and 5xx into ConsulException; the health and catalog reads return
(X-Consul-Index, data). consul.Check.script sends the "script" field that Consul removed in
1.1, so such a registration is refused with a 400.
"""

import http.server
import socket
import sys
import threading
import time
import unittest

try:
    import consul
    import consul.base
except ImportError as err:  # fail loudly: a missing client must never look like a pass
    sys.exit(f"FAIL: python3-consul is not installed ({err}); scripts/setup installs it "
             "(Debian package python3-consul)")

from proconsul import AgentTestCase, BackgroundCall

NODE = "test-node"


class OkServer:
    """A local HTTP server answering 200 "ok" to everything, for an HTTP check."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class PythonConsulAgentTest(AgentTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = consul.Consul(host="127.0.0.1", port=cls.agent.port)
        cls.addClassCleanup(cls.c.http.session.close)

    def client(self):
        c = consul.Consul(host="127.0.0.1", port=self.agent.port)
        self.addCleanup(c.http.session.close)
        return c

    def name(self, suffix=""):
        return self._testMethodName.replace("_", "-") + suffix

    def register(self, name, **kwargs):
        self.assertIs(self.c.agent.service.register(name, **kwargs), True)
        sid = kwargs.get("service_id") or name
        self.addCleanup(self.c.agent.service.deregister, sid)
        return sid

    def wait_status(self, check_id, status, timeout_s=8.0):
        deadline = time.monotonic() + timeout_s
        while True:
            check = self.c.agent.checks().get(check_id)
            if check and check["Status"] == status:
                return check
            if time.monotonic() >= deadline:
                self.fail(f"{check_id} not {status} after {timeout_s}s: {check!r}")
            time.sleep(0.1)

    def test_members_and_self(self):
        members = self.c.agent.members()
        self.assertEqual([m["Name"] for m in members], [NODE])
        self.assertEqual(members[0]["Status"], 1)
        wan = self.c.agent.members(wan=True)
        self.assertEqual([m["Name"] for m in wan], [f"{NODE}.dc1"])
        self.assertEqual(wan[0]["Port"], self.agent.serf_wan_port)
        self.assertEqual(self.c.catalog.datacenters(), ["dc1"])
        # Joining a port nobody listens on, and force-leaving an unknown node: Consul's 500s,
        # which the client raises.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        with self.assertRaises(consul.base.ConsulException):
            self.c.agent.join(f"127.0.0.1:{closed}", wan=True)
        with self.assertRaises(consul.base.ConsulException):
            self.c.agent.force_leave("ghost")
        me = self.c.agent.self()
        self.assertEqual(me["Config"]["NodeName"], NODE)
        self.assertEqual(me["Member"]["Name"], NODE)

    def test_ttl_service_lifecycle(self):
        name = self.name()
        sid = self.register(name, service_id=name + "-1", address="web.internal", port=8080,
                            tags=["a", "b"], check=consul.Check.ttl("30s"))
        cid = f"service:{sid}"

        svc = self.c.agent.services()[sid]
        self.assertEqual(svc["Service"], name)
        self.assertEqual(svc["Tags"], ["a", "b"])
        self.assertEqual(svc["Address"], "web.internal")
        self.assertEqual(svc["Port"], 8080)
        self.assertEqual(svc["Weights"], {"Passing": 1, "Warning": 1})
        self.assertIs(svc["EnableTagOverride"], False)
        check = self.c.agent.checks()[cid]
        self.assertEqual((check["Status"], check["ServiceID"], check["ServiceName"],
                          check["Name"]),
                         ("critical", sid, name, f"Service '{name}' check"))

        index, nodes = self.c.catalog.service(name)
        self.assertGreater(int(index), 0)
        self.assertEqual([(n["Node"], n["ServiceID"], n["ServicePort"]) for n in nodes],
                         [(NODE, sid, 8080)])
        self.assertEqual(self.c.health.service(name, passing=True)[1], [])

        self.assertIs(self.c.agent.check.ttl_pass(cid, "all good"), True)
        _, entries = self.c.health.service(name, passing=True)
        self.assertEqual([e["Service"]["ID"] for e in entries], [sid])
        svc_check = [c for c in entries[0]["Checks"] if c["CheckID"] == cid][0]
        self.assertEqual((svc_check["Status"], svc_check["Output"]), ("passing", "all good"))

        self.assertIs(self.c.agent.check.ttl_warn(cid, "slow"), True)
        self.assertEqual(self.c.health.service(name, passing=True)[1], [])
        _, checks = self.c.health.checks(name)
        self.assertEqual([(c["CheckID"], c["Status"], c["Output"]) for c in checks],
                         [(cid, "warning", "slow")])
        _, warning = self.c.health.state("warning")
        self.assertIn(cid, [c["CheckID"] for c in warning])

        self.assertIs(self.c.agent.check.ttl_fail(cid, "down"), True)
        _, critical = self.c.health.state("critical")
        self.assertIn((cid, "down"), [(c["CheckID"], c["Output"]) for c in critical])
        _, any_state = self.c.health.state("any")
        self.assertIn("serfHealth", [c["CheckID"] for c in any_state])

        _, node_checks = self.c.health.node(NODE)
        by_id = {c["CheckID"]: c for c in node_checks}
        self.assertEqual(by_id["serfHealth"]["Status"], "passing")
        self.assertEqual(by_id[cid]["Status"], "critical")

        self.assertIs(self.c.agent.service.deregister(sid), True)
        self.assertNotIn(sid, self.c.agent.services())
        self.assertNotIn(cid, self.c.agent.checks())
        self.assertEqual(self.c.catalog.service(name)[1], [])
        # Unknown now: 404, which CB.bool reports as False.
        self.assertIs(self.c.agent.service.deregister(sid), False)

    def test_blocking_health_service_in_a_thread(self):
        name = self.name()
        sid = self.register(name, check=consul.Check.ttl("30s"))
        index, entries = self.c.health.service(name)
        self.assertEqual(len(entries), 1)
        watcher = self.client()
        call = BackgroundCall(watcher.health.service, name, index=index, wait="10s")
        time.sleep(0.5)
        self.assertFalse(call.done(), "the blocking query returned before any change")
        writer = threading.Thread(target=self.c.agent.check.ttl_pass, args=(f"service:{sid}",))
        writer.start()
        writer.join(10)
        new_index, entries = call.join(15.0)
        self.assertLess(call.elapsed, 5.0)
        self.assertGreater(int(new_index), int(index))
        statuses = {c["CheckID"]: c["Status"] for c in entries[0]["Checks"]}
        self.assertEqual(statuses[f"service:{sid}"], "passing")

    def test_http_and_tcp_checks(self):
        server = OkServer()
        self.addCleanup(server.close)
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        name = self.name()
        http_sid = self.register(name + "-http", check=consul.Check.http(
            f"http://127.0.0.1:{server.port}/health", "1s", timeout="2s"))
        tcp_sid = self.register(name + "-tcp", check=consul.Check.tcp(
            "127.0.0.1", listener.getsockname()[1], "1s"))
        check = self.wait_status(f"service:{http_sid}", "passing")
        self.assertEqual(check["Output"],
                         f"HTTP GET http://127.0.0.1:{server.port}/health: 200 OK Output: ok")
        check = self.wait_status(f"service:{tcp_sid}", "passing")
        self.assertEqual(check["Output"],
                         f"TCP connect 127.0.0.1:{listener.getsockname()[1]}: Success")
        # A check result reaches the catalog through the agent's next sync pass, a moment
        # after the agent shows it (as in Consul): poll, bounded.
        for sid in (http_sid, tcp_sid):
            deadline = time.monotonic() + 5
            while True:
                _, entries = self.c.health.service(sid, passing=True)
                if entries or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            self.assertEqual([e["Service"]["ID"] for e in entries], [sid])

    def test_check_register_and_deregister(self):
        name = self.name()
        sid = self.register(name, port=80)
        self.assertIs(self.c.agent.check.register(
            "disk", check=consul.Check.ttl("30s"), check_id=name + "-disk", notes="disk use",
            service_id=sid), True)
        check = self.c.agent.checks()[name + "-disk"]
        self.assertEqual((check["Name"], check["Notes"], check["ServiceID"], check["Status"]),
                         ("disk", "disk use", sid, "critical"))
        self.assertIs(self.c.agent.check.ttl_pass(name + "-disk"), True)
        _, checks = self.c.health.checks(name)
        self.assertEqual([(c["CheckID"], c["Status"]) for c in checks],
                         [(name + "-disk", "passing")])

        # A node-level check: no service_id, the ID defaults to the name.
        node_check = name + "-node"
        self.assertIs(self.c.agent.check.register(node_check, check=consul.Check.ttl("30s")),
                      True)
        _, node_checks = self.c.health.node(NODE)
        self.assertIn(node_check, [c["CheckID"] for c in node_checks])

        self.assertIs(self.c.agent.check.deregister(name + "-disk"), True)
        self.assertIs(self.c.agent.check.deregister(node_check), True)
        self.assertNotIn(name + "-disk", self.c.agent.checks())
        self.assertNotIn(node_check, [c["CheckID"] for c in self.c.health.node(NODE)[1]])
        self.assertEqual(self.c.health.checks(name)[1], [])

    def test_errors_surface_as_client_exceptions(self):
        # An unknown check is Consul's 404, which python-consul's CB.bool() reports as False.
        self.assertIs(self.c.agent.check.ttl_pass("no-such-check"), False)
        # consul.Check.script sends "script", which Consul 1.1 and later refuse.
        with self.assertRaises(consul.base.BadRequest):
            self.c.agent.service.register(self.name(),
                                          check=consul.Check.script("/bin/true", "10s"))
        self.assertNotIn(self.name(), self.c.agent.services())
        with self.assertRaises(consul.base.BadRequest):
            self.c.agent.check.register(self.name(), check={"ttl": "10s", "status": "bad"})

    def test_maintenance(self):
        name = self.name()
        sid = self.register(name, check=consul.Check.ttl("30s"))
        self.assertIs(self.c.agent.check.ttl_pass(f"service:{sid}"), True)
        self.assertEqual(len(self.c.health.service(name, passing=True)[1]), 1)

        self.addCleanup(self.c.agent.maintenance, False)
        self.assertIs(self.c.agent.maintenance(True, "upgrade"), True)
        by_id = {c["CheckID"]: c for c in self.c.health.node(NODE)[1]}
        self.assertEqual((by_id["_node_maintenance"]["Status"],
                          by_id["_node_maintenance"]["Notes"]), ("critical", "upgrade"))
        self.assertEqual(self.c.health.service(name, passing=True)[1], [])
        self.assertIs(self.c.agent.maintenance(False), True)
        self.assertNotIn("_node_maintenance",
                         [c["CheckID"] for c in self.c.health.node(NODE)[1]])
        self.assertEqual(len(self.c.health.service(name, passing=True)[1]), 1)

        self.assertIs(self.c.agent.service.maintenance(sid, "true", "draining"), True)
        checks = {c["CheckID"]: c for c in self.c.health.checks(name)[1]}
        maint = checks[f"_service_maintenance:{sid}"]
        self.assertEqual((maint["Status"], maint["Notes"], maint["ServiceID"]),
                         ("critical", "draining", sid))
        self.assertEqual(self.c.health.service(name, passing=True)[1], [])
        self.assertIs(self.c.agent.service.maintenance(sid, "false"), True)
        self.assertEqual(len(self.c.health.service(name, passing=True)[1]), 1)


if __name__ == "__main__":
    unittest.main()
