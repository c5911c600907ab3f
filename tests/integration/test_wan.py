"""The WAN gossip pool: two datacenters of two servers each on loopback.

What Consul promises and this checks: every server runs a second pool, WAN, with the
servers of every datacenter, each named "<node>.<dc>" with the server tags (role=consul, dc,
port); servers find each other through -retry-join-wan, or through the HTTP API
(PUT /v1/agent/join/<address>?wan=1); `proconsul members -wan` lists all four alive from
either datacenter; /v1/catalog/datacenters lists both datacenters, the local one first;
/v1/coordinate/datacenters lists every server's WAN coordinate (named without ".<dc>", as
Consul's) and `proconsul rtt -wan s2.dc1 s3.dc2` estimates from them; a
server killed with SIGKILL is found failed by the WAN pool and `proconsul force-leave -wan`
turns it left everywhere; `proconsul leave` makes a server leave gracefully and exit, and
the others see it left. A client agent has no WAN pool (no WAN members, WAN join and
force-leave refused) and answers /v1/catalog/datacenters through a server.

Gossip is encrypted with one shared key and both pools run fast here (test_gossip.py's
settings for gossip_lan and gossip_wan: 200 ms probes, suspicion x2), so a failure is
confirmed within seconds.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from proconsul import binary_path
from test_cluster import CONVERGE_S, ServerAgent, free_port
# The same fast gossip settings (used for both pools here), failure bound and key.
from test_gossip import (FAILURE_BOUND_S, GOSSIP_KEY, GOSSIP_LAN as FAST_GOSSIP, SERF_ALIVE,
                         SERF_FAILED, SERF_LEFT, GossipClient)


class WanServer(ServerAgent):
    """A server of datacenter `dc` with a fixed WAN port and -retry-join-wan addresses."""

    def __init__(self, node, dc, data_dir, server_port, peers, config_file, wan_port,
                 wan_joins):
        super().__init__(node, data_dir, server_port, peers, config_file, bootstrap_expect=2)
        self.dc = dc
        self.serf_wan_port_flag = wan_port
        self.wan_joins = wan_joins

    def command(self):
        args = super().command() + ["-datacenter", self.dc]
        for port in self.wan_joins:
            args += ["-retry-join-wan", f"127.0.0.1:{port}"]
        return args

    @property
    def wan_name(self):
        return f"{self.node}.{self.dc}"


def run_cli(*args):
    return subprocess.run([binary_path(), *args], capture_output=True, text=True, timeout=60)


class WanTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-wan-")
        self.addCleanup(shutil.rmtree, self.root, True)
        config = os.path.join(self.root, "fast.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1}, "gossip_lan": FAST_GOSSIP,
                       "gossip_wan": FAST_GOSSIP, "retry_interval_wan": "1s",
                       "encrypt": GOSSIP_KEY}, out)
        rpc = [free_port() for _ in range(4)]
        self.wan_ports = [free_port() for _ in range(4)]
        # dc1: s1, s2 join dc2's s3 over the WAN; dc2: s3 joins dc1's s1; s4 joins nobody at
        # start: its LAN peer s3 brings it in (flood join), and it joins through the HTTP API.
        layout = [("s1", "dc1", [self.wan_ports[2]]), ("s2", "dc1", [self.wan_ports[2]]),
                  ("s3", "dc2", [self.wan_ports[0]]), ("s4", "dc2", [])]
        self.servers = []
        for i, (node, dc, joins) in enumerate(layout):
            data_dir = os.path.join(self.root, node)
            os.makedirs(data_dir)
            same_dc = [rpc[j] for j, (_, d, _) in enumerate(layout) if d == dc and j != i]
            self.servers.append(WanServer(node, dc, data_dir, rpc[i], same_dc, config,
                                          self.wan_ports[i], joins))
        for server in self.servers:
            self.addCleanup(server.stop)
            server.start()
        # A client agent of dc1: no WAN pool of its own.
        client_dir = os.path.join(self.root, "c1")
        os.makedirs(client_dir)
        self.client = GossipClient("c1", client_dir, rpc[:2], config)
        self.addCleanup(self.client.stop)
        self.client.start()

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        logs = "\n".join(s.output_tail(20) for s in self.servers)
        self.fail(f"no {what} after {timeout_s}s\n{logs}")

    def wan_statuses(self, server):
        """WAN member name -> serf status, as `server` sees its WAN pool."""
        resp = server.get("/v1/agent/members?wan=1")
        return {m["Name"]: m["Status"] for m in resp.json()}

    def test_two_datacenters_join_fail_force_leave_and_leave(self):
        s1, s2, s3, s4 = self.servers
        names = {s.wan_name for s in self.servers}
        # s4 names no WAN address: it reaches the WAN pool through its datacenter's other server
        # (Consul's flood join: s3's LAN tags carry its WAN port). A join through the HTTP API
        # works too (LAN is the default; ?wan=1 asks for the WAN pool).
        resp = s4.put(f"/v1/agent/join/127.0.0.1:{self.wan_ports[0]}?wan=1")
        self.assertEqual(resp.status, 200, resp.text)
        bad = s4.put(f"/v1/agent/join/127.0.0.1:{free_port()}?wan=1")
        self.assertEqual(bad.status, 500, bad.text)
        for server in self.servers:
            self.wait_for(lambda s=server: self.wan_statuses(s) == dict.fromkeys(names,
                                                                                 SERF_ALIVE),
                          f"four alive WAN members at {server.node}")
        members = {m["Name"]: m for m in s1.get("/v1/agent/members?wan=1").json()}
        self.assertEqual(members["s3.dc2"]["Tags"]["role"], "consul")
        self.assertEqual(members["s3.dc2"]["Tags"]["dc"], "dc2")
        self.assertEqual(members["s3.dc2"]["Tags"]["port"], str(s3.server_port))
        self.assertEqual(members["s3.dc2"]["Port"], self.wan_ports[2])
        # The LAN pool still holds only the local datacenter.
        self.assertEqual({m["Name"] for m in s3.get("/v1/agent/members").json()}, {"s3", "s4"})

        proc = run_cli("members", "-wan", f"-http-addr={s3.http_addr}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertEqual(lines[0].split()[:3], ["Node", "Address", "Status"])
        rows = {line.split()[0]: line.split() for line in lines[1:]}
        self.assertEqual(set(rows), names)
        self.assertEqual(rows["s1.dc1"][1:4], [f"127.0.0.1:{self.wan_ports[0]}", "alive",
                                               "server"])
        self.assertEqual(rows["s1.dc1"][6], "dc1")

        # Every server knows both datacenters, its own first.
        for server in self.servers:
            want = [server.dc] + sorted({"dc1", "dc2"} - {server.dc})
            self.wait_for(lambda s=server, w=want: s.get("/v1/catalog/datacenters").json() == w,
                          f"datacenters {want} at {server.node}")
        # Both datacenters' servers with the coordinates their WAN acks carried.
        def wan_coordinates(server):
            return {d["Datacenter"]: sorted(c["Node"] for c in d["Coordinates"])
                    for d in server.get("/v1/coordinate/datacenters").json()}
        # Named without the ".<dc>" suffix, as Consul lists them.
        want_coords = {"dc1": ["s1", "s2"], "dc2": ["s3", "s4"]}
        self.wait_for(lambda: wan_coordinates(s1) == want_coords, "WAN coordinates of all four")
        # `proconsul rtt -wan` estimates between servers named "<node>.<dc>" from them.
        proc = run_cli("rtt", "-wan", f"-http-addr={s1.http_addr}", "s2.dc1", "s3.dc2")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"^Estimated s2\.dc1 <-> s3\.dc2 rtt: \d+\.\d{3} ms "
                                      r"\(using WAN coordinates\)\n$")
        self.wait_for(lambda: wan_coordinates(s3) == want_coords, "WAN coordinates at s3")
        proc = run_cli("rtt", "-wan", f"-http-addr={s3.http_addr}", "s1.dc1")  # and s3.dc2
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Estimated s1.dc1 <-> s3.dc2 rtt: ", proc.stdout)
        proc = run_cli("rtt", "-wan", f"-http-addr={s1.http_addr}", "s1", "s3.dc2")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Node names must be specified as <node name>.<datacenter> with -wan",
                      proc.stderr)
        proc = run_cli("catalog", "datacenters", f"-http-addr={s2.http_addr}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), ["dc1", "dc2"])

        # A client agent has no WAN pool: no WAN members, no WAN join or force-leave; its
        # /v1/catalog/datacenters is a server's answer, as every path outside /v1/agent/.
        client = self.client
        self.assertEqual(client.get("/v1/agent/members?wan=1").json(), [])
        resp = client.put(f"/v1/agent/join/127.0.0.1:{self.wan_ports[0]}?wan=1")
        self.assertEqual((resp.status, resp.text), (500, "Must be a server to join WAN cluster"))
        resp = client.put(f"/v1/agent/force-leave/{s3.wan_name}?wan")
        self.assertEqual((resp.status, resp.text),
                         (500, "Must be a server to force-leave a node from the WAN cluster"))
        self.wait_for(lambda: client.get("/v1/catalog/datacenters").json() == ["dc1", "dc2"],
                      "both datacenters through the client")

        # Killed: failed in the WAN pool of every other server; force-leave turns it left.
        s4.proc.send_signal(signal.SIGKILL)
        s4.proc.wait()
        for server in (s1, s2, s3):
            self.wait_for(lambda s=server: self.wan_statuses(s)[s4.wan_name] == SERF_FAILED,
                          f"s4 failed at {server.node}", FAILURE_BOUND_S)
        proc = run_cli("force-leave", "-wan", f"-http-addr={s1.http_addr}", "ghost.dc9")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("No node found with name 'ghost.dc9'", proc.stderr)
        proc = run_cli("force-leave", "-wan", f"-http-addr={s1.http_addr}", s4.wan_name)
        self.assertEqual((proc.returncode, proc.stdout), (0, ""), proc.stderr)
        for server in (s1, s2, s3):
            self.wait_for(lambda s=server: self.wan_statuses(s)[s4.wan_name] == SERF_LEFT,
                          f"s4 left at {server.node}")
        # A failed server still names its datacenter until it leaves; dc2 lives on in s3.
        self.assertEqual(s1.get("/v1/catalog/datacenters").json(), ["dc1", "dc2"])

        # `proconsul leave`: s2 leaves gracefully and exits; the others see it left.
        proc = run_cli("leave", f"-http-addr={s2.http_addr}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "Graceful leave complete\n")
        self.assertEqual(s2.proc.wait(timeout=60), 0, s2.output_tail(30))
        for server in (s1, s3):
            self.wait_for(lambda s=server: self.wan_statuses(s)[s2.wan_name] == SERF_LEFT,
                          f"s2 left the WAN pool at {server.node}")
        self.wait_for(lambda: {m["Name"]: m["Status"] for m in
                               s1.get("/v1/agent/members").json()}["s2"] == SERF_LEFT,
                      "s2 left the LAN pool at s1")


if __name__ == "__main__":
    unittest.main()
