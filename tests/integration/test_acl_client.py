"""ACLs on a client agent beside a server with acl.enabled and default_policy deny.

What Consul promises and this checks: a client agent resolves tokens through a server and
enforces them on the endpoints it answers itself: /v1/agent/self needs agent:read on its node
and /v1/agent/service/register service:write on the service ("ACL not found" for an unknown
secret, 403 with Consul's "Permission denied: token with AccessorID ..." text otherwise); a
resolved token is cached for acl.token_ttl, so a policy change reaches the client within
that; anti-entropy writes act for acl.tokens.agent and the server checks them: with a token
that has node:write the node reaches the catalog, and a service registered through the agent
API is written acting for the token it was registered with (Consul keeps a token per service);
with no agent token (the anonymous token) the node is refused and the agent logs the denial
("... blocked by ACLs") and goes on with the writes other tokens may make. A server's own
anti-entropy is checked the same way against its agent token. While no server answers,
acl.down_policy decides: extend-cache keeps answering from resolved tokens however old and
denies unseen ones; deny refuses everything once the cached entry is older than the TTL.
The audit log works on a client agent too: the requests it answers and the ones it forwards
get their start and completion lines naming the accessor its server resolved.
"""

import glob
import json
import os
import shutil
import tempfile
import time
import unittest

from proconsul import Agent
from test_cluster import CONVERGE_S, ServerAgent, free_port, lan_port_of

ROOT = "root-secret-0000"
TTL_S = 1.0


class AclClientAgent(Agent):
    """`agent` (client mode) with a config file, joining one server's LAN gossip port."""

    def __init__(self, node, data_dir, server_port, config_file):
        super().__init__(node=node)
        self.data_dir = data_dir
        self.server_port = server_port
        self.config_file = config_file

    def command(self):
        return [super().command()[0], "agent", "-data-dir", self.data_dir, "-node", self.node,
                "-bind", "127.0.0.1", "-http-port", "0", "-dns-port", "-1",
                "-serf-lan-port", "0", "-retry-interval", "1s",
                "-retry-join", f"127.0.0.1:{lan_port_of(self.server_port)}",
                "-config-file", self.config_file, "-log-level", "debug"]


class AclClientTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-acl-client-")
        self.addCleanup(shutil.rmtree, self.root, True)
        config = self.write_config("server.json", {
            "performance": {"raft_multiplier": 1},
            "acl": {"enabled": True, "default_policy": "deny",
                    "tokens": {"initial_management": ROOT}}})
        port = free_port()
        data_dir = os.path.join(self.root, "s0")
        os.makedirs(data_dir)
        self.server = ServerAgent("server-0", data_dir, port, [], config, bootstrap_expect=1)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.agents = [self.server]
        self.until("the management token works", lambda: self.server.get(
            "/v1/acl/token/self", headers={"X-Consul-Token": ROOT}).status == 200)

    def write_config(self, name, content):
        path = os.path.join(self.root, name)
        with open(path, "w", encoding="utf-8") as out:
            json.dump(content, out)
        return path

    def until(self, what, fn, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            try:
                last = fn()
            except (OSError, ValueError) as e:
                last = e
            if last is True or (last and not isinstance(last, Exception)):
                return last
            time.sleep(0.1)
        self.fail(f"{what}: still {last!r} after {timeout_s}s\n"
                  + "\n".join(a.output_tail(30) for a in self.agents))

    def token(self, name, rules):
        """A token whose one policy `name` has `rules`: (secret, accessor, policy id)."""
        root = {"X-Consul-Token": ROOT}
        policy = self.server.put("/v1/acl/policy", headers=root,
                                 body={"Name": name, "Rules": rules})
        self.assertEqual(policy.status, 200, policy.text)
        token = self.server.put("/v1/acl/token", headers=root,
                                body={"Description": name, "Policies": [{"Name": name}]})
        self.assertEqual(token.status, 200, token.text)
        t = token.json()
        return t["SecretID"], t["AccessorID"], policy.json()["ID"]

    def start_client(self, acl):
        config = self.write_config("client.json", {"acl": dict(
            {"enabled": True, "default_policy": "deny", "token_ttl": f"{TTL_S}s"}, **acl)})
        data_dir = os.path.join(self.root, "c0")
        os.makedirs(data_dir)
        client = AclClientAgent("client-0", data_dir, self.server.server_port, config)
        self.addCleanup(client.stop)
        client.start()
        self.agents.append(client)
        # The client is usable once gossip has told it where the server is.
        self.until("the client reaches the server",
                   lambda: client.get("/v1/status/leader").json() != "")
        return client

    def catalog_services(self, node):
        resp = self.server.get(f"/v1/catalog/node/{node}", headers={"X-Consul-Token": ROOT})
        return (resp.json() or {}).get("Services", {}) if resp.status == 200 else {}

    def self_status(self, client, secret):
        return client.get("/v1/agent/self", headers={"X-Consul-Token": secret}).status

    def test_agent_endpoints_anti_entropy_policy_changes_and_extend_cache(self):
        # The agent token may write nodes, not services: web-1 below reaches the catalog
        # acting for the token it was registered with.
        agent_secret, _, _ = self.token("agent", 'node_prefix "" { policy = "write" }')
        reader, reader_accessor, reader_policy = self.token(
            "reader", 'agent_prefix "" { policy = "read" }')
        web, _, _ = self.token("web", 'service "web" { policy = "write" }\n'
                                      'agent_prefix "" { policy = "read" }')
        client = self.start_client({"down_policy": "extend-cache",
                                    "tokens": {"agent": agent_secret}})

        # agent:read on the client's own endpoint, resolved through the server.
        anon = client.get("/v1/agent/self")
        self.assertEqual(anon.status, 403, anon.text)
        self.assertIn("lacks permission 'agent:read' on \"client-0\"", anon.text)
        unknown = client.get("/v1/agent/self", headers={"X-Consul-Token": "no-such-secret"})
        self.assertEqual((unknown.status, unknown.text), (403, "ACL not found"))
        me = client.get("/v1/agent/self", headers={"X-Consul-Token": reader})
        self.assertEqual(me.status, 200, me.text)
        self.assertFalse(me.json()["Config"]["Server"])

        # service:write on the registered service, checked by the client.
        service = json.dumps({"Name": "web", "ID": "web-1", "Port": 80})
        denied = client.put("/v1/agent/service/register", body=service,
                            headers={"X-Consul-Token": reader})
        self.assertEqual(denied.status, 403, denied.text)
        self.assertEqual(denied.text,
                         f"Permission denied: token with AccessorID '{reader_accessor}' lacks "
                         "permission 'service:write' on \"web\"")
        ok = client.put("/v1/agent/service/register", body=service,
                        headers={"X-Consul-Token": web})
        self.assertEqual(ok.status, 200, ok.text)
        # Anti-entropy writes the node acting for the agent token and web-1 acting for the
        # registering request's token.
        self.until("web-1 in the catalog", lambda: "web-1" in self.catalog_services("client-0"))

        # A policy change reaches the client within token_ttl (a bound, not an exact time).
        changed = self.server.put(f"/v1/acl/policy/{reader_policy}",
                                  headers={"X-Consul-Token": ROOT},
                                  body={"Name": "reader", "Rules": 'key "x" { policy = "read" }'})
        self.assertEqual(changed.status, 200, changed.text)
        started = time.monotonic()
        self.until("the reader's lost agent:read seen on the client",
                   lambda: self.self_status(client, reader) == 403, timeout_s=TTL_S + 10)
        self.assertLess(time.monotonic() - started, TTL_S + 10)

        # Servers gone: extend-cache answers from what was resolved, however old; an unseen
        # secret is denied.
        self.assertEqual(self.self_status(client, web), 200)
        self.server.stop()
        time.sleep(TTL_S * 2)
        self.assertEqual(self.self_status(client, web), 200)
        self.assertEqual(self.self_status(client, web), 200)
        self.assertEqual(self.self_status(client, agent_secret), 403)  # never resolved here

    def test_a_servers_own_anti_entropy_acts_for_its_agent_token(self):
        # A server's own writes meet the same check as a client agent's: with no agent token
        # (the anonymous token) its node check is blocked, logged as Consul does; once
        # PUT /v1/agent/token/agent sets a token with node:write, the next pass writes it.
        root = {"X-Consul-Token": ROOT}
        ok = self.server.put("/v1/agent/check/register", headers=root,
                             body={"ID": "own-a", "Name": "own-a", "TTL": "600s"})
        self.assertEqual(ok.status, 200, ok.text)
        self.until("the server logs the blocked check", lambda: any(
            "Check registration blocked by ACLs: Permission denied: token with AccessorID "
            "'00000000-0000-0000-0000-000000000002' lacks permission 'node:write' on "
            "\"server-0\"" in line for line in self.server.output()))
        self.assertNotIn("own-a", self.node_checks("server-0"))
        writer, _, _ = self.token("server-agent", 'node_prefix "" { policy = "write" }')
        changed = self.server.put("/v1/agent/token/agent", headers=root, body={"Token": writer})
        self.assertEqual(changed.status, 200, changed.text)
        ok = self.server.put("/v1/agent/check/register", headers=root,
                             body={"ID": "own-b", "Name": "own-b", "TTL": "600s"})
        self.assertEqual(ok.status, 200, ok.text)
        self.until("both checks in the catalog",
                   lambda: {"own-a", "own-b"} <= set(self.node_checks("server-0")))

    def node_checks(self, node):
        resp = self.server.get(f"/v1/health/node/{node}", headers={"X-Consul-Token": ROOT})
        return [c["CheckID"] for c in resp.json()] if resp.status == 200 else []

    def test_anonymous_anti_entropy_is_refused_and_down_policy_deny(self):
        reader, _, _ = self.token("reader", 'agent_prefix "" { policy = "read" }')
        web, _, _ = self.token("web", 'service "web" { policy = "write" }')
        client = self.start_client({"down_policy": "deny"})  # no agent token: anonymous

        # The client allows the registration (the request's token may write web), but its
        # anti-entropy acts for the anonymous token for the node, which the server refuses;
        # the agent logs why and goes on: web-1 acts for its own token and, the node being in
        # the catalog already (the leader's member reconcile), reaches it, as in Consul.
        ok = client.put("/v1/agent/service/register", headers={"X-Consul-Token": web},
                        body=json.dumps({"Name": "web", "ID": "web-1", "Port": 80}))
        self.assertEqual(ok.status, 200, ok.text)
        self.until("the client logs the refused sync", lambda: any(
            "blocked by ACLs: Permission denied: token with AccessorID "
            "'00000000-0000-0000-0000-000000000002' lacks permission" in line
            for line in client.output()))
        self.until("web-1 in the catalog despite the blocked node update",
                   lambda: "web-1" in self.catalog_services("client-0"))

        # Servers gone: deny refuses even a token that was allowed, once its entry is older
        # than token_ttl.
        self.assertEqual(self.self_status(client, reader), 200)
        self.server.stop()
        time.sleep(TTL_S * 2)
        self.until("down_policy deny on the client",
                   lambda: self.self_status(client, reader) == 403, timeout_s=15)

    def test_a_client_agent_audits_what_it_answers_and_forwards(self):
        reader, reader_accessor, _ = self.token(
            "reader", 'agent_prefix "" { policy = "read" }\nkey_prefix "" { policy = "read" }')
        audit_dir = os.path.join(self.root, "audit")
        config = self.write_config("client-audit.json", {
            "acl": {"enabled": True, "default_policy": "deny", "token_ttl": f"{TTL_S}s"},
            "audit": {"enabled": True, "sink": {"main": {
                "type": "file", "format": "json", "rotate_duration": "24h",
                "path": os.path.join(audit_dir, "audit.json")}}}})
        data_dir = os.path.join(self.root, "c1")
        os.makedirs(data_dir)
        audited = AclClientAgent("client-1", data_dir, self.server.server_port, config)
        self.addCleanup(audited.stop)
        audited.start()
        self.agents.append(audited)
        self.until("the audited client reaches the server",
                   lambda: audited.get("/v1/status/leader").json() != "")
        headers = {"X-Consul-Token": reader}
        self.assertEqual(audited.get("/v1/agent/self", headers=headers).status, 200)
        self.assertEqual(audited.get("/v1/kv/nothing-here", headers=headers).status, 404)

        def lines():
            out = []
            for path in glob.glob(os.path.join(audit_dir, "audit-*.json")):
                with open(path, encoding="utf-8") as f:
                    out += [json.loads(line) for line in f]
            return out

        def completed(endpoint):
            return [e for e in lines() if e["payload"]["request"]["endpoint"] == endpoint
                    and e["payload"].get("stage") == "OperationComplete"]

        self.until("both requests audited on the client",
                   lambda: bool(completed("/v1/agent/self")) and bool(completed(
                       "/v1/kv/nothing-here")))
        for endpoint, status in (("/v1/agent/self", "200"), ("/v1/kv/nothing-here", "404")):
            event = completed(endpoint)[0]["payload"]
            self.assertEqual(event["auth"]["accessor_id"], reader_accessor)
            self.assertEqual(event["response"]["status"], status)
        for path in glob.glob(os.path.join(audit_dir, "audit-*.json")):
            with open(path, encoding="utf-8") as f:
                self.assertNotIn(reader, f.read())


if __name__ == "__main__":
    unittest.main()
