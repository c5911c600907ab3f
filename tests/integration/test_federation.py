"""Two datacenters on loopback: ?dc= forwarding of HTTP and DNS between them.

What Consul promises and this checks: a server sends a request whose ?dc= names another
datacenter to a server of that datacenter, found in the WAN pool, and relays its answer
unchanged: a KV write to dc2 made through dc1 is read back in dc2 and through dc1, and the
same the other way; catalog and health reads, catalog registrations and blocking queries
cross too (a blocking query on dc2 made through dc1 wakes on a write in dc2, X-Consul-Index
relayed); a client agent's ?dc= request goes through its server and on. DNS:
NAME.service.dc2.consul, TAG.NAME.service.dc2.consul, SRV and node lookups asked of a dc1
server, or of a dc1 client agent (through its server), are answered by dc2. An unknown
datacenter is a 500 "No path to datacenter" over HTTP and NXDOMAIN over DNS; with dc2's server
stopped (SIGSTOP, its connections open), a request for dc2 is a clean 500 within seconds;
with it killed, a request for dc2 fails with a clean 500 within the call's bound, and "No path
to datacenter" once gossip finds it failed.

One server per datacenter (bootstrap_expect 1) and one client agent in dc1 keep it fast;
gossip runs with test_gossip.py's fast settings so a killed server is found failed within
seconds.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from proconsul import BackgroundCall, kv_path
from test_client_agent import ClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port
from test_gossip import FAILURE_BOUND_S, GOSSIP_KEY, GOSSIP_LAN as FAST_GOSSIP
from test_tls_agent import make_certificates

# A request for a datacenter whose servers stopped answering: each server tried is dropped
# once its connection has been silent for 2 s (wan_dc_caller.h), far below the 30 s bound.
FROZEN_BOUND_S = 12.0


class DcServer(ServerAgent):
    """The only server of datacenter `dc`: a fixed WAN port, -retry-join-wan addresses and a
    DNS port."""

    def __init__(self, node, dc, data_dir, server_port, config_file, wan_port, wan_joins,
                 dns_port):
        super().__init__(node, data_dir, server_port, [], config_file, bootstrap_expect=1)
        self.dc = dc
        self.serf_wan_port_flag = wan_port
        self.wan_joins = wan_joins
        self.dns_port = dns_port

    def command(self):
        args = super().command()
        args[args.index("-dns-port") + 1] = str(self.dns_port)
        args += ["-datacenter", self.dc]
        for port in self.wan_joins:
            args += ["-retry-join-wan", f"127.0.0.1:{port}"]
        return args


class DcClient(ClientAgent):
    def __init__(self, node, data_dir, servers, config_file, dns_port):
        super().__init__(node, data_dir, servers)
        self.config_file = config_file
        self.dns_port = dns_port

    def command(self):
        args = super().command()
        args[args.index("-dns-port") + 1] = str(self.dns_port)
        return args + ["-config-file", self.config_file]


def dig(port, name, qtype="A", tcp=False):
    """(status, answer lines) of `dig` asking 127.0.0.1:port."""
    args = ["dig", "@127.0.0.1", "-p", str(port), name, qtype, "+time=5", "+tries=1",
            "+noall", "+comments", "+answer"]
    if tcp:
        args.append("+tcp")
    out = subprocess.run(args, capture_output=True, text=True, timeout=30).stdout
    status = ""
    for line in out.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
    answers = [l for l in out.splitlines() if l and not l.startswith(";")]
    return status, answers


class TwoDatacenters(unittest.TestCase):
    """dc1 and dc2, one server each, joined over the WAN (and a client agent in dc1)."""

    @classmethod
    def settings(cls, dc):
        """More agent settings for datacenter `dc`'s agents."""
        return {}

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="pc-federation-")
        configs = {}
        for dc in ("dc1", "dc2"):
            configs[dc] = os.path.join(cls.root, f"{dc}.json")
            with open(configs[dc], "w", encoding="utf-8") as out:
                json.dump({"performance": {"raft_multiplier": 1}, "gossip_lan": FAST_GOSSIP,
                           "gossip_wan": FAST_GOSSIP, "retry_interval_wan": "1s",
                           "encrypt": GOSSIP_KEY, **cls.settings(dc)}, out)
        wan = [free_port(), free_port()]
        cls.dns = [free_port(), free_port(), free_port()]  # dc1's server, dc2's, the client
        cls.agents = []
        try:
            for i, dc in enumerate(("dc1", "dc2")):
                data_dir = os.path.join(cls.root, dc)
                os.makedirs(data_dir)
                server = DcServer(f"s-{dc}", dc, data_dir, free_port(), configs[dc], wan[i],
                                  [wan[1 - i]], cls.dns[i])
                cls.agents.append(server)
                server.start()
            cls.s1, cls.s2 = cls.agents
            client_dir = os.path.join(cls.root, "c1")
            os.makedirs(client_dir)
            cls.client = DcClient("c1", client_dir, [cls.s1.server_port], configs["dc1"],
                                  cls.dns[2])
            cls.agents.append(cls.client)
            cls.client.start()
            for server in (cls.s1, cls.s2):
                cls.wait_for(lambda s=server: s.get("/v1/status/leader").json() != "",
                             f"a leader in {server.dc}")
                # Both datacenters in each server's WAN pool.
                cls.wait_for(lambda s=server: s.get("/v1/catalog/datacenters").json()
                             in (["dc1", "dc2"], ["dc2", "dc1"]), "both datacenters")
            # The servers registered themselves (their "consul" service) in their catalogs.
            for server in (cls.s1, cls.s2):
                cls.wait_for(lambda s=server: s.get("/v1/catalog/node/" + s.node).status == 200,
                             f"{server.node} in its catalog")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for agent in reversed(cls.agents):
            agent.stop()
        shutil.rmtree(cls.root, True)

    @classmethod
    def wait_for(cls, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        logs = "\n".join(a.output_tail(30) for a in cls.agents)
        raise AssertionError(f"no {what} after {timeout_s}s\n{logs}")


class FederationTest(TwoDatacenters):

    def test_kv_write_through_one_datacenter_read_in_both(self):
        resp = self.s1.kv_put("fed/a", b"from-dc1", {"dc": "dc2"})
        self.assertEqual(resp.status, 200, resp.text)
        self.assertEqual(resp.json(), True)
        # In dc2 itself, through dc1, and not in dc1.
        self.assertEqual(self.s2.kv_get("fed/a", {"raw": ""}).body, b"from-dc1")
        through = self.s1.kv_get("fed/a", {"dc": "dc2", "raw": ""})
        self.assertEqual((through.status, through.body), (200, b"from-dc1"))
        self.assertEqual(self.s1.kv_get("fed/a").status, 404)
        # The other way round.
        self.assertEqual(self.s2.kv_put("fed/b", b"from-dc2", {"dc": "dc1"}).status, 200)
        self.assertEqual(self.s1.kv_get("fed/b", {"raw": ""}).body, b"from-dc2")
        self.assertEqual(self.s2.kv_get("fed/b", {"dc": "dc1", "raw": ""}).body, b"from-dc2")
        self.assertEqual(self.s2.kv_get("fed/b").status, 404)
        # The answer is dc2's as it wrote it: its index, its entry.
        direct = self.s2.kv_get("fed/a")
        relayed = self.s1.kv_get("fed/a", {"dc": "dc2"})
        self.assertEqual(relayed.header("X-Consul-Index"), direct.header("X-Consul-Index"))
        self.assertEqual(relayed.json(), direct.json())
        self.assertEqual(relayed.header("X-Consul-KnownLeader"), "true")

    def test_catalog_and_health_reads_and_writes(self):
        reg = {"Node": "ext-dc2", "Address": "10.2.0.7",
               "Service": {"Service": "web", "Tags": ["blue"], "Port": 8080}}
        resp = self.s1.put("/v1/catalog/register?dc=dc2", json.dumps(reg).encode())
        self.assertEqual(resp.status, 200, resp.text)
        nodes = {n["Node"] for n in self.s1.get("/v1/catalog/nodes?dc=dc2").json()}
        self.assertEqual(nodes, {"s-dc2", "ext-dc2"})
        local = {n["Node"] for n in self.s1.get("/v1/catalog/nodes").json()}
        self.assertNotIn("ext-dc2", local)
        web = self.s1.get("/v1/catalog/service/web?dc=dc2").json()
        self.assertEqual([(s["Node"], s["Datacenter"]) for s in web], [("ext-dc2", "dc2")])
        health = self.s1.get("/v1/health/service/consul?dc=dc2").json()
        self.assertEqual([h["Node"]["Node"] for h in health], ["s-dc2"])
        # The agent's own API ignores ?dc=, as Consul's does.
        self.assertEqual(self.s1.get("/v1/agent/self?dc=dc2").json()["Config"]["Datacenter"],
                         "dc1")

    def test_blocking_query_across_datacenters(self):
        self.assertEqual(self.s2.kv_put("fed/block", b"v1").status, 200)
        first = self.s1.kv_get("fed/block", {"dc": "dc2"})
        self.assertEqual(first.status, 200)
        index = first.header("X-Consul-Index")
        call = BackgroundCall(self.s1.kv_get, "fed/block",
                              {"dc": "dc2", "index": index, "wait": "60s"}, timeout=90)
        time.sleep(1.0)
        self.assertFalse(call.done(), "the blocking query returned before any write")
        self.assertEqual(self.s2.kv_put("fed/block", b"v2").status, 200)
        woke = call.join(30)
        self.assertLess(call.elapsed, 30)
        self.assertEqual(woke.status, 200)
        self.assertGreater(int(woke.header("X-Consul-Index")), int(index))
        self.assertEqual(woke.json()[0]["Value"], "djI=")  # base64 of v2

    def test_client_agent_forwards_through_its_server(self):
        self.assertEqual(self.s2.kv_put("fed/client", b"c").status, 200)
        self.wait_for(lambda: self.client.get("/v1/status/leader").status == 200,
                      "the client's server")
        got = self.client.kv_get("fed/client", {"dc": "dc2", "raw": ""})
        self.assertEqual((got.status, got.body), (200, b"c"), got.text)
        self.assertEqual(self.client.kv_put("fed/from-client", b"x", {"dc": "dc2"}).status, 200)
        self.assertEqual(self.s2.kv_get("fed/from-client", {"raw": ""}).body, b"x")
        nope = self.client.kv_get("fed/client", {"dc": "nope"})
        self.assertEqual(nope.status, 500)
        self.assertIn("No path to datacenter", nope.text)

    def test_dns_for_another_datacenter(self):
        reg = {"Node": "dns-dc2", "Address": "10.2.0.9",
               "Service": {"Service": "api", "Tags": ["green"], "Port": 9090}}
        self.assertEqual(self.s2.put("/v1/catalog/register", json.dumps(reg).encode()).status,
                         200)
        dns1 = self.dns[0]
        status, answers = dig(dns1, "api.service.dc2.consul")
        self.assertEqual(status, "NOERROR", answers)
        self.assertEqual([a.split()[-1] for a in answers], ["10.2.0.9"])
        self.assertEqual(dig(dns1, "green.api.service.dc2.consul")[1][0].split()[-1],
                         "10.2.0.9")
        self.assertEqual(dig(dns1, "blue.api.service.dc2.consul")[0], "NXDOMAIN")
        status, srv = dig(dns1, "_api._green.service.dc2.consul", "SRV", tcp=True)
        self.assertEqual(status, "NOERROR")
        self.assertIn("9090", srv[0])
        self.assertEqual(dig(dns1, "dns-dc2.node.dc2.consul")[1][0].split()[-1], "10.2.0.9")
        # Not in dc1's own catalog; an unknown datacenter is NXDOMAIN.
        self.assertEqual(dig(dns1, "api.service.consul")[0], "NXDOMAIN")
        self.assertEqual(dig(dns1, "api.service.nope.consul")[0], "NXDOMAIN")
        # A dc1 client agent's DNS asks its server, which asks dc2.
        self.wait_for(lambda: dig(self.dns[2], "api.service.dc2.consul")[0] == "NOERROR",
                      "dc2's answer through the client agent")
        self.assertEqual(dig(self.dns[2], "api.service.dc2.consul")[1][0].split()[-1],
                         "10.2.0.9")
        self.assertEqual(dig(self.dns[2], "api.service.nope.consul")[0], "NXDOMAIN")

    def test_unknown_datacenter(self):
        for path in ("/v1/kv/x?dc=nope", "/v1/catalog/nodes?dc=nope",
                     "/v1/health/service/web?dc=nope"):
            resp = self.s1.get(path)
            self.assertEqual(resp.status, 500, path)
            self.assertEqual(resp.text.strip(), "No path to datacenter", path)
        fire = self.s1.put("/v1/event/fire/deploy?dc=nope", b"")
        self.assertEqual((fire.status, fire.text.strip()), (500, "No path to datacenter"))
        # The agent's received events ignore ?dc=, as Consul's do.
        self.assertEqual(self.s1.get("/v1/event/list?dc=nope").status, 200)

    def test_y_frozen_datacenter_fails_cleanly_in_seconds(self):
        # dc2's server stops answering with its connections open (SIGSTOP: as a WAN partition
        # or a frozen host looks from dc1). A ?dc=dc2 request, from the server or through the
        # client agent, ends in a clean 500 within seconds, not at the 30 s bound, whether the
        # silent connection or gossip finds it first.
        warm = self.client.kv_get("fed/a", {"dc": "dc2"})  # a pooled connection to dc2
        self.assertIn(warm.status, (200, 404), warm.text)
        self.s2.proc.send_signal(signal.SIGSTOP)
        try:
            for who in (self.client, self.s1):
                start = time.monotonic()
                resp = who.kv_get("fed/a", {"dc": "dc2"}, timeout=60)
                took = time.monotonic() - start
                self.assertEqual((resp.status, resp.text.strip()), (500, "No path to datacenter"))
                self.assertLess(took, FROZEN_BOUND_S, f"a read for dc2 took {took:.1f}s")
            start = time.monotonic()
            resp = self.client.put(kv_path("fed/frozen", {"dc": "dc2"}), body=b"x", timeout=60)
            took = time.monotonic() - start
            self.assertEqual(resp.status, 500, resp.text)
            # A write is never sent twice: it may say its connection was lost.
            self.assertIn(resp.text.strip(), ("No path to datacenter",
                                              "rpc error: connection to datacenter dc2 lost "
                                              "before its answer"))
            self.assertLess(took, FROZEN_BOUND_S, f"a write for dc2 took {took:.1f}s")
        finally:
            self.s2.proc.send_signal(signal.SIGCONT)
        self.wait_for(lambda: self.client.kv_get("fed/a", {"dc": "dc2"}).status in (200, 404),
                      "dc2 answering again", timeout_s=FAILURE_BOUND_S + 30)

    def test_z_killed_datacenter_fails_cleanly_within_the_bound(self):
        # Last (the name sorts it there): it kills dc2's only server.
        self.assertEqual(self.s1.kv_get("fed/a", {"dc": "dc2"}).status in (200, 404), True)
        self.s2.proc.send_signal(signal.SIGKILL)
        self.s2.proc.wait(10)
        start = time.monotonic()
        resp = self.s1.kv_get("fed/a", {"dc": "dc2"}, timeout=60)
        self.assertLess(time.monotonic() - start, 35)
        self.assertEqual(resp.status, 500, resp.text)
        # Once the WAN pool finds it failed, there is no path at all.
        self.wait_for(lambda: self.s1.kv_get("fed/a", {"dc": "dc2"}).text.strip()
                      == "No path to datacenter", "no path to dc2",
                      timeout_s=FAILURE_BOUND_S + 10)


class TlsFederationTest(TwoDatacenters):
    """Server RPC over verified TLS (verify_server_hostname): a dc1 server's call to dc2
    checks dc2's name, server.dc2.consul, as Consul's cross-datacenter RPC does."""

    @classmethod
    def settings(cls, dc):
        if not hasattr(cls, "certs"):
            cls.certs = tempfile.mkdtemp(prefix="pc-federation-certs-")
            cls.cert = staticmethod(make_certificates(cls.certs))
        # The dc1 client agent takes dc1's server certificate: only its TLS client side is used.
        return {"tls": {
            "defaults": {"ca_file": cls.cert("consul-agent-ca.pem"),
                         "cert_file": cls.cert(f"{dc}-server-consul-0.pem"),
                         "key_file": cls.cert(f"{dc}-server-consul-0-key.pem"),
                         "verify_incoming": True, "verify_outgoing": True},
            "internal_rpc": {"verify_server_hostname": True}}}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.certs, True)

    def test_kv_both_ways_over_tls(self):
        self.assertEqual(self.s1.kv_put("tls/a", b"1", {"dc": "dc2"}).status, 200)
        self.assertEqual(self.s2.kv_get("tls/a", {"raw": ""}).body, b"1")
        self.assertEqual(self.s2.kv_put("tls/b", b"2", {"dc": "dc1"}).status, 200)
        self.assertEqual(self.s1.kv_get("tls/b", {"raw": ""}).body, b"2")
        self.assertEqual(self.client.kv_get("tls/a", {"dc": "dc2", "raw": ""}).body, b"1")


if __name__ == "__main__":
    unittest.main()
