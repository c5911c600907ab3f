"""The LAN member list on disk (serf's snapshot, <data_dir>/serf/local.snapshot).

What Consul promises and this checks: an agent writes down the members it sees alive; when
it is restarted after a crash it joins them again by itself, without any retry_join target
that answers; one that left gracefully (SIGTERM: leave_on_terminate) does not rejoin on its
next start (rejoin_after_leave is false by default).

A client agent needs a server address for its RPC, so the restarted client here is given
one where nothing listens: its retry_join never succeeds, and only the member list can bring
it back into the pool.
"""

import json
import os
import shutil
import signal
import tempfile
import time
import unittest

from test_client_agent import ClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port
from test_gossip import GOSSIP_KEY, GOSSIP_LAN, SERF_ALIVE, GossipClient


class LanRejoinTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-rejoin-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config = os.path.join(self.root, "fast.json")
        with open(self.config, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1}, "gossip_lan": GOSSIP_LAN,
                       "encrypt": GOSSIP_KEY}, out)
        port = free_port()
        os.makedirs(os.path.join(self.root, "s0"))
        self.server = ServerAgent("server-0", os.path.join(self.root, "s0"), port, [],
                                  self.config, bootstrap_expect=1)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.client_dir = os.path.join(self.root, "c0")
        os.makedirs(self.client_dir)
        self.client = self.start_client([port])

    def start_client(self, servers):
        client = GossipClient("client-0", self.client_dir, servers, self.config)
        self.addCleanup(client.stop)
        client.start()
        return client

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        self.fail(f"no {what} after {timeout_s}s\n{self.server.output_tail(20)}\n"
                  f"{self.client.output_tail(20)}")

    def statuses(self, agent):
        return {m["Name"]: m["Status"] for m in agent.get("/v1/agent/members").json()}

    def both_alive(self):
        want = {"server-0": SERF_ALIVE, "client-0": SERF_ALIVE}
        return self.statuses(self.server) == want and self.statuses(self.client) == want

    def test_crashed_client_rejoins_from_disk_a_departed_one_does_not(self):
        self.wait_for(self.both_alive, "both members alive")
        snapshot = os.path.join(self.client_dir, "serf", "local.snapshot")
        with open(snapshot, encoding="utf-8") as f:
            self.assertIn("alive: server-0 127.0.0.1:", f.read())

        # kill -9, then a restart whose retry_join finds nobody: the list on disk rejoins.
        self.client.proc.send_signal(signal.SIGKILL)
        self.client.proc.wait(10)
        nobody = free_port()
        self.client = self.start_client([nobody])
        self.wait_for(self.both_alive, "the restarted client back in the pool")

        # SIGTERM leaves the pool; the next start does not rejoin by itself.
        exit_code, graceful = self.client.stop()
        self.assertEqual((exit_code, graceful), (0, True))
        with open(snapshot, encoding="utf-8") as f:
            self.assertTrue(f.read().endswith("leave\n"))
        self.client = self.start_client([nobody])
        self.wait_for(lambda: "client-0" in self.statuses(self.client), "client up")
        time.sleep(5)  # long enough for a rejoin from disk, which must not happen
        self.assertEqual(list(self.statuses(self.client)), ["client-0"])


if __name__ == "__main__":
    unittest.main()
