"""Session TTLs in a three-server datacenter: only the leader keeps the timers.

What Consul promises and this checks: a session with a TTL lives as long as it is renewed
within the TTL, whichever server the create and the renewals are sent to (a follower passes
a renewal to the leader, which owns the timers); once renewals stop it is destroyed about
twice the TTL later, everywhere; a new leader after a failover arms every session anew.

session_ttl_min is lowered to 1s so the test runs in seconds (Consul's minimum is 10s).
"""

import json
import os
import shutil
import tempfile
import time
import unittest

from test_cluster import CONVERGE_S, start_servers

TTL_S = 2


class SessionTtlTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-session-ttl-")
        self.addCleanup(shutil.rmtree, self.root, True)
        config = os.path.join(self.root, "fast.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1}, "session_ttl_min": "1s"}, out)
        self.ports, self.servers = start_servers(self, self.root, config)

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return time.monotonic()
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        self.fail(f"no {what} after {timeout_s}s\n"
                  + "\n".join(s.output_tail(20) for s in self.servers))

    def roles(self):
        """(leader, followers) once every server agrees on the leader and it can write."""
        leader_address = {}

        def agreed():
            seen = {s.get("/v1/status/leader").json() for s in self.servers}
            if len(seen) == 1 and "" not in seen:
                leader_address["a"] = seen.pop()
                return True
            return False
        self.wait_for(agreed, "agreed leader")
        port = int(leader_address["a"].rsplit(":", 1)[1])
        leader = self.servers[self.ports.index(port)]
        # The servers register themselves once there is a leader; sessions need the node.
        names = {s.node for s in self.servers}
        self.wait_for(lambda: names <= {n["Node"] for n in
                                        self.servers[0].get("/v1/catalog/nodes").json()},
                      "every server's node in the catalog")
        return leader, [s for s in self.servers if s is not leader]

    def create(self, server):
        body = json.dumps({"TTL": f"{TTL_S}s", "Node": server.node})
        resp = server.put("/v1/session/create", body=body)
        self.assertEqual(resp.status, 200, resp.text)
        return resp.json()["ID"]

    def exists(self, server, sid):
        resp = server.get(f"/v1/session/info/{sid}")
        return resp.status == 200 and bool(resp.json())

    def test_renewals_through_any_server_keep_a_session_alive(self):
        leader, (f1, f2) = self.roles()
        sid = self.create(f1)
        # Renew through the other follower for four times the TTL.
        end = time.monotonic() + 4 * TTL_S
        last_renewal = time.monotonic()
        while time.monotonic() < end:
            last_renewal = time.monotonic()
            resp = f2.put(f"/v1/session/renew/{sid}")
            self.assertEqual(resp.status, 200, resp.text)
            self.assertEqual(resp.json()[0]["ID"], sid)
            time.sleep(TTL_S / 4)
        for server in self.servers:
            self.assertTrue(self.exists(server, sid), f"{server.node} lost the session")
        # Renewals stop: gone everywhere about 2x TTL after the last one (the timer restarts
        # when the leader handles it, after it was sent).
        gone = self.wait_for(lambda: not any(self.exists(s, sid) for s in self.servers),
                             "expiry", timeout_s=4 * TTL_S + 10)
        self.assertGreaterEqual(gone - last_renewal, 2 * TTL_S - 0.1)

    def test_an_unrenewed_session_expires_and_a_new_leader_arms_the_rest(self):
        leader, (f1, f2) = self.roles()
        short = self.create(f1)
        start = time.monotonic()
        gone = self.wait_for(lambda: not self.exists(leader, short), "expiry",
                             timeout_s=4 * TTL_S + 10)
        self.assertGreaterEqual(gone - start, 2 * TTL_S - 0.1)
        # A session renewed through a follower, then the leader dies: the new leader arms
        # it anew, so it lives through the failover if renewed, and expires if not.
        kept = self.create(f2)
        self.assertEqual(f1.put(f"/v1/session/renew/{kept}").status, 200)
        leader.stop()
        survivors = [f1, f2]
        end = time.monotonic() + 4 * TTL_S
        while time.monotonic() < end:
            for s in survivors:
                if s.put(f"/v1/session/renew/{kept}").status == 200:
                    break
            time.sleep(TTL_S / 4)
        self.assertTrue(any(self.exists(s, kept) for s in survivors))
        self.wait_for(lambda: not any(self.exists(s, kept) for s in survivors),
                      "expiry after the failover", timeout_s=4 * TTL_S + 15)


if __name__ == "__main__":
    unittest.main()
