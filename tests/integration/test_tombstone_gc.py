"""KV tombstones in a three-server datacenter: only the leader reaps them.

What Consul promises and this checks: a deleted key leaves a tombstone (so a blocking list
over its prefix sees the index move), which the leader reaps through the log once the
tombstone TTL has passed, whichever server the delete was sent to; followers propose no
reap; after a failover the new leader reaps the tombstones made under the old one.

tombstone_ttl (Consul's internal TombstoneTTL, 15 min; a key here) is lowered to 2 s so the
test runs in seconds. Reaps are observed in the servers' debug logs ("reaping tombstones up
to index N"), which only the proposing server writes.
"""

import json
import os
import re
import shutil
import tempfile
import time
import unittest

from test_cluster import CONVERGE_S, start_servers

REAP_RE = re.compile(r"reaping tombstones up to index (\d+)")


class TombstoneGcTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-tombstone-gc-")
        self.addCleanup(shutil.rmtree, self.root, True)
        config = os.path.join(self.root, "fast.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1}, "tombstone_ttl": "2s"}, out)
        self.ports, self.servers = start_servers(self, self.root, config)

    def wait_for(self, predicate, what, servers=None, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        self.fail(f"no {what} after {timeout_s}s\n"
                  + "\n".join(s.output_tail(30) for s in servers or self.servers)
                  + "\nGC lines:\n" + "\n".join(
                      f"{s.node}: {line}" for s in self.servers for line in s.output()
                      if "tombstone" in line or "leader in term" in line))

    def leader_among(self, servers):
        """The server among `servers` that all of them agree leads (right after a leader
        dies the survivors may still name it for a moment)."""
        found = {}

        def agreed():
            seen = {s.get("/v1/status/leader").json() for s in servers}
            if len(seen) == 1 and "" not in seen:
                port = int(seen.pop().rsplit(":", 1)[1])
                leader = self.servers[self.ports.index(port)]
                if leader in servers:
                    found["leader"] = leader
                    return True
            return False
        self.wait_for(agreed, "agreed leader", servers)
        return found["leader"]

    @staticmethod
    def reaped_up_to(server):
        """The highest index `server` proposed a reap up to; 0 if it never did."""
        return max((int(m.group(1)) for line in server.output()
                    for m in [REAP_RE.search(line)] if m), default=0)

    def delete_through(self, server, key):
        """Writes and deletes `key` through `server`; returns the delete's index."""
        self.wait_for(lambda: server.kv_put(key, b"v").status == 200, f"a write of {key}")
        resp = server.kv_delete(key)
        self.assertEqual(resp.status, 200, resp.text)
        resp = server.kv_get(key, {"consistent": ""})
        self.assertEqual(resp.status, 404, resp.text)
        return resp.index  # the tombstone table's index: the delete's, or later

    def test_only_the_leader_reaps_and_a_new_leader_reaps_what_the_old_one_left(self):
        leader = self.leader_among(self.servers)
        followers = [s for s in self.servers if s is not leader]
        index = self.delete_through(followers[0], "gc/a")
        self.wait_for(lambda: self.reaped_up_to(leader) >= index, f"reap up to {index} on the leader")
        # Followers saw the same tombstone applied and passed the same TTL: none proposed.
        for follower in followers:
            self.assertEqual(self.reaped_up_to(follower), 0,
                             f"{follower.node} proposed a reap\n{follower.output_tail(30)}")

        # A tombstone made just before the leader dies is reaped by the next leader, which
        # did not reap it as a follower.
        index = self.delete_through(followers[1], "gc/b")
        leader.proc.kill()
        leader.proc.wait()
        new_leader = self.leader_among(followers)
        self.wait_for(lambda: self.reaped_up_to(new_leader) >= index,
                      f"reap up to {index} on the new leader", followers)
        other = next(s for s in followers if s is not new_leader)
        self.assertEqual(self.reaped_up_to(other), 0, other.output_tail(30))
        for server in followers:
            server.stop_checked()


if __name__ == "__main__":
    unittest.main()
