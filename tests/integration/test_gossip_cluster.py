"""A datacenter of three servers and five client agents: what the catalog says when clients
die or the catalog is damaged, and when the pool forgets a dead member.

What Consul promises and this checks:
- every client's node carries serfHealth passing and its services pass;
- kill -9 of a client: gossip finds it failed and the leader turns its serfHealth critical,
  so every service on that node drops out of ?passing within a bound derived from the
  gossip settings, while the other clients' services stay passing;
- a service deregistered from the catalog behind its agent's back (PUT
  /v1/catalog/deregister on a server) is registered again by the agent's anti-entropy within
  its full-sync interval (ae_interval, shortened here, plus the stagger of up to one more
  interval for a pool under 128 members);
- once the pool forgets the dead client (reconnect_timeout after it failed; shortened here
  with the gossip_lan.reconnect_timeout test key) the leader deregisters its node (Consul's
  reconcileReaped), and the other nodes stay.
"""

import json
import shutil
import signal
import tempfile
import time
import unittest

from test_cluster import CONVERGE_S
from test_gossip import (FAILURE_BOUND_S, GOSSIP_KEY, GOSSIP_LAN, SERF_ALIVE,
                         start_gossip_cluster)

AE_INTERVAL_S = 2
RECONNECT_TIMEOUT_S = 8
CLIENTS = 5
# The pool forgets a member some probe rounds after reconnect_timeout; the leader notices
# the smaller pool within its 0.5 s poll. Slack for the loaded machine.
REAP_NOTICED_S = 30


class GossipClusterTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-gossip8-")
        self.addCleanup(shutil.rmtree, self.root, True)
        gossip = dict(GOSSIP_LAN, reconnect_timeout=f"{RECONNECT_TIMEOUT_S}s")
        settings = {"performance": {"raft_multiplier": 1}, "gossip_lan": gossip,
                    "encrypt": GOSSIP_KEY, "ae_interval": f"{AE_INTERVAL_S}s"}
        start_gossip_cluster(self, self.root, settings, clients=CLIENTS)

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

    def passing(self, server, service):
        resp = server.get(f"/v1/health/service/{service}?passing")
        if resp.status != 200:
            return None
        return sorted(e["Node"]["Node"] for e in resp.json())

    def catalog_nodes(self, server):
        resp = server.get("/v1/catalog/nodes")
        if resp.status != 200:  # a read point not reached in time on a loaded machine
            return None
        return {n["Node"] for n in resp.json()}

    def test_kill_repair_and_reap(self):
        server = self.servers[0]
        for agent in self.servers + self.clients:
            self.wait_for(lambda a=agent: {m["Name"]: m["Status"] for m in
                                           a.get("/v1/agent/members").json()}
                          == dict.fromkeys(self.names, SERF_ALIVE),
                          f"eight alive members at {agent.node}", timeout_s=2 * CONVERGE_S)
        # Every client runs "web" and one service of its own.
        for i, client in enumerate(self.clients):
            for body in ({"Name": "web", "ID": "web", "Port": 8080},
                         {"Name": f"own-{i}", "ID": f"own-{i}", "Port": 9000 + i}):
                resp = client.put("/v1/agent/service/register", body=json.dumps(body))
                self.assertEqual(resp.status, 200, resp.text)
        client_names = sorted(c.node for c in self.clients)
        self.wait_for(lambda: self.passing(server, "web") == client_names, "web passing on all")

        # kill -9 of client-2: its services leave ?passing within the bound; others stay.
        crashed = self.clients[2]
        crashed.proc.send_signal(signal.SIGKILL)
        crashed.proc.wait(10)
        killed_at = time.monotonic()
        survivors = [n for n in client_names if n != crashed.node]
        self.wait_for(lambda: self.passing(server, "web") == survivors,
                      "web critical on client-2", timeout_s=FAILURE_BOUND_S)
        self.wait_for(lambda: self.passing(server, "own-2") == [], "own-2 critical",
                      timeout_s=FAILURE_BOUND_S)
        print(f"client-2 services critical {time.monotonic() - killed_at:.1f}s after SIGKILL "
              f"(bound {FAILURE_BOUND_S}s)")
        for i in (0, 1, 3, 4):
            self.assertEqual(self.passing(server, f"own-{i}"), [f"client-{i}"])

        # Damage behind an agent's back: anti-entropy registers the service again.
        victim = self.clients[4]
        resp = self.servers[1].put("/v1/catalog/deregister",
                                   body=json.dumps({"Node": victim.node, "ServiceID": "own-4"}))
        self.assertEqual(resp.status, 200, resp.text)
        self.wait_for(lambda: self.passing(server, "own-4") == [], "own-4 deregistered")
        deleted_at = time.monotonic()
        # One full pass within ae_interval plus its stagger (< one more interval); slack for
        # the loaded machine.
        self.wait_for(lambda: self.passing(server, "own-4") == ["client-4"], "own-4 restored",
                      timeout_s=2 * AE_INTERVAL_S + 15)
        print(f"own-4 restored {time.monotonic() - deleted_at:.1f}s after the deregistration")

        # The pool forgets client-2 after reconnect_timeout; the leader then deregisters it.
        self.wait_for(lambda: crashed.node not in (self.catalog_nodes(server) or {crashed.node}),
                      "client-2 reaped", timeout_s=RECONNECT_TIMEOUT_S + REAP_NOTICED_S)
        print(f"client-2 deregistered {time.monotonic() - killed_at:.1f}s after SIGKILL")
        self.wait_for(lambda: self.catalog_nodes(server) == self.names - {crashed.node},
                      "every other node still registered")
        self.assertEqual(self.passing(server, "web"), survivors)


if __name__ == "__main__":
    unittest.main()
