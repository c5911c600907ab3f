"""What the agent API registers survives a restart of the agent on the same data directory.

What Consul promises and this checks: a service (with a TTL check) registered through
PUT /v1/agent/service/register on a client agent, and a standalone check registered through
PUT /v1/agent/check/register, are kept in <data_dir>/services and <data_dir>/checks, one file
per ID named by the SHA-256 of the ID, private to the agent's user (0600). After SIGTERM or
kill -9 and a start on the same data directory, /v1/agent/services and /v1/agent/checks
list them again at once; the TTL check resumes with the status last reported (its TTL has
not run out), and the catalog keeps the service through more than one anti-entropy interval
(a restarted agent that forgot them would delete them on its first pass). After kill -9 the
catalog never loses the service at all. A deregistered service's file is removed and the
service stays gone after a restart. A server agent keeps its registrations the same way;
`-dev` keeps nothing on disk.

One server (-bootstrap-expect 1) and one client; ae_interval is shortened to AE_INTERVAL_S
(a full pass every interval plus a stagger of up to one more, for a pool under 128 members).
"""

import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
import unittest

from proconsul import Agent
from test_client_agent import ClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port

AE_INTERVAL_S = 2
# More than one full anti-entropy interval with its stagger, and slack for the loaded machine.
WATCH_S = 3 * AE_INTERVAL_S + 1


class ConfiguredClient(ClientAgent):
    """A client agent with a config file (the shortened ae_interval)."""

    def __init__(self, node, data_dir, servers, config_file):
        super().__init__(node, data_dir, servers)
        self.config_file = config_file

    def command(self):
        return super().command() + ["-config-file", self.config_file]


def file_name(ident):
    return hashlib.sha256(ident.encode()).hexdigest()


class AgentPersistTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-persist-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config = os.path.join(self.root, "fast.json")
        with open(self.config, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1},
                       "ae_interval": f"{AE_INTERVAL_S}s"}, out)
        self.port = free_port()
        self.server_dir = os.path.join(self.root, "s0")
        os.makedirs(self.server_dir)
        self.server = self.start_server()
        self.client_dir = os.path.join(self.root, "c0")
        os.makedirs(self.client_dir)
        self.client = None

    def start_server(self):
        server = ServerAgent("server-0", self.server_dir, self.port, [], self.config,
                             bootstrap_expect=1)
        self.addCleanup(server.stop)
        server.start()
        self.wait_for(lambda: server.get("/v1/status/leader").json() != "", "a leader",
                      [server])
        return server

    def start_client(self):
        client = ConfiguredClient("client-0", self.client_dir, [self.port], self.config)
        self.addCleanup(client.stop)
        client.start()
        self.client = client
        return client

    def wait_for(self, predicate, what, agents=None, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                pass
            time.sleep(0.1)
        agents = agents if agents is not None else [self.server, self.client]
        logs = "\n".join(a.output_tail(30) for a in agents if a is not None)
        self.fail(f"no {what} after {timeout_s}s\n{logs}")

    def catalog_services(self, node):
        resp = self.server.get(f"/v1/catalog/node/{node}")
        if resp.status != 200 or resp.json() is None:
            return {}
        return resp.json()["Services"]

    def server_check_status(self, check_id):
        for check in self.server.get("/v1/health/service/web").json()[0]["Checks"]:
            if check["CheckID"] == check_id:
                return check["Status"]
        return None

    def register_web(self, agent):
        resp = agent.put("/v1/agent/service/register", body=json.dumps(
            {"Name": "web", "ID": "web-1", "Port": 8080, "Tags": ["v1"],
             "Check": {"CheckID": "web-ttl", "TTL": "10m"}}))
        self.assertEqual(resp.status, 200, resp.text)
        resp = agent.put("/v1/agent/check/register", body=json.dumps(
            {"ID": "disk", "Name": "disk", "TTL": "10m"}))
        self.assertEqual(resp.status, 200, resp.text)
        self.assertEqual(agent.put("/v1/agent/check/pass/web-ttl?note=up").status, 200)

    def assert_restored(self, agent):
        """Right after start: the agent lists what it had, the TTL status included."""
        services = agent.get("/v1/agent/services").json()
        self.assertIn("web-1", services)
        self.assertEqual(services["web-1"]["Tags"], ["v1"])
        checks = agent.get("/v1/agent/checks").json()
        self.assertEqual(checks["web-ttl"]["Status"], "passing")
        self.assertEqual(checks["web-ttl"]["Output"], "up")
        self.assertEqual(checks["disk"]["Status"], "critical")

    def assert_kept_in_catalog(self, node, never_missing):
        """The service is in the catalog after more than one anti-entropy interval; with
        never_missing, at every look in between too."""
        self.wait_for(lambda: "web-1" in self.catalog_services(node), f"web-1 on {node}")
        deadline = time.monotonic() + WATCH_S
        while time.monotonic() < deadline:
            present = "web-1" in self.catalog_services(node)
            if never_missing and not present:
                logs = "\n".join(a.output_tail(40) for a in (self.server, self.client) if a)
                self.fail(f"the restarted agent deleted web-1 from the catalog\n{logs}")
            time.sleep(0.2)
        self.assertIn("web-1", self.catalog_services(node))
        self.wait_for(lambda: self.server_check_status("web-ttl") == "passing",
                      "web-ttl passing in the catalog")

    def test_client_keeps_its_registrations_across_sigterm_and_kill_9(self):
        client = self.start_client()
        self.wait_for(lambda: client.put("/v1/agent/service/register", body=json.dumps(
            {"Name": "probe", "ID": "probe"})).status == 200, "the agent API")
        self.assertEqual(client.put("/v1/agent/service/deregister/probe").status, 200)
        self.register_web(client)
        self.wait_for(lambda: "web-1" in self.catalog_services("client-0"), "web-1 registered")

        path = os.path.join(self.client_dir, "services", file_name("web-1"))
        self.assertTrue(os.path.exists(path))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertTrue(os.path.exists(os.path.join(self.client_dir, "checks",
                                                    file_name("web-ttl"))))
        self.assertTrue(os.path.exists(os.path.join(self.client_dir, "checks", "state",
                                                    file_name("web-ttl"))))
        # The probe service was deregistered: its file went with it.
        self.assertFalse(os.path.exists(os.path.join(self.client_dir, "services",
                                                     file_name("probe"))))

        # SIGTERM: the client leaves the pool and its node leaves the catalog; started again,
        # it lists its services at once and puts them back.
        client.stop_checked()
        client = self.start_client()
        self.assert_restored(client)
        self.assert_kept_in_catalog("client-0", never_missing=False)

        # kill -9: the node stays in the catalog, and the restarted agent never deletes its
        # service from it.
        client.proc.kill()
        client.proc.wait()
        client = self.start_client()
        self.assert_restored(client)
        self.assert_kept_in_catalog("client-0", never_missing=True)

        # Deregistered, it stays gone across a restart.
        self.assertEqual(client.put("/v1/agent/service/deregister/web-1").status, 200)
        self.assertFalse(os.path.exists(path))
        client.stop_checked()
        client = self.start_client()
        self.assertNotIn("web-1", client.get("/v1/agent/services").json())
        self.assertNotIn("web-ttl", client.get("/v1/agent/checks").json())
        self.assertIn("disk", client.get("/v1/agent/checks").json())
        self.wait_for(lambda: "web-1" not in self.catalog_services("client-0"),
                      "web-1 gone from the catalog")

    def test_a_server_agent_keeps_its_registrations_across_a_restart(self):
        self.register_web(self.server)
        self.wait_for(lambda: "web-1" in self.catalog_services("server-0"), "web-1 registered")
        self.server.stop_checked()
        self.server = self.start_server()
        self.assert_restored(self.server)
        self.assert_kept_in_catalog("server-0", never_missing=True)

    def test_dev_mode_keeps_nothing_on_disk(self):
        dev = Agent(node="dev-node")
        self.addCleanup(dev.stop)
        dev.start()
        self.register_web(dev)
        self.assertIn("web-1", dev.get("/v1/agent/services").json())
        dev.stop_checked()
        dev = Agent(node="dev-node")
        self.addCleanup(dev.stop)
        dev.start()
        self.assertNotIn("web-1", dev.get("/v1/agent/services").json())


if __name__ == "__main__":
    unittest.main()
