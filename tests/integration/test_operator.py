"""Consul's Raft operator API and CLI against real servers.

What Consul promises and this checks, on three `agent -server` processes on loopback:
/v1/operator/raft/configuration lists the three with one leader, each named by its catalog
node (ID = node ID, Node = node name); /v1/operator/autopilot/health on the leader reports
every server healthy with a failure tolerance of 1; POST /v1/operator/raft/transfer-leader
moves leadership (to any other server, or to the one named by ?id=) and /v1/status/leader
follows; DELETE /v1/operator/raft/peer removes a failed server, after which the configuration
and /v1/status/peers list two; `proconsul operator raft list-peers|remove-peer|transfer-leader`
print Consul's texts. A -dev agent's configuration is itself alone, leader and voter.

The cluster is started as tests/integration/test_cluster.py starts it (its ServerAgent and
free_port are reused; its test class is not imported, so its test does not run again here).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import test_cluster
from proconsul import Agent, binary_path

CONVERGE_S = test_cluster.CONVERGE_S
CLI_TIMEOUT_S = 60.0


def run_cli(*args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("CONSUL_HTTP_ADDR", "PROCONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN")}
    proc = subprocess.run([binary_path()] + list(args), capture_output=True, env=env,
                          timeout=CLI_TIMEOUT_S)
    proc.out = proc.stdout.decode("utf-8", errors="replace")
    proc.err = proc.stderr.decode("utf-8", errors="replace")
    return proc


class OperatorClusterTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-operator-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config_file = os.path.join(self.root, "fast.json")
        with open(self.config_file, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1}}, out)
        self.ports = [test_cluster.free_port() for _ in range(3)]
        self.servers = []
        for i in range(3):
            data_dir = os.path.join(self.root, f"s{i}")
            os.makedirs(data_dir, exist_ok=True)
            peers = [p for j, p in enumerate(self.ports) if j != i]
            server = test_cluster.ServerAgent(f"server-{i}", data_dir, self.ports[i], peers,
                                              self.config_file)
            self.servers.append(server)
            self.addCleanup(server.stop)
            server.start()
        self.addresses = [f"127.0.0.1:{p}" for p in self.ports]

    # --- helpers -------------------------------------------------------------------------

    def fail_with_logs(self, message, servers=None):
        self.fail(message + "\n" + "\n".join(s.output_tail(30) for s in servers or self.servers))

    def wait_for(self, what, fn, servers=None):
        """Polls fn() until it returns something truthy; fails after CONVERGE_S."""
        deadline = time.monotonic() + CONVERGE_S
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.1)
        self.fail_with_logs(f"{what} not reached after {CONVERGE_S}s (last: {last!r})", servers)

    def leader_of(self, server):
        resp = server.get("/v1/status/leader")
        return resp.json() if resp.status == 200 else ""

    def wait_leader(self, servers, not_this=None):
        def agreed():
            seen = [self.leader_of(s) for s in servers]
            if seen[0] and seen[0] != not_this and all(x == seen[0] for x in seen):
                return seen[0]
            return None
        return self.wait_for("an agreed leader", agreed, servers)

    def server_at(self, address):
        return self.servers[self.addresses.index(address)]

    def node_ids(self, server):
        """Node name -> node ID from the catalog, once every server has registered."""
        def registered():
            resp = server.get("/v1/catalog/nodes")
            if resp.status != 200:
                return None
            nodes = {n["Node"]: n["ID"] for n in resp.json()}
            return nodes if len(nodes) == len(self.servers) else None
        return self.wait_for("every server in the catalog", registered)

    def configuration(self, server):
        resp = server.get("/v1/operator/raft/configuration")
        self.assertEqual(resp.status, 200, resp.text)
        return resp.json()

    def healthy_report(self, server):
        def healthy():
            resp = server.get("/v1/operator/autopilot/health")
            if resp.status == 200 and resp.json()["Healthy"]:
                return resp.json()
            return None
        return self.wait_for("a healthy autopilot report", healthy)

    # --- tests ---------------------------------------------------------------------------

    def test_configuration_health_and_list_peers(self):
        leader_address = self.wait_leader(self.servers)
        leader = self.server_at(leader_address)
        ids = self.node_ids(leader)

        # Every server shows the same three, named through the catalog, one leader.
        def complete(server):
            config = self.configuration(server)
            servers = config["Servers"]
            return config if len(servers) == 3 and any(x["Leader"] for x in servers) else None

        for server in self.servers:
            config = self.wait_for(f"{server.node}: three servers with the leader marked",
                                   lambda s=server: complete(s))
            self.assertGreater(config["Index"], 0)
            by_address = {s["Address"]: s for s in config["Servers"]}
            self.assertEqual(sorted(by_address), sorted(self.addresses))
            for i, address in enumerate(self.addresses):
                entry = by_address[address]
                self.assertEqual(entry["Node"], f"server-{i}")
                self.assertEqual(entry["ID"], ids[f"server-{i}"])
                self.assertEqual(entry["Leader"], address == leader_address)
                self.assertTrue(entry["Voter"])
                self.assertEqual(entry["ProtocolVersion"], "3")
                self.assertIn("LastIndex", entry)
        stale = leader.get("/v1/operator/raft/configuration?stale")
        self.assertEqual(stale.status, 200, stale.text)

        # A follower asks the leader, whose view has every server's progress; with ?stale it
        # answers from its own view, which knows only its own log.
        f = next(i for i, s in enumerate(self.servers) if s is not leader)
        follower, follower_addr = self.servers[f], self.addresses[f]
        leader.put("/v1/kv/operator-progress", "x")

        def leader_view():
            config = self.configuration(follower)
            others = [s for s in config["Servers"] if s["Address"] != follower_addr]
            return config if all(s["LastIndex"] > 0 for s in others) else None

        self.wait_for("the leader's view on a follower", leader_view)
        own = follower.get("/v1/operator/raft/configuration?stale").json()
        for entry in own["Servers"]:
            if entry["Address"] == follower_addr:
                self.assertGreater(entry["LastIndex"], 0)
            else:
                self.assertEqual(entry["LastIndex"], 0, entry)
        health = follower.get("/v1/operator/autopilot/health")
        self.assertIn(health.status, (200, 429), health.text)
        self.assertTrue(all(s["LastIndex"] > 0 for s in health.json()["Servers"]), health.text)

        # Autopilot on the leader: all healthy, one failure tolerated.
        report = self.healthy_report(leader)
        self.assertEqual(report["FailureTolerance"], 1)
        self.assertEqual(len(report["Servers"]), 3)
        for entry in report["Servers"]:
            self.assertTrue(entry["Healthy"], entry)
            self.assertEqual(entry["SerfStatus"], "alive")
            self.assertEqual(entry["Leader"], entry["Address"] == leader_address)
            self.assertEqual(entry["ID"], ids[entry["Name"]])
            self.assertTrue(entry["Voter"])
            self.assertRegex(entry["StableSince"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        config = leader.get("/v1/operator/autopilot/configuration")
        self.assertEqual(config.status, 200, config.text)
        self.assertEqual(config.json()["MaxTrailingLogs"], 250)

        # The CLI's table, from the leader.
        proc = run_cli("operator", "raft", "list-peers", f"-http-addr={leader.http_addr}")
        self.assertEqual(proc.returncode, 0, proc.err)
        lines = proc.out.splitlines()
        self.assertEqual(lines[0].split(), ["Node", "ID", "Address", "State", "Voter",
                                            "RaftProtocol", "Commit", "Index", "Trails",
                                            "Leader", "By"])
        self.assertEqual(len(lines), 4, proc.out)
        rows = {line.split()[0]: line.split() for line in lines[1:]}
        for i, address in enumerate(self.addresses):
            row = rows[f"server-{i}"]
            self.assertEqual(row[1:3], [ids[f"server-{i}"], address])
            self.assertEqual(row[3], "leader" if address == leader_address else "follower")
            self.assertEqual(row[4:6], ["true", "3"])
            if address == leader_address:
                self.assertEqual(row[7], "_")
            else:
                self.assertIn(row[8], ("Commit", "Commits"))

        # Consul's refusals.
        resp = leader.delete("/v1/operator/raft/peer")
        self.assertEqual((resp.status, resp.text),
                         (400, "Must specify either ?id with the server's ID or ?address with "
                               "IP:port of peer to remove"))
        resp = leader.delete("/v1/operator/raft/peer?id=x&address=y")
        self.assertEqual((resp.status, resp.text),
                         (400, "Must specify only one of ?id or ?address"))
        resp = leader.delete("/v1/operator/raft/peer?address=127.0.0.1:1")
        self.assertEqual((resp.status, resp.text),
                         (500, 'address "127.0.0.1:1" was not found in the Raft configuration'))
        proc = run_cli("operator", "raft", "remove-peer", f"-http-addr={leader.http_addr}",
                       "-id=nope")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.err, "Error removing peer: Unexpected response code: 500 "
                                   "(id \"nope\" was not found in the Raft configuration)\n")

        for server in self.servers:
            server.stop_checked()

    def test_transfer_leader(self):
        first = self.wait_leader(self.servers)
        ids = self.node_ids(self.server_at(first))

        # To whichever other server is most up to date, asked through a follower.
        follower = next(s for a, s in zip(self.addresses, self.servers) if a != first)
        resp = follower.request("POST", "/v1/operator/raft/transfer-leader")
        self.assertEqual(resp.status, 200, resp.text)
        self.assertEqual(resp.json(), {"Success": True})
        second = self.wait_leader(self.servers, not_this=first)

        # To a named one, through the CLI.
        target = next(a for a in self.addresses if a != second)
        target_id = ids[self.server_at(target).node]
        proc = run_cli("operator", "raft", "transfer-leader",
                       f"-http-addr={self.server_at(second).http_addr}", f"-id={target_id}")
        self.assertEqual((proc.returncode, proc.out), (0, "Success\n"), proc.err)
        self.assertEqual(self.wait_leader(self.servers, not_this=second), target)

        resp = self.server_at(target).request("POST",
                                              "/v1/operator/raft/transfer-leader?id=nope")
        self.assertEqual((resp.status, resp.text),
                         (500, "Could not find address for server id nope"))

        for server in self.servers:
            server.stop_checked()

    def test_remove_failed_peer(self):
        leader_address = self.wait_leader(self.servers)
        leader = self.server_at(leader_address)
        ids = self.node_ids(leader)
        self.healthy_report(leader)

        # A follower fails for good; the operator removes it by its node ID.
        gone = next(s for a, s in zip(self.addresses, self.servers) if a != leader_address)
        gone.proc.kill()
        gone.proc.wait()
        survivors = [s for s in self.servers if s is not gone]
        proc = run_cli("operator", "raft", "remove-peer", f"-http-addr={leader.http_addr}",
                       f"-id={ids[gone.node]}")
        self.assertEqual((proc.returncode, proc.out),
                         (0, f"Removed peer with id \"{ids[gone.node]}\"\n"), proc.err)

        gone_address = self.addresses[self.servers.index(gone)]
        for server in survivors:
            self.wait_for(f"{server.node}: two servers in the configuration",
                          lambda s=server: sorted(x["Address"] for x in self.configuration(s)[
                              "Servers"]) == sorted(a for a in self.addresses
                                                    if a != gone_address), survivors)
            self.wait_for(f"{server.node}: two peers",
                          lambda s=server: len(s.get("/v1/status/peers").json()) == 2, survivors)
        # Two healthy voters of two: a quorum, and nothing to spare.
        report = self.healthy_report(self.server_at(self.wait_leader(survivors)))
        self.assertEqual((len(report["Servers"]), report["FailureTolerance"]), (2, 0))

        # Removing it again is a typo now, by address too.
        resp = leader.delete(f"/v1/operator/raft/peer?address={gone_address}")
        self.assertEqual((resp.status, resp.text),
                         (500, f'address "{gone_address}" was not found in the Raft '
                               'configuration'))

        for server in survivors:
            server.stop_checked()


class DevOperatorTest(unittest.TestCase):
    def test_dev_agent_is_its_own_configuration(self):
        agent = Agent(node="dev-operator")
        self.addCleanup(agent.stop)
        agent.start()
        node_id = agent.get("/v1/agent/self").json()["Config"]["NodeID"]

        resp = agent.get("/v1/operator/raft/configuration")
        self.assertEqual(resp.status, 200, resp.text)
        config = resp.json()
        self.assertEqual(len(config["Servers"]), 1, config)
        server = config["Servers"][0]
        self.assertEqual((server["Node"], server["ID"]), ("dev-operator", node_id))
        self.assertTrue(server["Leader"])
        self.assertTrue(server["Voter"])
        self.assertEqual(server["Address"], agent.get("/v1/status/leader").json())

        resp = agent.get("/v1/operator/autopilot/health")
        self.assertEqual(resp.status, 200, resp.text)
        self.assertEqual((resp.json()["Healthy"], resp.json()["FailureTolerance"]), (True, 0))

        # Nowhere to move leadership to, nothing to remove but itself.
        resp = agent.request("POST", "/v1/operator/raft/transfer-leader")
        self.assertEqual(resp.status, 500, resp.text)
        resp = agent.delete(f"/v1/operator/raft/peer?address={server['Address']}")
        self.assertEqual(resp.status, 500, resp.text)

        proc = run_cli("operator", "raft", "list-peers", f"-http-addr={agent.http_addr}")
        self.assertEqual(proc.returncode, 0, proc.err)
        row = proc.out.splitlines()[1].split()
        self.assertEqual(row[:6], ["dev-operator", node_id, server["Address"], "leader", "true",
                                   "3"])
        agent.stop_checked()


if __name__ == "__main__":
    unittest.main()
