"""acl.enable_token_persistence: tokens set through PUT /v1/agent/token/<type> outlive a restart.

What Consul promises and this checks: with enable_token_persistence = true an agent writes
the tokens set through the API to <data_dir>/acl-tokens.json (JSON, readable by the agent's
user alone) and loads them at the next start over the configuration's tokens; a file that
does not decode is reported in the log and the agent starts with the configured tokens.
Without the option nothing is written and a restart goes back to the configured tokens.

What is observable: the default token answers requests that carry none. Under default deny
a KV read without a token is refused (403); after PUT /v1/agent/token/default with a token
that may read keys it is answered. After a restart on the same data directory it is still
answered with persistence on, and refused again with persistence off.
One server agent (-bootstrap-expect 1) per test; its Raft state keeps the ACL objects. A
client agent keeps its tokens the same way: its default token, resolved through the server,
opens /v1/agent/self (agent:read) to requests without a token before and after its restart.
"""

import json
import os
import shutil
import stat
import tempfile
import time
import unittest

from test_acl_client import AclClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port

ROOT = "8d3c1f6e-2a47-4b5e-9c1d-7f0e4a2b6c01"


class AclTokenPersistTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-acl-persist-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.data_dir = os.path.join(self.root, "s0")
        os.makedirs(self.data_dir)
        self.tokens_file = os.path.join(self.data_dir, "acl-tokens.json")
        self.port = free_port()
        self.server = None

    def start(self, persist):
        config = os.path.join(self.root, f"acl-{persist}.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1},
                       "acl": {"enabled": True, "default_policy": "deny",
                               "enable_token_persistence": persist,
                               "tokens": {"initial_management": ROOT}}}, out)
        server = ServerAgent("server-0", self.data_dir, self.port, [], config,
                             bootstrap_expect=1)
        self.addCleanup(server.stop)
        server.start()
        self.server = server
        # Ready once the management token resolves: the Raft state with the ACL objects is
        # loaded and a leader answers.
        self.until("the management token works", lambda: server.get(
            "/v1/kv/app/x", headers={"X-Consul-Token": ROOT}).status in (200, 404))
        return server

    def restart(self, persist):
        code, graceful = self.server.stop()
        self.assertTrue(graceful and code == 0, f"exit {code}\n{self.server.output_tail(30)}")
        return self.start(persist)

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
        tail = self.server.output_tail(30) if self.server else ""
        self.fail(f"{what}: still {last!r} after {timeout_s}s\n{tail}")

    def anonymous_read(self):
        """The status of a KV read without a token: the default token decides."""
        return self.server.get("/v1/kv/app/x").status

    def make_reader_and_set_default(self):
        """A token that may read keys, set as the agent's default token through the API."""
        root = {"X-Consul-Token": ROOT}
        s = self.server
        self.assertEqual(s.put("/v1/kv/app/x", body="v", headers=root).status, 200)
        resp = s.put("/v1/acl/policy", headers=root,
                     body={"Name": "kv-read", "Rules": 'key_prefix "" { policy = "read" }'})
        self.assertEqual(resp.status, 200, resp.text)
        resp = s.put("/v1/acl/token", headers=root, body={"Policies": [{"Name": "kv-read"}]})
        self.assertEqual(resp.status, 200, resp.text)
        reader = resp.json()["SecretID"]
        self.assertEqual(self.anonymous_read(), 403)
        resp = s.put("/v1/agent/token/default", headers=root, body={"Token": reader})
        self.assertEqual(resp.status, 200, resp.text)
        self.assertEqual(self.anonymous_read(), 200)
        return reader

    def test_a_token_set_through_the_api_survives_a_restart_with_persistence(self):
        self.start(persist=True)
        self.assertFalse(os.path.exists(self.tokens_file))  # nothing set through the API yet
        reader = self.make_reader_and_set_default()
        with open(self.tokens_file, encoding="utf-8") as f:
            self.assertEqual(json.load(f), {"default": reader})
        self.assertEqual(stat.S_IMODE(os.stat(self.tokens_file).st_mode), 0o600)

        self.restart(persist=True)
        self.assertEqual(self.anonymous_read(), 200, self.server.output_tail(30))

        # A file that does not decode is reported and ignored: the configured tokens (no
        # default one here) apply, so the read is refused again.
        self.server.stop()
        with open(self.tokens_file, "w", encoding="utf-8") as f:
            f.write('{"default": 42}')
        self.start(persist=True)
        self.assertEqual(self.anonymous_read(), 403)
        self.assertTrue(any("Unable to load persisted tokens" in line
                            for line in self.server.output()), self.server.output_tail(30))

    def test_without_persistence_a_restart_goes_back_to_the_configured_tokens(self):
        self.start(persist=False)
        self.make_reader_and_set_default()
        self.assertFalse(os.path.exists(self.tokens_file))

        self.restart(persist=False)
        self.assertEqual(self.anonymous_read(), 403)
        self.assertFalse(os.path.exists(self.tokens_file))

    def test_a_client_agent_keeps_its_tokens_too(self):
        self.start(persist=False)  # the server's own setting does not matter to the client
        root = {"X-Consul-Token": ROOT}
        resp = self.server.put("/v1/acl/policy", headers=root, body={
            "Name": "agent-read", "Rules": 'agent_prefix "" { policy = "read" }'})
        self.assertEqual(resp.status, 200, resp.text)
        resp = self.server.put("/v1/acl/token", headers=root,
                               body={"Policies": [{"Name": "agent-read"}]})
        self.assertEqual(resp.status, 200, resp.text)
        reader = resp.json()["SecretID"]
        config = os.path.join(self.root, "client.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"acl": {"enabled": True, "default_policy": "deny",
                               "enable_token_persistence": True}}, out)
        client_dir = os.path.join(self.root, "c0")
        os.makedirs(client_dir)

        def start_client():
            client = AclClientAgent("client-0", client_dir, self.port, config)
            self.addCleanup(client.stop)
            client.start()
            return client

        def anonymous_self(client):
            return client.get("/v1/agent/self").status

        client = start_client()
        self.until("the client refuses /v1/agent/self without a token",
                   lambda: anonymous_self(client) == 403)
        resp = client.put("/v1/agent/token/default", headers=root, body={"Token": reader})
        self.assertEqual(resp.status, 200, resp.text)
        self.assertEqual(anonymous_self(client), 200)
        with open(os.path.join(client_dir, "acl-tokens.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f), {"default": reader})

        client.stop()
        client = start_client()
        # The restarted client resolves the saved default token through the server once
        # gossip has told it where the server is.
        self.until("the restarted client answers /v1/agent/self without a token",
                   lambda: anonymous_self(client) == 200)


if __name__ == "__main__":
    unittest.main()
