"""Servers find each other through the LAN gossip pool (Consul's retry_join semantics).

What Consul promises and this checks: -retry-join names LAN gossip addresses, and a server
learns the other servers from the pool's members (role "consul", same datacenter, the RPC
port in their "port" tag), not from the addresses it was given. So three servers started
with -bootstrap-expect 3, each joining only one other server's LAN address (a chain: 0 → 1
→ 2, and 2 joins no one), still bootstrap one cluster: one leader that all three report,
three Raft peers, and a write taken through any of them readable from every one. A server
whose expect differs from the others' is not counted: with -bootstrap-expect 2 beside one
server expecting 3, neither bootstraps (Consul logs the conflict), and once the third
server expecting 3 arrives the two that agree still wait for the mismatch to go away.
-join (start_join) joins once at start: a client agent joined to a server's LAN address
finds it and works through it; one whose -join address nobody answers exits with an error.
"""

import json
import os
import shutil
import tempfile
import time
import unittest

from test_client_agent import ClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port, lan_port_of


class JoinClient(ClientAgent):
    """A client agent with -join (start_join) addresses instead of -retry-join."""

    def __init__(self, node, data_dir, join):
        super().__init__(node, data_dir, [])
        self.join = join

    def command(self):
        args = super().command()
        for address in self.join:
            args += ["-join", address]
        return args


class DiscoveryTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-discovery-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config_file = os.path.join(self.root, "fast.json")
        with open(self.config_file, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1}}, out)

    def server(self, i, port, peers, expect):
        data_dir = os.path.join(self.root, f"s{i}")
        os.makedirs(data_dir, exist_ok=True)
        server = ServerAgent(f"server-{i}", data_dir, port, peers, self.config_file,
                             bootstrap_expect=expect)
        self.addCleanup(server.stop)
        return server

    def leader_of(self, server):
        resp = server.get("/v1/status/leader")
        return resp.json() if resp.status == 200 else ""

    def wait_for(self, predicate, what, servers, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        self.fail(f"no {what} after {timeout_s}s\n"
                  + "\n".join(s.output_tail(25) for s in servers))

    def test_a_chain_of_joins_bootstraps_one_cluster(self):
        ports = [free_port() for _ in range(3)]
        # Each server is told only the next one's LAN address; the last one none.
        servers = [self.server(i, ports[i], ports[i + 1:i + 2], 3) for i in range(3)]
        for server in servers:
            server.start()

        def one_leader():
            leaders = {self.leader_of(s) for s in servers}
            return len(leaders) == 1 and "" not in leaders

        self.wait_for(one_leader, "leader all three agree on", servers)
        want = sorted(f"127.0.0.1:{p}" for p in ports)
        for server in servers:
            self.assertEqual(sorted(server.get("/v1/status/peers").json()), want)
        self.wait_for(lambda: servers[2].put("/v1/kv/chain", body="ok").status == 200,
                      "write through the last server", servers)
        for server in servers:
            self.wait_for(lambda s=server: s.get("/v1/kv/chain?raw").body == b"ok",
                          f"the write on {server.node}", servers)
        # Every server lists all three in its LAN pool, though none was told all of them.
        for server in servers:
            members = {m["Name"]: m for m in server.get("/v1/agent/members").json()}
            self.assertEqual(set(members), {"server-0", "server-1", "server-2"})
            self.assertEqual({m["Tags"]["role"] for m in members.values()}, {"consul"})
        for server in servers:
            server.stop_checked()

    def test_a_conflicting_expect_blocks_bootstrap(self):
        ports = [free_port() for _ in range(3)]
        # server-0 expects 2, server-1 expects 3: two servers are alive, but they disagree.
        first = self.server(0, ports[0], [ports[1]], 2)
        second = self.server(1, ports[1], [], 3)
        first.start()
        second.start()
        self.wait_for(lambda: len(first.get("/v1/agent/members").json()) == 2,
                      "two members in the pool", [first, second])
        self.wait_for(lambda: any("conflicting expect value" in line for line in first.output()),
                      "the conflict logged", [first, second])
        # A third server expecting 3 makes three, but server-0 still disagrees with both.
        third = self.server(2, ports[2], [ports[0]], 3)
        third.start()
        self.wait_for(lambda: len(first.get("/v1/agent/members").json()) == 3,
                      "three members in the pool", [first, second, third])
        time.sleep(3)  # several discovery rounds (one a second)
        for server in (first, second, third):
            self.assertEqual(self.leader_of(server), "", server.output_tail(20))

    def test_join_at_start(self):
        port = free_port()
        server = self.server(0, port, [], 1)  # -bootstrap-expect 1: bootstrap alone
        server.start()
        data_dir = os.path.join(self.root, "c0")
        os.makedirs(data_dir)
        client = JoinClient("client-0", data_dir, [f"127.0.0.1:{lan_port_of(port)}"])
        self.addCleanup(client.stop)
        client.start()
        self.wait_for(lambda: client.put("/v1/kv/joined", body="1").status == 200,
                      "a write through the joined client", [server, client])
        self.assertEqual(server.get("/v1/kv/joined?raw").body, b"1")

        # Nobody listens at this address: -join fails and the agent does not start.
        data_dir = os.path.join(self.root, "c1")
        os.makedirs(data_dir)
        lonely = JoinClient("client-1", data_dir, [f"127.0.0.1:{free_port()}"])
        self.addCleanup(lonely.stop)
        with self.assertRaises(AssertionError) as failed:
            lonely.start()
        self.assertIn("exited with status 1", str(failed.exception))
        self.assertIn("Error joining the LAN pool", str(failed.exception))


if __name__ == "__main__":
    unittest.main()
