"""ACLs on three `proconsul agent -server` processes with acl.enabled and default_policy deny.

What Consul promises and this checks: /v1/acl/bootstrap answers a management token once and
then 403 "Permission denied: ACL bootstrap no longer allowed (reset index: N)"; without a
token (the anonymous token, which starts with no policies) KV reads and writes are refused
with 403; a token whose policy grants key_prefix "app/" write may write app/x and not other/x
(403 "Permission denied: token with AccessorID '...' lacks permission 'key:write' on
\"other/x\""); a recursive read leaves out keys the token may not read and says so with
X-Consul-Results-Filtered-By-ACLs: true; an unknown secret is 403 "ACL not found"; and a
token update takes effect on every server at once (each server's resolution cache is keyed
by its ACL tables' index). Tokens travel as X-Consul-Token, Authorization: Bearer and ?token=.
The CLI's `acl token update` and `acl role update` read the object first and change only what
their flags name (-append-* / -merge-* add, -no-merge replaces a role whole).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from proconsul import binary_path
from test_cluster import CONVERGE_S, ServerAgent, free_port


class AclClusterTest(unittest.TestCase):
    size = 3

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-acl-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config_file = os.path.join(self.root, "acl.json")
        with open(self.config_file, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1},
                       "acl": {"enabled": True, "default_policy": "deny",
                               "down_policy": "extend-cache"}}, out)
        self.ports = [free_port() for _ in range(self.size)]
        self.servers = []
        for i in range(self.size):
            data_dir = os.path.join(self.root, f"s{i}")
            os.makedirs(data_dir, exist_ok=True)
            peers = [p for j, p in enumerate(self.ports) if j != i]
            server = ServerAgent(f"server-{i}", data_dir, self.ports[i], peers, self.config_file)
            self.servers.append(server)
            self.addCleanup(server.stop)
            server.start()

    def until(self, what, fn, timeout_s=CONVERGE_S):
        """fn() until it returns a truthy value; that value, or a failure naming `what`."""
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.1)
        self.fail(f"{what}: still {last!r} after {timeout_s}s\n"
                  + "\n".join(s.output_tail(20) for s in self.servers))

    def bootstrap(self):
        def attempt():
            resp = self.servers[0].put("/v1/acl/bootstrap")
            return resp if resp.status == 200 else None
        return self.until("bootstrap", attempt).json()

    def test_bootstrap_permissions_filtering_and_updates_on_every_server(self):
        s0, s1, s2 = self.servers
        boot = self.bootstrap()
        root = {"X-Consul-Token": boot["SecretID"]}
        self.assertEqual(boot["ID"], boot["SecretID"])
        self.assertEqual(boot["Description"], "Bootstrap Token (Global Management)")
        self.assertEqual(boot["Policies"], [{"ID": "00000000-0000-0000-0000-000000000001",
                                             "Name": "global-management"}])
        again = s1.put("/v1/acl/bootstrap")
        self.assertEqual(again.status, 403, again.text)
        self.assertRegex(again.text,
                         r"^Permission denied: ACL bootstrap no longer allowed \(reset index: \d+\)$")

        # No token: the anonymous token, which grants nothing under default deny.
        anon = s0.put("/v1/kv/app/x", body="v")
        self.assertEqual(anon.status, 403, anon.text)
        self.assertIn("Permission denied", anon.text)
        bad = s0.get("/v1/kv/app/x", headers={"X-Consul-Token": "no-such-secret"})
        self.assertEqual((bad.status, bad.text), (403, "ACL not found"))

        policy = s1.put("/v1/acl/policy", headers=root, body={
            "Name": "app-write", "Rules": 'key_prefix "app/" { policy = "write" }'})
        self.assertEqual(policy.status, 200, policy.text)
        token = s2.put("/v1/acl/token", headers=root, body={
            "Description": "app", "Policies": [{"Name": "app-write"}]})
        self.assertEqual(token.status, 200, token.text)
        token = token.json()
        self.assertEqual(token["Policies"], [{"ID": policy.json()["ID"], "Name": "app-write"}])
        app = {"X-Consul-Token": token["SecretID"]}
        # Each server resolves tokens from its own replica: wait until every one holds it.
        for server in self.servers:
            self.until(f"{server.node} knows the new token", lambda: server.get(
                "/v1/acl/token/self?stale", headers=app).status == 200)

        ok = s0.put("/v1/kv/app/x", body="1", headers=app)
        self.assertEqual((ok.status, ok.json()), (200, True))
        denied = s0.put("/v1/kv/other/x", body="1", headers=app)
        self.assertEqual(denied.status, 403)
        self.assertEqual(denied.text, "Permission denied: token with AccessorID "
                         f"'{token['AccessorID']}' lacks permission 'key:write' on \"other/x\"")
        # The other ways of sending a token.
        bearer = s1.put("/v1/kv/app/y", body="2",
                        headers={"Authorization": f"Bearer {token['SecretID']}"})
        self.assertEqual(bearer.status, 200, bearer.text)
        query = s2.put(f"/v1/kv/app/z?token={token['SecretID']}", body="3")
        self.assertEqual(query.status, 200, query.text)

        self.assertEqual(s0.put("/v1/kv/other/secret", body="s", headers=root).status, 200)
        listing = s0.get("/v1/kv/?recurse", headers=app)
        self.assertEqual(listing.status, 200, listing.text)
        self.assertEqual(sorted(e["Key"] for e in listing.json()), ["app/x", "app/y", "app/z"])
        self.assertEqual(listing.header("X-Consul-Results-Filtered-By-ACLs"), "true")
        full = s0.get("/v1/kv/?recurse", headers=root)
        self.assertIsNone(full.header("X-Consul-Results-Filtered-By-ACLs"))
        self.assertEqual(len(full.json()), 4)
        keys = s0.get("/v1/kv/?keys", headers=app)
        self.assertEqual(keys.json(), ["app/x", "app/y", "app/z"])

        # Catalog reads: the token grants no node:read, so the node list comes back empty and
        # says it was filtered; the management token sees every server.
        nodes = self.until("servers registered", lambda: (
            lambda r: r if r.status == 200 and len(r.json()) == 3 else None)(
                s0.get("/v1/catalog/nodes", headers=root)))
        self.assertIsNone(nodes.header("X-Consul-Results-Filtered-By-ACLs"))
        hidden = s0.get("/v1/catalog/nodes", headers=app)
        self.assertEqual((hidden.status, hidden.json()), (200, []))
        self.assertEqual(hidden.header("X-Consul-Results-Filtered-By-ACLs"), "true")

        # Operator endpoints need operator:read (write for changes).
        op = s0.get("/v1/operator/raft/configuration", headers=app)
        self.assertEqual(op.status, 403, op.text)
        self.assertEqual(op.text, "Permission denied: token with AccessorID "
                         f"'{token['AccessorID']}' lacks permission 'operator:read'")
        self.assertEqual(s0.get("/v1/operator/raft/configuration", headers=root).status, 200)

        # The token may not manage ACLs.
        listed = s1.get("/v1/acl/tokens", headers=app)
        self.assertEqual(listed.status, 403, listed.text)
        self.assertIn("lacks permission 'acl:read'", listed.text)
        self.assertEqual(s1.get("/v1/acl/token/self", headers=app).json()["AccessorID"],
                         token["AccessorID"])

        # Update: read only. Every server refuses the write once the update has reached it.
        read_only = s1.put("/v1/acl/policy", headers=root, body={
            "Name": "app-read", "Rules": 'key_prefix "app/" { policy = "read" }'})
        self.assertEqual(read_only.status, 200, read_only.text)
        update = s2.put(f"/v1/acl/token/{token['AccessorID']}", headers=root,
                        body={"Description": "app", "Policies": [{"Name": "app-read"}]})
        self.assertEqual(update.status, 200, update.text)
        self.assertEqual(update.json()["SecretID"], token["SecretID"])
        for server in self.servers:
            self.until(f"{server.node} refuses the write after the update",
                       lambda: server.put("/v1/kv/app/x", body="4", headers=app).status == 403)
            read = server.get("/v1/kv/app/x?stale", headers=app)
            self.assertEqual(read.status, 200, read.text)

        # Deleting the token: every server then answers "ACL not found".
        gone = s0.delete(f"/v1/acl/token/{token['AccessorID']}", headers=root)
        self.assertEqual((gone.status, gone.json()), (200, True))
        for server in self.servers:
            self.until(f"{server.node} forgets the deleted token",
                       lambda: server.get("/v1/kv/app/x?stale", headers=app).text
                       == "ACL not found")

    def cli(self, server, token, *args):
        env = dict(os.environ, CONSUL_HTTP_TOKEN=token)
        env.pop("PROCONSUL_HTTP_TOKEN", None)
        return subprocess.run([binary_path(), *args, f"-http-addr=127.0.0.1:{server.port}"],
                              capture_output=True, text=True, env=env, timeout=30)

    def test_cli_bootstrap_policy_token(self):
        s0 = self.servers[0]
        boot = self.until("cli bootstrap", lambda: (
            lambda r: r if r.returncode == 0 else None)(self.cli(s0, "", "acl", "bootstrap")))
        fields = dict(line.split(":", 1) for line in boot.stdout.splitlines() if ":" in line
                      and not line.startswith("   "))
        secret = fields["SecretID"].strip()
        self.assertEqual(fields["Description"].strip(), "Bootstrap Token (Global Management)")
        self.assertIn("   00000000-0000-0000-0000-000000000001 - global-management", boot.stdout)
        again = self.cli(s0, "", "acl", "bootstrap")
        self.assertEqual(again.returncode, 1)
        self.assertIn("ACL bootstrap no longer allowed", again.stderr)

        policy = self.cli(s0, secret, "acl", "policy", "create", "-name", "app",
                          "-rules", 'key_prefix "app/" { policy = "write" }')
        self.assertEqual(policy.returncode, 0, policy.stderr)
        self.assertIn("Name:         app", policy.stdout)
        token = self.cli(s0, secret, "acl", "token", "create", "-description", "cli",
                         "-policy-name", "app")
        self.assertEqual(token.returncode, 0, token.stderr)
        accessor = token.stdout.splitlines()[0].split(":", 1)[1].strip()
        app_secret = token.stdout.splitlines()[1].split(":", 1)[1].strip()
        self.until("the token is known", lambda: s0.get(
            "/v1/acl/token/self?stale", headers={"X-Consul-Token": app_secret}).status == 200)
        self.assertEqual(s0.put("/v1/kv/app/cli", body="x",
                                headers={"X-Consul-Token": app_secret}).status, 200)
        listed = self.cli(s0, secret, "acl", "token", "list")
        self.assertIn(f"AccessorID:       {accessor}", listed.stdout)
        self.check_cli_token_updates(s0, secret, accessor, app_secret)
        self.check_cli_roles(s0, secret)
        gone = self.cli(s0, secret, "acl", "token", "delete", "-id", accessor)
        self.assertEqual(gone.returncode, 0, gone.stderr)
        self.assertEqual(gone.stdout, f'Token "{accessor}" deleted successfully\n')

    def ok(self, result):
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def check_cli_token_updates(self, s0, secret, accessor, app_secret):
        # An update reads the token first and changes only what its flags name.
        read = self.ok(self.cli(s0, secret, "acl", "token", "read", "-id", accessor))
        self.assertIn("Description:      cli", read)
        self.assertRegex(read, r"Policies:\n   [0-9a-f-]+ - app\n")
        self.ok(self.cli(s0, secret, "acl", "token", "update", "-id", accessor,
                         "-description", "renamed"))
        read = self.ok(self.cli(s0, secret, "acl", "token", "read", "-id", accessor))
        self.assertIn("Description:      renamed", read)
        self.assertRegex(read, r"Policies:\n   [0-9a-f-]+ - app\n")
        self.assertEqual(s0.put("/v1/kv/app/cli2", body="x",
                                headers={"X-Consul-Token": app_secret}).status, 200)
        # A service identity given replaces only the identities.
        self.ok(self.cli(s0, secret, "acl", "token", "update", "-id", accessor,
                         "-service-identity", "web"))
        read = self.ok(self.cli(s0, secret, "acl", "token", "read", "-id", accessor))
        self.assertIn("Description:      renamed", read)
        self.assertRegex(read, r"Policies:\n   [0-9a-f-]+ - app\n")
        self.assertIn("Service Identities:\n   web (Datacenters: all)", read)
        # Appending a policy keeps the ones there.
        self.ok(self.cli(s0, secret, "acl", "policy", "create", "-name", "extra",
                         "-rules", 'key_prefix "extra/" { policy = "read" }'))
        self.ok(self.cli(s0, secret, "acl", "token", "update", "-id", accessor,
                         "-append-policy-name", "extra"))
        read = self.ok(self.cli(s0, secret, "acl", "token", "read", "-id", accessor))
        self.assertRegex(read, r"Policies:\n   [0-9a-f-]+ - app\n   [0-9a-f-]+ - extra\n")
        # A policy update merges too: a description alone keeps the rules.
        self.ok(self.cli(s0, secret, "acl", "policy", "update", "-name", "extra",
                         "-description", "described"))
        policy = self.ok(self.cli(s0, secret, "acl", "policy", "read", "-name", "extra"))
        self.assertIn("Description:  described", policy)
        self.assertIn('key_prefix "extra/" { policy = "read" }', policy)
        # A local token with an expiry goes back as read: neither may change on update.
        made = self.ok(self.cli(s0, secret, "acl", "token", "create", "-description", "short",
                                "-local", "-expires-ttl", "10m"))
        short = made.splitlines()[0].split(":", 1)[1].strip()
        updated = self.ok(self.cli(s0, secret, "acl", "token", "update", "-id", short,
                                   "-description", "still-short"))
        self.assertIn("Local:            true", updated)
        self.assertIn("Expiration Time:", updated)
        missing = self.cli(s0, secret, "acl", "token", "update", "-id",
                           "00000000-0000-0000-0000-00000000dead", "-description", "x")
        self.assertEqual(missing.returncode, 1)
        self.assertTrue(missing.stderr.startswith("Error when retrieving current token: "),
                        missing.stderr)

    def check_cli_roles(self, s0, secret):
        made = self.ok(self.cli(s0, secret, "acl", "role", "create", "-name", "cli-role",
                                "-description", "first", "-policy-name", "app"))
        role_id = made.splitlines()[0].split(":", 1)[1].strip()
        # A description alone: the name and the policy stay (the server needs the name).
        updated = self.ok(self.cli(s0, secret, "acl", "role", "update", "-id", role_id,
                                   "-description", "second"))
        self.assertIn("Name:         cli-role", updated)
        self.assertIn("Description:  second", updated)
        self.assertRegex(updated, r"Policies:\n   [0-9a-f-]+ - app\n")
        self.ok(self.cli(s0, secret, "acl", "role", "update", "-id", role_id,
                         "-service-identity", "api", "-policy-name", "extra"))
        read = self.ok(self.cli(s0, secret, "acl", "role", "read", "-name", "cli-role"))
        self.assertRegex(read, r"Policies:\n   [0-9a-f-]+ - app\n   [0-9a-f-]+ - extra\n")
        self.assertIn("Service Identities:\n   api (Datacenters: all)", read)
        self.assertIn("Description:  second", self.ok(
            self.cli(s0, secret, "acl", "role", "read", "-id", role_id)))
        # -no-merge replaces every field.
        replaced = self.ok(self.cli(s0, secret, "acl", "role", "update", "-id", role_id,
                                    "-no-merge", "-name", "cli-role-2"))
        self.assertIn("Name:         cli-role-2", replaced)
        self.assertNotIn("Policies:", replaced)
        self.assertIn(f"ID:           {role_id}",
                      self.ok(self.cli(s0, secret, "acl", "role", "list")))
        gone = self.ok(self.cli(s0, secret, "acl", "role", "delete", "-id", role_id))
        self.assertEqual(gone, f'Role "{role_id}" deleted successfully\n')


if __name__ == "__main__":
    unittest.main()
