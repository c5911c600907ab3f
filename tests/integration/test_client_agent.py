"""Client agents (`proconsul agent` without -server) beside a three-server datacenter.

What Consul promises and this checks: a client agent holds its node's services and checks
and answers the agent API itself; anti-entropy puts them, and the node, into the catalog
the servers serve; every other HTTP API request sent to the client is answered by a server
(KV writes and reads, catalog and health reads, blocking queries that wake on a change);
DNS questions about the agent's domains are answered by a server's resolver, over UDP and
TCP; a catalog entry deleted behind the agent's back is restored by its next sync; when the
server the client talks to dies, the client goes on through another one; when it freezes
(SIGSTOP: its connection stays open but nothing answers), a read waiting on it goes on to
another server once the connection has been silent for 5 s, instead of failing after 35 s.

-retry-join names LAN gossip addresses, for servers and clients alike; a client learns the
servers' RPC addresses from the pool (members with role "consul" and their "port" tag), so
one given a single server's address still finds the others.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from proconsul import Agent, BackgroundCall
from test_cluster import CONVERGE_S, ServerAgent, free_port, lan_port_of


# A read sent to a frozen server: 5 s of silence (ClientRuntime's kSilenceTimeout) cut the
# connection, then the next server answers. Without the cut the read fails after 35 s.
FROZEN_SERVER_READ_BOUND_S = 25.0


def rpc_peers(pid, ports):
    """The ports among `ports` that process `pid` has an established TCP connection to."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:["):-1])
    peers = set()
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and fields[9] in inodes and remote_port in ports:
                peers.add(remote_port)
    return peers


class ClientAgent(Agent):
    """`agent` (client mode) joining the servers' LAN gossip ports (`servers`: their server
    ports, mapped by lan_port_of)."""

    def __init__(self, node, data_dir, servers):
        super().__init__(node=node)
        self.data_dir = data_dir
        self.servers = servers

    def command(self):
        args = [super().command()[0], "agent", "-data-dir", self.data_dir, "-node", self.node,
                "-bind", "127.0.0.1", "-http-port", "0", "-dns-port", "0",
                "-serf-lan-port", "0", "-retry-interval", "1s",
                "-log-level", "debug"]
        for port in self.servers:
            args += ["-retry-join", f"127.0.0.1:{lan_port_of(port)}"]
        return args


class ClientAgentTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-clients-")
        self.addCleanup(shutil.rmtree, self.root, True)
        config = os.path.join(self.root, "fast.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"performance": {"raft_multiplier": 1}}, out)
        self.ports = [free_port() for _ in range(3)]
        self.servers = []
        for i, port in enumerate(self.ports):
            data_dir = os.path.join(self.root, f"s{i}")
            os.makedirs(data_dir)
            peers = [p for p in self.ports if p != port]
            self.servers.append(ServerAgent(f"server-{i}", data_dir, port, peers, config))
        for server in self.servers:
            self.addCleanup(server.stop)
            server.start()
        self.wait_for(lambda: self.servers[0].get("/v1/status/leader").json() != "",
                      "a leader")
        self.clients = []
        for i in range(2):
            data_dir = os.path.join(self.root, f"c{i}")
            os.makedirs(data_dir)
            client = ClientAgent(f"client-{i}", data_dir, self.ports)
            self.addCleanup(client.stop)
            client.start()
            self.clients.append(client)

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        logs = "\n".join(a.output_tail(20) for a in self.servers + self.clients)
        self.fail(f"no {what} after {timeout_s}s\n{logs}")

    def catalog_services(self, server, node):
        resp = server.get(f"/v1/catalog/node/{node}")
        if resp.status != 200 or resp.json() is None:
            return {}
        return resp.json()["Services"]

    def test_agent_api_reaches_the_catalog_and_the_rest_is_forwarded(self):
        client = self.clients[0]
        self.assertIn("Server: false", "\n".join(client.output()))
        agent_self = client.get("/v1/agent/self").json()
        self.assertFalse(agent_self["Config"]["Server"])
        self.assertEqual(agent_self["Member"]["Tags"]["role"], "node")
        self.assertNotIn("raft", agent_self["Stats"])
        # The node registers itself through anti-entropy.
        self.wait_for(lambda: any(n["Node"] == "client-0"
                                  for n in self.servers[1].get("/v1/catalog/nodes").json()),
                      "client-0 in the catalog")

        # A service with a TTL check, registered on the client, is in every server's catalog.
        resp = client.put("/v1/agent/service/register", body=json.dumps(
            {"Name": "web", "ID": "web-1", "Port": 8080, "Tags": ["v1"],
             "Check": {"CheckID": "web-ttl", "TTL": "30s"}}))
        self.assertEqual(resp.status, 200, resp.text)
        for server in self.servers:
            self.wait_for(lambda s=server: "web-1" in self.catalog_services(s, "client-0"),
                          f"web-1 on {server.node}")
        # The agent API answers from the client itself.
        self.assertIn("web-1", client.get("/v1/agent/services").json())
        self.assertEqual(client.get("/v1/agent/checks").json()["web-ttl"]["Status"], "critical")
        self.assertEqual(client.put("/v1/agent/check/pass/web-ttl").status, 200)
        self.wait_for(lambda: self.servers[2].get("/v1/health/checks/web").json()[0]["Status"]
                      == "passing", "the passing TTL check on a server")

        # Everything else goes to a server: catalog, health, KV, status.
        nodes = client.get("/v1/health/service/web?passing").json()
        self.assertEqual([n["Service"]["ID"] for n in nodes], ["web-1"])
        self.assertEqual(client.put("/v1/kv/app/config", body="v1").json(), True)
        self.assertEqual(self.servers[1].get("/v1/kv/app/config?raw").body, b"v1")
        self.assertEqual(client.get("/v1/kv/app/config?raw").body, b"v1")
        resp = client.get("/v1/kv/missing")
        self.assertEqual(resp.status, 404)
        self.assertIsNotNone(resp.header("X-Consul-Index"))
        self.assertEqual(client.get("/v1/status/leader").json(),
                         self.servers[0].get("/v1/status/leader").json())
        self.assertEqual(client.get("/v1/no/such/path").status, 404)

        # A blocking query through the client wakes when another client writes.
        index = client.get("/v1/kv/app/config").index
        waiter = BackgroundCall(client.get, f"/v1/kv/app/config?index={index}&wait=30s")
        time.sleep(0.3)
        self.assertFalse(waiter.done())
        self.assertEqual(self.clients[1].put("/v1/kv/app/config", body="v2").json(), True)
        resp = waiter.join(10)
        self.assertEqual(resp.status, 200)
        self.assertGreater(resp.index, index)
        self.assertEqual(json.loads(resp.text)[0]["Value"], "djI=")  # base64 of "v2"

    def test_dns_on_a_client_is_answered_by_a_server(self):
        client = self.clients[0]
        self.assertIsNotNone(client.dns_port)
        self.assertEqual(client.put("/v1/agent/service/register", body=json.dumps(
            {"Name": "api", "ID": "api-1", "Port": 9090, "Address": "10.1.2.3"})).status, 200)

        def dig(*args):
            out = subprocess.run(["dig", "@127.0.0.1", "-p", str(client.dns_port), "+time=3",
                                  "+tries=1", *args], capture_output=True, text=True,
                                 timeout=10, check=False)
            return out.stdout

        def answers(*args):
            return [line.split() for line in dig("+noall", "+answer", *args).splitlines()
                    if line.strip()]

        self.wait_for(lambda: [r[-1] for r in answers("api.service.consul", "A")] == ["10.1.2.3"],
                      "api.service.consul from the client")
        srv = answers("api.service.consul", "SRV")
        self.assertEqual(srv[0][-2], "9090")
        # Over TCP too, and the other client's node by name.
        self.assertEqual([r[-1] for r in answers("+tcp", "api.service.consul", "A")],
                         ["10.1.2.3"])
        self.assertEqual([r[-1] for r in answers("client-1.node.consul", "A")], ["127.0.0.1"])
        # A name nobody registered: NXDOMAIN from the server's resolver.
        self.assertIn("NXDOMAIN", dig("nothing.service.consul", "A"))

    def test_anti_entropy_restores_what_was_deleted_behind_the_agent(self):
        client = self.clients[0]
        self.assertEqual(client.put("/v1/agent/service/register", body=json.dumps(
            {"Name": "db", "ID": "db-1", "Port": 5432})).status, 200)
        server = self.servers[0]
        self.wait_for(lambda: "db-1" in self.catalog_services(server, "client-0"), "db-1")
        resp = server.put("/v1/catalog/deregister",
                          body=json.dumps({"Node": "client-0", "ServiceID": "db-1"}))
        self.assertEqual(resp.status, 200, resp.text)
        self.assertNotIn("db-1", self.catalog_services(server, "client-0"))
        # Any local change runs a sync pass, and a pass compares everything.
        self.assertEqual(client.put("/v1/agent/service/register", body=json.dumps(
            {"Name": "cache", "ID": "cache-1", "Port": 6379})).status, 200)
        self.wait_for(lambda: {"db-1", "cache-1"} <= set(self.catalog_services(server,
                                                                               "client-0")),
                      "db-1 restored beside cache-1")

    def test_client_given_one_server_goes_on_through_another_when_it_dies(self):
        # This client is told only server-0's LAN address; it learns the other servers from
        # the pool, so it keeps working once server-0 (maybe the leader) is killed.
        data_dir = os.path.join(self.root, "c-single")
        os.makedirs(data_dir)
        client = ClientAgent("client-single", data_dir, [self.ports[0]])
        self.addCleanup(client.stop)
        client.start()
        self.wait_for(lambda: client.put("/v1/kv/before", body="1").status == 200,
                      "a write through the client")
        servers = {m["Name"] for m in client.get("/v1/agent/members").json()
                   if m["Tags"].get("role") == "consul"}
        self.assertEqual(servers, {"server-0", "server-1", "server-2"})
        self.servers[0].proc.kill()
        self.servers[0].proc.wait()
        self.wait_for(lambda: client.get("/v1/kv/before?raw").body == b"1",
                      "a read through another server")
        self.wait_for(lambda: client.put("/v1/kv/after", body="2").status == 200,
                      "a write through another server")
        self.assertEqual(self.servers[1].get("/v1/kv/after?raw").body, b"2")

    def test_a_read_goes_on_to_another_server_when_the_clients_server_freezes(self):
        client = self.clients[0]
        self.wait_for(lambda: client.put("/v1/kv/frozen", body="1").status == 200,
                      "a write through the client")
        # The server the client uses is the one it holds a server-RPC connection to (one at a
        # time; another only after a failure). Freezing keeps that connection open.
        connected = set()
        self.wait_for(lambda: connected.update(rpc_peers(client.proc.pid, set(self.ports)))
                      or len(connected) >= 1, "the client's connection to its server")
        self.assertLess(len(connected), len(self.ports), connected)
        frozen = [s for s in self.servers if s.server_port in connected]
        for server in frozen:
            self.addCleanup(os.kill, server.proc.pid, signal.SIGCONT)  # before stop(): LIFO
            os.kill(server.proc.pid, signal.SIGSTOP)
        # ?stale: any live server answers from its own state, whoever leads.
        started = time.monotonic()
        resp = client.get("/v1/kv/frozen?raw&stale", timeout=60)
        elapsed = time.monotonic() - started
        self.assertEqual((resp.status, resp.body), (200, b"1"),
                         f"{resp.text}\n{client.output_tail(30)}")
        self.assertLess(elapsed, FROZEN_SERVER_READ_BOUND_S,
                        f"the read waited on the frozen server\n{client.output_tail(30)}")


if __name__ == "__main__":
    unittest.main()
