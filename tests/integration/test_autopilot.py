"""Autopilot's dead-server cleanup on three `agent -server` processes on loopback.

What Consul promises and this checks: with cleanup_dead_servers on (the default), the leader
removes a server that died (SIGKILL) from the Raft configuration once it counts as failed
(here: no contact with the leader for 15 s, daemon/autopilot.h), writes keep working, and the
server, restarted from its data directory, is a voter again with every write; a running
server removed with DELETE /v1/operator/raft/peer is added back (as Consul's leader re-adds a
server serf still sees alive); with
`autopilot { cleanup_dead_servers = false }` a dead server stays in the configuration; and
when two of three servers die the survivor removes nobody: the leader steps down (it cannot
reach a quorum) and the dead servers are still in its configuration when they come back, after
which the cluster has a leader and all three voters again.

The cluster is started as tests/integration/test_cluster.py starts it (performance
raft_multiplier 1); its ServerAgent and free_port are reused.
"""

import json
import os
import shutil
import tempfile
import time
import unittest

import test_cluster
from test_operator import run_cli

CONVERGE_S = test_cluster.CONVERGE_S
# Failed after 15 s without contact, checked every 2 s: removal well within this.
DEAD_AFTER_S = 15.0
REMOVED_WITHIN_S = DEAD_AFTER_S + 15.0


class AutopilotTest(unittest.TestCase):
    autopilot = None  # the agent's autopilot block; None: Consul's defaults

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-autopilot-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config_file = os.path.join(self.root, "fast.json")
        config = {"performance": {"raft_multiplier": 1}}
        if self.autopilot is not None:
            config["autopilot"] = self.autopilot
        with open(self.config_file, "w", encoding="utf-8") as out:
            json.dump(config, out)
        self.ports = [test_cluster.free_port() for _ in range(3)]
        self.addresses = [f"127.0.0.1:{p}" for p in self.ports]
        self.servers = [self.make_server(i) for i in range(3)]
        for server in self.servers:
            self.addCleanup(server.stop)
            server.start()

    def make_server(self, i):
        data_dir = os.path.join(self.root, f"s{i}")
        os.makedirs(data_dir, exist_ok=True)
        peers = [p for j, p in enumerate(self.ports) if j != i]
        return test_cluster.ServerAgent(f"server-{i}", data_dir, self.ports[i], peers,
                                        self.config_file)

    def restart(self, i):
        server = self.make_server(i)
        self.servers[i] = server
        self.addCleanup(server.stop)
        server.start()
        return server

    def tails(self, servers=None):
        return "\n".join(s.output_tail(40) for s in (servers or self.servers))

    def leader_of(self, server):
        resp = server.get("/v1/status/leader")
        return resp.json() if resp.status == 200 else ""

    def wait_leader(self, servers):
        deadline = time.monotonic() + CONVERGE_S
        seen = None
        while time.monotonic() < deadline:
            seen = [self.leader_of(s) for s in servers]
            if seen[0] and all(l == seen[0] for l in seen):
                return seen[0]
            time.sleep(0.1)
        self.fail(f"no agreed leader after {CONVERGE_S}s: {seen}\n" + self.tails(servers))

    def voters(self, server, stale=False):
        """Addresses of the voters in /v1/operator/raft/configuration: the leader's view, or
        with `stale` `server`'s own (what there is to see when no leader is left)."""
        resp = server.get("/v1/operator/raft/configuration" + ("?stale" if stale else ""))
        self.assertEqual(resp.status, 200, resp.text)
        return sorted(s["Address"] for s in resp.json()["Servers"] if s["Voter"])

    def wait_for(self, what, predicate, timeout_s, servers=None):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return time.monotonic()
            time.sleep(0.2)
        self.fail(f"{what}: not within {timeout_s}s\n" + self.tails(servers))

    def put(self, server, key, value):
        deadline = time.monotonic() + CONVERGE_S
        resp = None
        while time.monotonic() < deadline:
            resp = server.kv_put(key, value)
            if resp.status == 200:
                return
            time.sleep(0.1)
        self.fail(f"write {key} through {server.node}: {resp.status} {resp.text}")

    def wait_value(self, server, key, want):
        self.wait_for(f"{server.node} has {key}",
                      lambda: server.get(f"/v1/kv/{key}?raw&stale").body == want, CONVERGE_S,
                      [server])

    def kill(self, server):
        server.proc.kill()
        server.proc.wait()

    def a_follower(self, leader_address):
        return next(i for i, a in enumerate(self.addresses) if a != leader_address)


class CleanupTest(AutopilotTest):
    def test_dead_follower_removed_then_rejoins(self):
        leader_address = self.wait_leader(self.servers)
        leader = self.servers[self.addresses.index(leader_address)]
        self.put(leader, "ap/before", b"1")
        victim = self.a_follower(leader_address)
        self.kill(self.servers[victim])
        killed_at = time.monotonic()
        survivors = [s for i, s in enumerate(self.servers) if i != victim]

        # Not at once: a server down for a moment (a restart) keeps its seat.
        time.sleep(5.0)
        self.assertIn(self.addresses[victim], self.voters(leader))
        removed_at = self.wait_for(
            "the dead follower leaves the configuration",
            lambda: self.addresses[victim] not in self.voters(leader),
            REMOVED_WITHIN_S, survivors)
        self.assertGreaterEqual(removed_at - killed_at, DEAD_AFTER_S - 1.0)
        self.assertTrue(any("removing failed server " + self.addresses[victim] in line
                            for line in leader.output()), leader.output_tail(40))
        for server in survivors:
            self.wait_for(f"{server.node}: two peers",
                          lambda s=server: len(s.get("/v1/status/peers").json()) == 2,
                          CONVERGE_S, survivors)
        # Two voters of two: writes still commit.
        self.put(survivors[0], "ap/after", b"2")

        # Back from its data directory: it finds itself missing and asks to be added again.
        back = self.restart(victim)
        self.wait_for("the restarted server is a voter again",
                      lambda: self.addresses[victim] in self.voters(leader), CONVERGE_S,
                      self.servers)
        self.assertEqual(self.voters(leader), sorted(self.addresses))
        self.wait_value(back, "ap/before", b"1")
        self.wait_value(back, "ap/after", b"2")
        self.put(back, "ap/rejoined", b"3")
        for server in self.servers:
            self.wait_value(server, "ap/rejoined", b"3")
        for server in self.servers:
            server.stop_checked()

    def test_live_server_removed_by_operator_is_added_back(self):
        # Consul's leader adds a server that is alive in serf back into Raft; here the server
        # notices it is missing from the leader's configuration and asks to be added.
        leader_address = self.wait_leader(self.servers)
        leader = self.servers[self.addresses.index(leader_address)]
        victim = self.a_follower(leader_address)
        address = self.addresses[victim]
        resp = leader.delete(f"/v1/operator/raft/peer?address={address}")
        self.assertEqual(resp.status, 200, resp.text)
        self.assertNotIn(address, self.voters(leader))
        self.wait_for("the removed server is a voter again",
                      lambda: address in self.voters(leader), CONVERGE_S, self.servers)
        self.assertTrue(any("asking " in line and "to add it back" in line
                            for line in self.servers[victim].output()),
                        self.servers[victim].output_tail(40))
        self.put(self.servers[victim], "ap/readded", b"1")
        for server in self.servers:
            self.wait_value(server, "ap/readded", b"1")
        for server in self.servers:
            server.stop_checked()

    def test_two_of_three_dead_are_not_removed(self):
        leader_address = self.wait_leader(self.servers)
        survivor_index = self.addresses.index(leader_address)
        survivor = self.servers[survivor_index]
        self.put(survivor, "ap/two", b"1")
        dead = [i for i in range(3) if i != survivor_index]
        for i in dead:
            self.kill(self.servers[i])
        # The leader cannot reach a quorum and steps down (CheckQuorum), as Consul's does;
        # nobody is left to remove anybody, and nobody is removed.
        self.wait_for("the lone server gives up leading",
                      lambda: self.leader_of(survivor) == "", CONVERGE_S, [survivor])
        time.sleep(DEAD_AFTER_S + 5.0)
        # Without a leader only a stale read answers, as in Consul.
        resp = survivor.get("/v1/operator/raft/configuration")
        self.assertEqual((resp.status, resp.text), (500, "No cluster leader"))
        self.assertEqual(self.voters(survivor, stale=True), sorted(self.addresses))
        self.assertFalse(any("removing failed server" in line for line in survivor.output()),
                         survivor.output_tail(40))
        for i in dead:
            self.restart(i)
        self.wait_leader(self.servers)
        for server in self.servers:
            self.wait_value(server, "ap/two", b"1")
        self.assertEqual(self.voters(survivor), sorted(self.addresses))
        for server in self.servers:
            server.stop_checked()


class CleanupDisabledTest(AutopilotTest):
    autopilot = {"cleanup_dead_servers": False}

    def test_dead_follower_stays(self):
        leader_address = self.wait_leader(self.servers)
        leader = self.servers[self.addresses.index(leader_address)]
        resp = leader.get("/v1/operator/autopilot/configuration")
        self.assertEqual(resp.status, 200, resp.text)
        self.assertFalse(resp.json()["CleanupDeadServers"], resp.json())
        proc = run_cli("operator", "autopilot", "get-config", f"-http-addr={leader.http_addr}")
        self.assertEqual(proc.returncode, 0, proc.err)
        self.assertEqual(proc.out.splitlines()[:4],
                         ["CleanupDeadServers = false", "LastContactThreshold = 200ms",
                          "MaxTrailingLogs = 250", "MinQuorum = 0"])
        # Not stored in the replicated state yet: a change is refused, and says so.
        proc = run_cli("operator", "autopilot", "set-config", "-min-quorum=3",
                       f"-http-addr={leader.http_addr}")
        self.assertEqual(proc.returncode, 1, proc.out)
        self.assertIn("Error setting Autopilot configuration: Unexpected response code: 501",
                      proc.err)
        victim = self.a_follower(leader_address)
        self.kill(self.servers[victim])
        time.sleep(REMOVED_WITHIN_S)
        self.assertEqual(self.voters(leader), sorted(self.addresses))
        survivors = [s for i, s in enumerate(self.servers) if i != victim]
        self.put(survivors[0], "ap/disabled", b"1")
        for server in survivors:
            server.stop_checked()


if __name__ == "__main__":
    unittest.main()
