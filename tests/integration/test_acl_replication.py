"""ACL replication from a primary datacenter to a secondary: one server each, on loopback.

What Consul promises and this checks: with primary_datacenter dc1, ACLs on and default deny
in both datacenters, dc2's leader copies dc1's policies, roles and (with
acl.enable_token_replication) global tokens, authorized by acl.tokens.replication; a policy
and a token made in dc1 are honoured in dc2 shortly after, and so is a token whose only
grant is a role made in dc1 (ReplicatedRoleIndex moves) (the primary holds each fetch
until its index moves, so the bound here is generous only for a loaded machine); a token
made in dc2 with Local true stays in dc2; a policy update in dc1 changes what the token may
do in dc2; /v1/acl/replication in dc2 shows Enabled, Running, SourceDatacenter dc1,
ReplicationType "tokens" and indexes that move with writes in dc1, and in dc1 Enabled false;
bootstrap in dc2 answers 401 "ACL support disabled" as Consul's secondaries do, and policy
and global token writes sent to dc2 are run in dc1 (and come back by replication); with dc1 stopped, dc2 keeps serving with the replicated state
and reports the error; once dc1 is back, a write there reaches dc2 again.
"""

import json
import os
import shutil
import tempfile
import time
import unittest

from test_cluster import CONVERGE_S, free_port
from test_gossip import GOSSIP_KEY, GOSSIP_LAN as FAST_GOSSIP
from test_wan import WanServer

ROOT = "11111111-2222-3333-4444-555555555555"         # dc1's initial_management secret
REPLICATION = "66666666-7777-8888-9999-aaaaaaaaaaaa"  # acl.tokens.replication in dc2
# A change made in dc1 must be honoured in dc2 within this (about a second unloaded).
REPLICATION_BOUND_S = 15.0


class DcServer(WanServer):
    """test_wan's server with a fixed WAN port and -retry-join-wan, alone in its datacenter."""

    def __init__(self, node, dc, data_dir, server_port, config_file, wan_port, wan_joins):
        super().__init__(node, dc, data_dir, server_port, [], config_file, wan_port, wan_joins)
        self.bootstrap_expect = 1


class AclReplicationBed(unittest.TestCase):
    """dc1 (primary) and dc2 (secondary), one server each; no tests of its own."""
    TOKEN_REPLICATION = True

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-acl-repl-")
        self.addCleanup(shutil.rmtree, self.root, True)
        common = {"performance": {"raft_multiplier": 1}, "gossip_lan": FAST_GOSSIP,
                  "gossip_wan": FAST_GOSSIP, "retry_interval_wan": "1s", "encrypt": GOSSIP_KEY,
                  "primary_datacenter": "dc1"}
        primary = dict(common, acl={"enabled": True, "default_policy": "deny",
                                    "tokens": {"initial_management": ROOT}})
        secondary = dict(common, acl={"enabled": True, "default_policy": "deny",
                                      "enable_token_replication": self.TOKEN_REPLICATION,
                                      "tokens": {"replication": REPLICATION}})
        wan = [free_port(), free_port()]
        self.layout = []
        self.servers = []
        for i, (node, dc, cfg) in enumerate([("s1", "dc1", primary), ("s2", "dc2", secondary)]):
            config_file = os.path.join(self.root, f"{dc}.json")
            with open(config_file, "w", encoding="utf-8") as out:
                json.dump(cfg, out)
            data_dir = os.path.join(self.root, node)
            os.makedirs(data_dir)
            # Each joins the other over the WAN, so a restarted server finds its peer again.
            self.layout.append((node, dc, data_dir, free_port(), config_file, wan[i],
                                [wan[1 - i]]))
            self.servers.append(self.launch(i))

    def launch(self, i):
        server = DcServer(*self.layout[i])
        self.addCleanup(server.stop)
        server.start()
        return server

    def until(self, what, fn, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.1)
        self.fail(f"{what}: still {last!r} after {timeout_s}s\n"
                  + "\n".join(s.output_tail(30) for s in self.servers))

    def put_json(self, server, path, body, token):
        return server.put(path, body=json.dumps(body), headers={"X-Consul-Token": token})

    def write_ok(self, server, path, body, token=ROOT):
        """A write retried until the server has a leader and answers 200; its JSON."""
        def attempt():
            resp = self.put_json(server, path, body, token)
            return resp if resp.status == 200 else None
        return self.until(f"PUT {path} on {server.node}", attempt).json()

    def kv_status(self, server, key, token):
        return server.put(f"/v1/kv/{key}", body="v", headers={"X-Consul-Token": token}).status

    def status(self, server):
        resp = server.get("/v1/acl/replication")
        self.assertEqual(resp.status, 200, resp.text)
        return resp.json()

    def replication_token_and_app_token(self, dc1):
        """In dc1: the replication token (acl:write, so global tokens' secrets may travel) and
        a token allowed to write app/...; the app token's JSON."""
        self.write_ok(dc1, "/v1/acl/policy", {"Name": "replication", "Rules": 'acl = "write"'})
        self.write_ok(dc1, "/v1/acl/token", {"SecretID": REPLICATION,
                                             "Policies": [{"Name": "replication"}]})
        self.write_ok(dc1, "/v1/acl/policy", {"Name": "app", "Rules": 'key_prefix "app/" '
                                                                      '{ policy = "write" }'})
        return self.write_ok(dc1, "/v1/acl/token", {"Policies": [{"Name": "app"}]})


class RemoteTokenResolutionTest(AclReplicationBed):
    """Without acl.enable_token_replication the secondary holds no global token, and asks
    the primary for the ones it is shown (Consul's secondaries resolve them remotely)."""
    TOKEN_REPLICATION = False

    def test_a_global_token_works_in_the_secondary_without_being_copied(self):
        dc1, dc2 = self.servers
        app = self.replication_token_and_app_token(dc1)
        self.until("the app token honoured in dc2",
                   lambda: self.kv_status(dc2, "app/x", app["SecretID"]) == 200,
                   REPLICATION_BOUND_S)
        self.assertEqual(self.kv_status(dc2, "other/x", app["SecretID"]), 403)
        self.assertEqual(self.kv_status(dc2, "app/x", "no-such-secret"), 403)
        # Resolved, not copied: dc2's token table has no app token.
        listed = dc2.get("/v1/acl/tokens", headers={"X-Consul-Token": ROOT})
        self.assertEqual(listed.status, 200, listed.text)
        self.assertNotIn(app["AccessorID"], [t["AccessorID"] for t in listed.json()])


class AclReplicationTest(AclReplicationBed):
    def test_primary_state_reaches_the_secondary_and_survives_the_primary(self):
        dc1, dc2 = self.servers
        app = self.replication_token_and_app_token(dc1)
        secret = app["SecretID"]

        start = time.monotonic()
        self.until("the app token honoured in dc2",
                   lambda: self.kv_status(dc2, "app/x", secret) == 200, REPLICATION_BOUND_S)
        first_seen_s = time.monotonic() - start
        self.assertEqual(self.kv_status(dc2, "other/x", secret), 403)
        self.assertEqual(self.kv_status(dc2, "app/x", ""), 403)

        status = self.until("dc2 replication running",
                            lambda: (s := self.status(dc2))["Running"] and s)
        self.assertTrue(status["Enabled"])
        self.assertEqual(status["SourceDatacenter"], "dc1")
        self.assertEqual(status["ReplicationType"], "tokens")
        self.assertGreater(status["ReplicatedIndex"], 0)
        self.assertGreater(status["ReplicatedTokenIndex"], 0)
        self.assertNotEqual(status["LastSuccess"], "0001-01-01T00:00:00Z")
        primary_status = self.status(dc1)
        self.assertFalse(primary_status["Enabled"])
        self.assertFalse(primary_status["Running"])

        # Roles replicate too: a role made in dc1 with a policy, and a token holding only the
        # role, work in dc2 once both are there; ReplicatedRoleIndex says the roles came.
        role_index = status["ReplicatedRoleIndex"]
        self.write_ok(dc1, "/v1/acl/policy", {"Name": "ops-kv", "Rules": 'key_prefix "ops/" '
                                                                         '{ policy = "write" }'})
        role = self.write_ok(dc1, "/v1/acl/role", {"Name": "ops",
                                                    "Policies": [{"Name": "ops-kv"}]})
        ops = self.write_ok(dc1, "/v1/acl/token", {"Roles": [{"Name": "ops"}]})
        self.until("the role's token honoured in dc2",
                   lambda: self.kv_status(dc2, "ops/x", ops["SecretID"]) == 200,
                   REPLICATION_BOUND_S)
        self.assertEqual(self.kv_status(dc2, "app/x", ops["SecretID"]), 403)
        in_dc2 = dc2.get(f"/v1/acl/role/{role['ID']}", headers={"X-Consul-Token": ROOT})
        self.assertEqual(in_dc2.status, 200, in_dc2.text)
        self.assertEqual([p["Name"] for p in in_dc2.json()["Policies"]], ["ops-kv"])
        self.until("ReplicatedRoleIndex moved past the role's write",
                   lambda: self.status(dc2)["ReplicatedRoleIndex"] > role_index)

        # Only the primary bootstraps; global objects sent to dc2 are written in dc1 and come
        # back through replication.
        boot = dc2.put("/v1/acl/bootstrap")
        self.assertEqual((boot.status, boot.text.strip()), (401, "ACL support disabled"))
        via_dc2 = self.write_ok(dc2, "/v1/acl/policy", {"Name": "via-dc2", "Rules": ""})
        in_primary = dc1.get(f"/v1/acl/policy/{via_dc2['ID']}", headers={"X-Consul-Token": ROOT})
        self.assertEqual(in_primary.status, 200, in_primary.text)
        global_via_dc2 = self.write_ok(dc2, "/v1/acl/token", {"Policies": [{"Name": "app"}]})
        self.assertFalse(global_via_dc2["Local"])
        self.until("the token written through dc2 replicated back to dc2",
                   lambda: self.kv_status(dc2, "app/g", global_via_dc2["SecretID"]) == 200,
                   REPLICATION_BOUND_S)

        # A local token made in dc2 stays there, and may use replicated policies.
        local = self.write_ok(dc2, "/v1/acl/token", {"Local": True,
                                                      "Policies": [{"Name": "app"}]})
        self.assertTrue(local["Local"])
        self.assertEqual(self.kv_status(dc2, "app/local", local["SecretID"]), 200)
        time.sleep(1.0)  # a replication pass would have copied it by now, were it global
        in_dc1 = dc1.get(f"/v1/acl/token/{local['AccessorID']}",
                         headers={"X-Consul-Token": ROOT})
        self.assertIn(in_dc1.status, (403, 404), in_dc1.text)
        self.assertEqual(self.kv_status(dc1, "app/local", local["SecretID"]), 403)

        # A policy update in dc1 changes what the token may do in dc2; the index moves.
        policy_index = status["ReplicatedIndex"]
        self.write_ok(dc1, f"/v1/acl/policy/{app['Policies'][0]['ID']}",
                      {"Name": "app", "Rules": 'key_prefix "other/" { policy = "write" }'})
        self.until("the updated policy honoured in dc2",
                   lambda: self.kv_status(dc2, "other/x", secret) == 200, REPLICATION_BOUND_S)
        self.assertEqual(self.kv_status(dc2, "app/x", secret), 403)
        self.until("ReplicatedIndex moved",
                   lambda: self.status(dc2)["ReplicatedIndex"] > policy_index)

        # dc1 down: dc2 serves on with what it has, and reports the failure.
        dc1.stop()
        self.assertEqual(self.kv_status(dc2, "other/y", secret), 200)
        self.assertEqual(self.kv_status(dc2, "app/y", secret), 403)
        listed = dc2.get("/v1/acl/policies", headers={"X-Consul-Token": ROOT})
        self.assertEqual(listed.status, 200, listed.text)
        self.assertIn("app", [p["Name"] for p in listed.json()])
        failing = self.until("dc2 reports the unreachable primary",
                             lambda: (s := self.status(dc2))["LastErrorMessage"] and s,
                             CONVERGE_S + 15)
        self.assertNotEqual(failing["LastError"], "0001-01-01T00:00:00Z")

        # dc1 back: a new token there reaches dc2.
        dc1 = self.servers[0] = self.launch(0)
        late = self.write_ok(dc1, "/v1/acl/token", {"Policies": [{"Name": "app"}]})
        self.until("a token made after the restart honoured in dc2",
                   lambda: self.kv_status(dc2, "other/z", late["SecretID"]) == 200,
                   CONVERGE_S + REPLICATION_BOUND_S)
        print(f"first replication seen in dc2 after {first_seen_s:.2f}s")


if __name__ == "__main__":
    unittest.main()
