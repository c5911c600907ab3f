"""The LAN gossip pool of a datacenter: three servers and two client agents on loopback.

What Consul promises and this checks: every agent joins the LAN pool through -retry-join
(which names the servers' LAN gossip addresses) and lists all five members alive at /v1/agent/members, as `proconsul members` prints them;
the leader registers each member's node with the check serfHealth, passing while it is alive,
so a session can be created on a client's node; a client killed with SIGKILL is found failed
by gossip, its serfHealth turns critical and its services leave ?passing health answers
within a bound derived from the gossip settings; a client stopped with SIGTERM leaves the
pool (status left) and its node is deregistered; the others keep working.

Gossip is encrypted with one shared key (`encrypt`) and runs fast here (gossip_lan: 200 ms probes, 100 ms probe timeout, suspicion x2), so a
failure is confirmed within a few seconds; Raft runs with performance.raft_multiplier 1.
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
from test_client_agent import ClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port

# gossip_lan for the test: failure detection in a few seconds.
PROBE_INTERVAL_S = 0.2
SUSPICION_MULT = 2
GOSSIP_LAN = {"probe_interval": "200ms", "probe_timeout": "100ms", "gossip_interval": "50ms",
              "suspicion_mult": SUSPICION_MULT}
# memberlist's suspicion timeout is at most suspicion_max_timeout_mult (6) times
# suspicion_mult * max(1, log10(n)) * probe_interval; detection itself takes a probe interval
# or two, scaled by up to 8 when the prober's health is poor. Generous, for a loaded 2-core
# machine: the bound covers slow probes, gossip of the death and the leader's write.
FAILURE_BOUND_S = 6 * SUSPICION_MULT * PROBE_INTERVAL_S + 8 * PROBE_INTERVAL_S + 10.0
SERF_ALIVE, SERF_LEFT, SERF_FAILED = 1, 3, 4
# Every agent shares one gossip key (`consul keygen` output: 32 bytes, base64).
GOSSIP_KEY = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="


class GossipClient(ClientAgent):
    """A client agent with the test's configuration file (fast gossip)."""

    def __init__(self, node, data_dir, servers, config_file):
        super().__init__(node, data_dir, servers)
        self.config_file = config_file

    def command(self):
        return super().command() + ["-config-file", self.config_file]


def start_gossip_cluster(test, root, settings, clients):
    """Writes `settings` as the agents' config file under `root` and starts three servers and
    `clients` client agents (GossipClient) there, each stopped at the test's cleanup; sets
    test.servers, test.clients, test.names and returns the servers' ports."""
    config = os.path.join(root, "fast.json")
    with open(config, "w", encoding="utf-8") as out:
        json.dump(settings, out)
    ports = [free_port() for _ in range(3)]
    test.servers = []
    for i, port in enumerate(ports):
        data_dir = os.path.join(root, f"s{i}")
        os.makedirs(data_dir)
        peers = [p for p in ports if p != port]
        test.servers.append(ServerAgent(f"server-{i}", data_dir, port, peers, config))
    for server in test.servers:
        test.addCleanup(server.stop)
        server.start()
    test.clients = []
    for i in range(clients):
        data_dir = os.path.join(root, f"c{i}")
        os.makedirs(data_dir)
        client = GossipClient(f"client-{i}", data_dir, ports, config)
        test.addCleanup(client.stop)
        client.start()
        test.clients.append(client)
    test.names = {a.node for a in test.servers + test.clients}
    return ports


class GossipTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-gossip-")
        self.addCleanup(shutil.rmtree, self.root, True)
        settings = {"performance": {"raft_multiplier": 1}, "gossip_lan": GOSSIP_LAN,
                    "encrypt": GOSSIP_KEY}
        start_gossip_cluster(self, self.root, settings, clients=2)

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        logs = "\n".join(a.output_tail(15) for a in self.servers + self.clients)
        self.fail(f"no {what} after {timeout_s}s\n{logs}")

    def statuses(self, agent):
        """Member name -> serf status, as `agent` sees its LAN pool."""
        return {m["Name"]: m["Status"] for m in agent.get("/v1/agent/members").json()}

    def serf_health(self, server, node):
        resp = server.get(f"/v1/health/node/{node}")
        if resp.status != 200:  # no leader yet
            return None
        checks = resp.json()
        return {c["CheckID"]: c for c in checks}.get("serfHealth", {}).get("Status")

    def catalog_nodes(self, server):
        return {n["Node"] for n in server.get("/v1/catalog/nodes").json()}

    def test_members_serf_health_failure_and_leave(self):
        server, crashed, leaving = self.servers[1], self.clients[0], self.clients[1]
        # Every agent sees all five members alive, servers and clients alike.
        for agent in self.servers + self.clients:
            self.wait_for(lambda a=agent: self.statuses(a) == dict.fromkeys(self.names,
                                                                            SERF_ALIVE),
                          f"five alive members at {agent.node}")
        members = {m["Name"]: m for m in crashed.get("/v1/agent/members").json()}
        self.assertEqual(members["server-0"]["Tags"]["role"], "consul")
        self.assertEqual(members["server-0"]["Tags"]["port"], str(self.servers[0].server_port))
        self.assertEqual(members["client-1"]["Tags"]["role"], "node")
        self.assertEqual(members["client-1"]["Port"], leaving.serf_lan_port)
        # `proconsul members` against a client: a header and one row per member.
        proc = subprocess.run([binary_path(), "members", f"-http-addr={crashed.http_addr}"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Node", "Address", "Status", "Type", "Build",
                                            "Protocol", "DC", "Partition", "Segment"])
        rows = {line.split()[0]: line.split() for line in lines[1:]}
        self.assertEqual(set(rows), self.names)
        self.assertEqual(rows["client-0"][1:4],
                         [f"127.0.0.1:{crashed.serf_lan_port}", "alive", "client"])
        self.assertEqual(rows["server-2"][2:4], ["alive", "server"])

        # The leader gives every member's node a passing serfHealth, clients included.
        for node in sorted(self.names):
            self.wait_for(lambda n=node: self.serf_health(server, n) == "passing",
                          f"serfHealth passing for {node}")
        check = {c["CheckID"]: c for c in
                 server.get("/v1/health/node/client-0").json()}["serfHealth"]
        self.assertEqual((check["Name"], check["Output"]),
                         ("Serf Health Status", "Agent alive and reachable"))
        # So a session on a client's node (which checks serfHealth by default) is possible.
        resp = leaving.put("/v1/session/create", body=json.dumps({"Node": "client-1"}))
        self.assertEqual(resp.status, 200, resp.text)

        # A service on the client that will be killed, passing (no checks of its own).
        resp = crashed.put("/v1/agent/service/register",
                           body=json.dumps({"Name": "web", "ID": "web-1", "Port": 8080}))
        self.assertEqual(resp.status, 200, resp.text)
        self.wait_for(lambda: len(server.get("/v1/health/service/web?passing").json()) == 1,
                      "web-1 passing")

        # kill -9: gossip finds the client failed; its serfHealth and service turn critical.
        crashed.proc.send_signal(signal.SIGKILL)
        crashed.proc.wait(10)
        killed_at = time.monotonic()
        self.wait_for(lambda: self.serf_health(server, "client-0") == "critical",
                      "client-0 serfHealth critical", timeout_s=FAILURE_BOUND_S)
        detected_s = time.monotonic() - killed_at
        self.assertEqual(server.get("/v1/health/service/web?passing").json(), [])
        entries = server.get("/v1/health/service/web").json()
        self.assertEqual([c["Status"] for c in entries[0]["Checks"]
                          if c["CheckID"] == "serfHealth"], ["critical"])
        for agent in self.servers + [leaving]:
            self.wait_for(lambda a=agent: self.statuses(a)["client-0"] == SERF_FAILED,
                          f"client-0 failed at {agent.node}")
        print(f"client-0 critical {detected_s:.1f}s after SIGKILL (bound {FAILURE_BOUND_S}s)")

        # SIGTERM: the client leaves the pool and the leader deregisters its node.
        exit_code, graceful = leaving.stop()
        self.assertEqual((exit_code, graceful), (0, True))
        self.wait_for(lambda: self.statuses(server).get("client-1") == SERF_LEFT,
                      "client-1 left")
        self.wait_for(lambda: "client-1" not in self.catalog_nodes(server),
                      "client-1 deregistered")
        # The failed client stays in the catalog (critical); the servers keep working.
        self.assertIn("client-0", self.catalog_nodes(server))
        self.assertEqual(self.servers[0].put("/v1/kv/after", body="1").json(), True)
        self.assertEqual(self.servers[2].get("/v1/kv/after?raw").body, b"1")
        for s in self.servers:
            self.assertEqual(self.serf_health(server, s.node), "passing")


if __name__ == "__main__":
    unittest.main()
