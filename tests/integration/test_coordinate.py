"""Network coordinates end to end: three servers and two client agents on loopback.

What Consul promises and this checks: every agent's LAN pool measures probe RTTs and moves its
Vivaldi coordinate; every agent sends it to a server (Consul's Coordinate.Update), which
batches updates into the log; /v1/coordinate/nodes then lists all five nodes with
8-dimensional coordinates whose error fell from the initial 1.5; /v1/coordinate/node/<node>
answers one node (404 for a node without one); ?near=_agent puts the serving agent's own node
first (on a client too, which names itself before forwarding); `proconsul rtt` prints
Consul's estimate line; bad updates get Consul's texts; and a node that leaves is deregistered
together with its coordinate.

Short intervals come from configuration: sync_coordinate_interval_min 1s (Consul's 15s) and
coordinate_update_period 500ms (Consul's 5s), with fast gossip probes.
"""

import json
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from proconsul import BackgroundCall, binary_path
from test_gossip import GOSSIP_LAN, start_gossip_cluster
from test_cluster import CONVERGE_S

# Generous for a loaded 2-core machine: gossip must converge, several probes per member must
# land, then a sync interval (with its stagger) and a batch period must pass.
COORDINATES_BOUND_S = CONVERGE_S + 40.0
ERROR_MAX = 1.5  # a fresh coordinate's error (serf's default)


class CoordinateTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-coord-")
        self.addCleanup(shutil.rmtree, self.root, True)
        settings = {"performance": {"raft_multiplier": 1}, "gossip_lan": GOSSIP_LAN,
                    "sync_coordinate_interval_min": "1s", "coordinate_update_period": "500ms"}
        start_gossip_cluster(self, self.root, settings, clients=2)

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            try:
                last = predicate()
                if last:
                    return last
            except (OSError, ValueError, KeyError, TypeError, AssertionError):
                pass
            time.sleep(0.2)
        logs = "\n".join(a.output_tail(15) for a in self.servers + self.clients)
        seen = json.dumps(getattr(self, "last_coordinates", None))
        self.fail(f"no {what} after {timeout_s}s\ncoordinates last seen: {seen}\n{logs}")

    def coordinates(self, agent):
        resp = agent.get("/v1/coordinate/nodes")
        if resp.status != 200:
            return {}
        return {c["Node"]: c for c in resp.json()}

    def all_moved(self, agent, names):
        coords = self.coordinates(agent)
        self.last_coordinates = coords
        if set(coords) != names:
            return False
        for c in coords.values():
            if len(c["Coord"]["Vec"]) != 8 or c["Segment"] != "":
                return False
            if not c["Coord"]["Error"] < ERROR_MAX:
                return False
        return coords

    def test_coordinates_near_rtt_and_deregistration(self):
        server, client, leaving = self.servers[0], self.clients[0], self.clients[1]
        started = time.monotonic()
        coords = self.wait_for(lambda: self.all_moved(server, self.names),
                               "coordinates of all five nodes", timeout_s=COORDINATES_BOUND_S)
        print(f"all five coordinates in {time.monotonic() - started:.1f}s")
        self.assertEqual(set(coords), self.names)
        # A client forwards the read; the answer is the same table, with its index.
        resp = client.get("/v1/coordinate/nodes")
        self.assertEqual(resp.status, 200, resp.text)
        self.assertGreater(resp.index, 0)
        self.assertEqual({c["Node"] for c in resp.json()}, self.names)
        self.assertEqual(client.get("/v1/coordinate/nodes?segment=other").json(), [])

        one = server.get("/v1/coordinate/node/client-0")
        self.assertEqual(one.status, 200, one.text)
        self.assertEqual([c["Node"] for c in one.json()], ["client-0"])
        self.assertEqual(server.get("/v1/coordinate/node/ghost").status, 404)

        dcs = server.get("/v1/coordinate/datacenters")
        self.assertEqual(dcs.status, 200, dcs.text)
        # The servers flood-join each other's WAN pool: dc1 lists the WAN coordinates of all
        # three once their WAN acks have carried them.
        want = sorted(s.node for s in self.servers)  # without ".dc1", as Consul names them
        self.wait_for(lambda: [sorted(c["Node"] for c in d["Coordinates"])
                               for d in server.get("/v1/coordinate/datacenters").json()] == [want],
                      "the WAN coordinates of the three servers")
        [dc1] = server.get("/v1/coordinate/datacenters").json()
        self.assertEqual((dc1["Datacenter"], dc1["AreaID"]), ("dc1", "wan"))
        self.assertEqual(len(dc1["Coordinates"][0]["Coord"]["Vec"]), 8)

        # ?near=_agent: the serving agent's node first, on a server and on a client.
        for agent in (self.servers[1], client):
            nodes = [n["Node"] for n in agent.get("/v1/catalog/nodes?near=_agent").json()]
            self.assertEqual(nodes[0], agent.node, nodes)
            self.assertEqual(set(nodes), self.names)
        nodes = [n["Node"] for n in server.get("/v1/catalog/nodes?near=client-1").json()]
        self.assertEqual(nodes[0], "client-1")
        entries = client.get("/v1/health/service/consul?near=_agent").json()
        self.assertEqual({e["Node"]["Node"] for e in entries}, {s.node for s in self.servers})

        # proconsul rtt, with two names and with one (the agent's own node).
        for args, pair in ((["client-0", "server-1"], "client-0 <-> server-1"),
                           (["server-2"], "server-2 <-> client-0")):
            proc = subprocess.run([binary_path(), "rtt", f"-http-addr={client.http_addr}"] + args,
                                  capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertRegex(proc.stdout, r"^Estimated " + re.escape(pair) +
                             r" rtt: \d+\.\d{3} ms \(using LAN coordinates\)\n$")
        proc = subprocess.run([binary_path(), "rtt", f"-http-addr={client.http_addr}", "ghost"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, 'Could not find a coordinate for node "ghost"\n')

        # Consul's answers to bad updates (the RPC's errors: 500).
        bad = {"Node": "client-0", "Coord": {"Vec": [0.1, 0.2], "Error": 1.5, "Height": 1e-5}}
        resp = client.put("/v1/coordinate/update", body=json.dumps(bad))
        self.assertEqual(resp.status, 500)
        self.assertTrue(resp.text.startswith("rejected bad coordinate: "), resp.text)
        bad["Coord"] = {"Vec": [0.0] * 8, "Error": -1.0}
        resp = server.put("/v1/coordinate/update", body=json.dumps(bad))
        self.assertEqual((resp.status, resp.text), (500, "invalid coordinate"))

        # A blocking read of the table wakes when it changes (here: at the latest when the
        # leaving client's coordinate goes).
        index = server.get("/v1/coordinate/nodes").index
        call = BackgroundCall(server.get, f"/v1/coordinate/nodes?index={index}&wait=60s",
                              timeout=90)
        # A client that leaves is deregistered, and its coordinate goes with its node.
        exit_code, graceful = leaving.stop()
        self.assertEqual((exit_code, graceful), (0, True))
        self.wait_for(lambda: "client-1" not in self.coordinates(server),
                      "client-1's coordinate removed")
        self.assertNotIn("client-1", {n["Node"] for n in server.get("/v1/catalog/nodes").json()})
        self.assertGreater(server.get("/v1/coordinate/nodes").index, index)
        woke = call.join(60)
        self.assertEqual(woke.status, 200)
        self.assertGreater(woke.index, index)
        self.assertLess(call.elapsed, 59)


if __name__ == "__main__":
    unittest.main()
