"""DNS under ACLs (default deny), the agent token API and a client agent's DNS token.

What Consul promises and this checks: DNS answers are computed with the agent's DNS token
(acl.tokens.dns, else acl.tokens.default, else the anonymous token), so with no token
nothing in the catalog is answered: service and node names are NXDOMAIN, as if they did not
exist. A default token whose policy grants service:read on "web" (and node:read) makes web
answer while db stays NXDOMAIN. PUT /v1/agent/token/<type> changes the running agent's
tokens: it needs agent:write on the agent's node (403 with Consul's text without it), takes
{"Token": "..."}, answers 404 `Token "x" is unknown` for another type, and a new default or
dns token changes the DNS view at once (the answer cache is never served across tokens).
`proconsul acl set-agent-token` does the same from the command line. A client agent sends
its own token with every question it forwards, so its view follows its token, not the
server's. A token with ExpirationTTL "1m" (Consul's minimum) is refused once it expires and
then deleted by the leader through the log. A prepared query's name (NAME.query.consul) is
run with the DNS token too: nothing without a token, the instances once the token reads them.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from proconsul import binary_path
from test_client_agent import ClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port

ROOT = "5e1b0a52-41f4-4f6c-9d8b-2c1bd0f1e001"


class DnsServerAgent(ServerAgent):
    """A server with its DNS port open (ServerAgent disables it)."""

    def command(self):
        args = super().command()
        at = args.index("-dns-port")
        args[at + 1] = "0"
        return args


class TokenClientAgent(ClientAgent):
    """A client agent reading an extra configuration file (its ACL tokens)."""

    def __init__(self, node, data_dir, servers, config_file):
        super().__init__(node, data_dir, servers)
        self.config_file = config_file

    def command(self):
        return super().command() + ["-config-file", self.config_file]


class AclDnsTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-acl-dns-")
        self.addCleanup(shutil.rmtree, self.root, True)
        config = os.path.join(self.root, "server.json")
        self.write(config, {"performance": {"raft_multiplier": 1},
                            "acl": {"enabled": True, "default_policy": "deny",
                                    "tokens": {"initial_management": ROOT}}})
        self.port = free_port()
        data_dir = os.path.join(self.root, "s0")
        os.makedirs(data_dir)
        self.server = DnsServerAgent("server-0", data_dir, self.port, [], config,
                                     bootstrap_expect=1)
        self.agents = [self.server]
        self.addCleanup(self.server.stop)
        self.server.start()
        self.assertIsNotNone(self.server.dns_port)
        self.until("the management token works", lambda: self.server.get(
            "/v1/acl/token/self", headers=self.auth(ROOT)).status == 200)

    @staticmethod
    def write(path, obj):
        with open(path, "w", encoding="utf-8") as out:
            json.dump(obj, out)

    @staticmethod
    def auth(secret):
        return {"X-Consul-Token": secret}

    def until(self, what, fn, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            try:
                last = fn()
            except (OSError, ValueError):
                last = None
            if last:
                return last
            time.sleep(0.2)
        logs = "\n".join(a.output_tail(20) for a in self.agents)
        self.fail(f"{what}: still {last!r} after {timeout_s}s\n{logs}")

    def dig(self, agent, name, qtype="A"):
        """(status, [answer rdata]) of one question to `agent`'s DNS port."""
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(agent.dns_port), "+time=3",
                              "+tries=1", "+noall", "+answer", "+comments", name, qtype],
                             capture_output=True, text=True, timeout=10, check=False).stdout
        status = None
        for line in out.splitlines():
            if "status:" in line:
                status = line.split("status:")[1].split(",")[0].strip()
        answers = [line.split()[-1] for line in out.splitlines()
                   if line.strip() and not line.startswith(";")]
        return status, answers

    def register(self, node, address, service):
        resp = self.server.put("/v1/catalog/register", headers=self.auth(ROOT), body={
            "Node": node, "Address": address,
            "Service": {"ID": service, "Service": service, "Port": 80}})
        self.assertEqual(resp.status, 200, resp.text)

    def make_token(self, name, rules):
        resp = self.server.put("/v1/acl/policy", headers=self.auth(ROOT),
                               body={"Name": name, "Rules": rules})
        self.assertEqual(resp.status, 200, resp.text)
        resp = self.server.put("/v1/acl/token", headers=self.auth(ROOT),
                               body={"Policies": [{"Name": name}]})
        self.assertEqual(resp.status, 200, resp.text)
        return resp.json()["SecretID"]

    def set_token(self, kind, secret, caller=ROOT):
        return self.server.put(f"/v1/agent/token/{kind}", headers=self.auth(caller),
                               body={"Token": secret})

    def set_agent_token(self, *args):
        """`proconsul acl set-agent-token` with the management token; flags come before the
        TYPE and TOKEN arguments, as Go's flag parsing stops at the first argument."""
        env = dict(os.environ, CONSUL_HTTP_TOKEN=ROOT)
        env.pop("PROCONSUL_HTTP_TOKEN", None)
        return subprocess.run([binary_path(), "acl", "set-agent-token",
                               f"-http-addr=127.0.0.1:{self.server.port}", *args],
                              capture_output=True, text=True, env=env, timeout=30, check=False)

    def test_dns_follows_the_agents_token_on_servers_and_clients(self):
        self.register("n1", "10.0.0.1", "web")
        self.register("n2", "10.0.0.2", "db")
        web_reader = self.make_token(
            "web-read", 'service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }')

        # No token: the anonymous token reads nothing, so nothing exists.
        s = self.server
        self.assertEqual(self.dig(s, "web.service.consul"), ("NXDOMAIN", []))
        self.assertEqual(self.dig(s, "db.service.consul"), ("NXDOMAIN", []))
        self.assertEqual(self.dig(s, "n1.node.consul"), ("NXDOMAIN", []))

        # The token API: agent:write on this node, Consul's body and type names.
        denied = self.set_token("default", web_reader, caller=web_reader)
        self.assertEqual(denied.status, 403, denied.text)
        self.assertRegex(denied.text, r"^Permission denied: token with AccessorID '[0-9a-f-]+' "
                                      r"lacks permission 'agent:write' on \"server-0\"$")
        self.assertEqual(self.set_token("default", web_reader, caller="no-such").status, 403)
        unknown = self.set_token("bogus", web_reader)
        self.assertEqual((unknown.status, unknown.text), (404, 'Token "bogus" is unknown'))
        bad = s.put("/v1/agent/token/default", headers=self.auth(ROOT), body="{")
        self.assertEqual(bad.status, 400, bad.text)
        self.assertTrue(bad.text.startswith("Request decode failed"), bad.text)
        self.assertEqual(self.dig(s, "web.service.consul"), ("NXDOMAIN", []))

        # A default token with service:read on web: web answers, db still does not.
        self.assertEqual(self.set_token("acl_token", web_reader).status, 200)  # legacy name
        self.assertEqual(self.dig(s, "web.service.consul"), ("NOERROR", ["10.0.0.1"]))
        self.assertEqual(self.dig(s, "db.service.consul"), ("NXDOMAIN", []))
        self.assertEqual(self.dig(s, "n2.node.consul"), ("NOERROR", ["10.0.0.2"]))

        # The CLI sets the dns token, which wins over the default one; clearing it falls back.
        done = self.set_agent_token("dns", ROOT)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.strip(), 'ACL token "dns" set successfully')
        self.assertEqual(self.dig(s, "db.service.consul"), ("NOERROR", ["10.0.0.2"]))
        self.assertEqual(self.set_agent_token("dns", "").returncode, 0)
        self.assertEqual(self.dig(s, "db.service.consul"), ("NXDOMAIN", []))
        wrong = self.set_agent_token("nonsense", "x")
        self.assertEqual((wrong.returncode, wrong.stderr.strip()), (1, "Unknown token type"))

        # A token that no longer exists: SERVFAIL, as Consul answers a failed catalog read.
        ghost = self.make_token("ghost", 'node_prefix "" { policy = "read" }')
        self.assertEqual(self.set_token("default", ghost).status, 200)
        self.assertEqual(self.dig(s, "n1.node.consul")[0], "NOERROR")
        accessor = s.get("/v1/acl/token/self", headers=self.auth(ghost)).json()["AccessorID"]
        self.assertEqual(s.delete(f"/v1/acl/token/{accessor}", headers=self.auth(ROOT)).status,
                         200)
        self.assertEqual(self.dig(s, "n1.node.consul")[0], "SERVFAIL")
        self.assertEqual(self.set_token("default", web_reader).status, 200)

        # Client agents send their own token: one with web_reader sees web, one without
        # sees nothing, whatever the server's own token is.
        self.assertEqual(self.set_token("default", ROOT).status, 200)
        clients = []
        for i, token in enumerate([web_reader, ""]):
            config = os.path.join(self.root, f"client-{i}.json")
            acl = {"enabled": True, "default_policy": "deny"}
            if token:
                acl["tokens"] = {"default": token}
            self.write(config, {"acl": acl})
            data_dir = os.path.join(self.root, f"c{i}")
            os.makedirs(data_dir)
            client = TokenClientAgent(f"client-{i}", data_dir, [self.port], config)
            self.agents.append(client)
            self.addCleanup(client.stop)
            client.start()
            clients.append(client)
        with_token, without = clients
        self.until("web through the client with a token",
                   lambda: self.dig(with_token, "web.service.consul") == ("NOERROR", ["10.0.0.1"]))
        self.assertEqual(self.dig(with_token, "db.service.consul"), ("NXDOMAIN", []))
        self.until("an answer through the client without a token",
                   lambda: self.dig(without, "web.service.consul")[0] is not None
                   and self.dig(without, "web.service.consul")[0] != "SERVFAIL")
        self.assertEqual(self.dig(without, "web.service.consul"), ("NXDOMAIN", []))
        self.assertEqual(self.dig(without, "n1.node.consul"), ("NXDOMAIN", []))
        # The server itself, with the management token as its default, answers everything.
        self.assertEqual(self.dig(s, "db.service.consul"), ("NOERROR", ["10.0.0.2"]))

    def test_prepared_query_names_follow_the_dns_token(self):
        # NAME.query.consul runs the query with the DNS token: its instances are filtered by
        # node:read and service:read, and a query left with none is NXDOMAIN.
        self.register("n3", "10.0.0.3", "api")
        made = self.server.request("POST", "/v1/query", headers=self.auth(ROOT),
                                   body={"Name": "api-q", "Service": {"Service": "api"}})
        self.assertEqual(made.status, 200, made.text)
        s = self.server
        self.assertEqual(self.dig(s, "api-q.query.consul"), ("NXDOMAIN", []))
        api_reader = self.make_token(
            "api-read", 'service "api" { policy = "read" }\nnode "n3" { policy = "read" }')
        self.assertEqual(self.set_token("dns", api_reader).status, 200)
        self.assertEqual(self.dig(s, "api-q.query.consul"), ("NOERROR", ["10.0.0.3"]))
        # Service read alone is not enough: the node is filtered out too.
        service_only = self.make_token("api-only", 'service "api" { policy = "read" }')
        self.assertEqual(self.set_token("dns", service_only).status, 200)
        self.assertEqual(self.dig(s, "api-q.query.consul"), ("NXDOMAIN", []))

    def test_the_leader_deletes_a_token_once_it_expires(self):
        # Consul's shortest lifetime is one minute; nothing shorter is accepted.
        short = self.server.put("/v1/acl/token", headers=self.auth(ROOT),
                                body={"ExpirationTTL": "10s"})
        self.assertEqual((short.status, short.text),
                         (500, "ExpirationTime cannot be before 1m0s from now"))
        made = self.server.put("/v1/acl/token", headers=self.auth(ROOT),
                               body={"ExpirationTTL": "1m", "Description": "short-lived"})
        self.assertEqual(made.status, 200, made.text)
        secret = made.json()["SecretID"]
        self.assertEqual(self.server.get("/v1/acl/token/self",
                                         headers=self.auth(secret)).status, 200)
        before = self.server.get("/v1/acl/tokens", headers=self.auth(ROOT)).index
        # Expired: refused at once, then deleted by the leader through the log, which moves
        # the ACL tables' index with no other write.
        self.until("the token is refused after it expires", lambda: self.server.get(
            "/v1/acl/token/self", headers=self.auth(secret)).text == "ACL not found",
            timeout_s=120)
        self.until("the reaper's entry", lambda: self.server.get(
            "/v1/acl/tokens", headers=self.auth(ROOT)).index > before, timeout_s=60)
        self.assertTrue(any("deleted 1 expired ACL tokens" in line
                            for line in self.server.output()))
        listed = self.server.get("/v1/acl/tokens", headers=self.auth(ROOT)).json()
        self.assertNotIn("short-lived", [t["Description"] for t in listed])


if __name__ == "__main__":
    unittest.main()
