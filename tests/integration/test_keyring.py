"""Gossip key rotation and user events across a datacenter: three servers and five client
agents on loopback, gossip encrypted with one key (`encrypt`).

What Consul promises and this checks: /v1/operator/keyring installs a new key on every member
(POST), makes it the primary everywhere (PUT) and removes the old one (DELETE), each as one
query answered by all eight agents, while all eight stay alive members throughout (key
rotation with no lost members); removing the primary key is refused with Consul's error;
`proconsul keyring -list` prints the new key on 8/8 nodes; every agent persists its keyring
in <data_dir>/serf/local.keyring, so a client restarted with the old key still in its
`encrypt` setting comes back with the new key and talks to the others; `proconsul event`
fires a user event that every agent lists at /v1/event/list, and a blocking list returns when
the next event arrives. An agent with another key is kept out, visibly: the servers count its
frames in /v1/agent/self's serf_lan refused_decrypt (and `proconsul info` prints it), warn
naming its address, and its own join error says the key may not be the cluster's.
"""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from proconsul import binary_path
from test_cluster import CONVERGE_S, ServerAgent, free_port
from test_gossip import GOSSIP_LAN, SERF_ALIVE, GossipClient

OLD_KEY = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
NEW_KEY = "T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s="
OTHER_KEY = "HS5lJ+XuTlYKWaeGYyG+/A=="  # 16 bytes: a valid key the datacenter never had
CLIENTS = 5
AGENTS = 3 + CLIENTS


class KeyringTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-keyring-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config = os.path.join(self.root, "fast.json")
        with open(self.config, "w", encoding="utf-8") as out:
            # Events and queries travel as broadcasts, each sent retransmit_mult x
            # ceil(log10(n + 1)) times by every member that got it: 4 in a pool of eight with
            # the default multiplier, which misses a member now and then. A missed event
            # comes with a later push-pull (serf's replay of recent events), but only within
            # the LAN push-pull interval of 30 s; a missed key query has no repair at all (nor
            # in serf). A larger multiplier keeps the test about the keyring rather than
            # about that chance.
            gossip_lan = dict(GOSSIP_LAN, retransmit_mult=10)
            json.dump({"performance": {"raft_multiplier": 1}, "gossip_lan": gossip_lan,
                       "encrypt": OLD_KEY}, out)
        self.ports = [free_port() for _ in range(3)]
        self.servers = []
        for i, port in enumerate(self.ports):
            data_dir = os.path.join(self.root, f"s{i}")
            os.makedirs(data_dir)
            peers = [p for p in self.ports if p != port]
            self.servers.append(ServerAgent(f"server-{i}", data_dir, port, peers, self.config))
        for server in self.servers:
            self.addCleanup(server.stop)
            server.start()
        self.clients = [self.start_client(i) for i in range(CLIENTS)]
        self.names = {a.node for a in self.servers + self.clients}

    def start_client(self, i):
        data_dir = os.path.join(self.root, f"c{i}")
        os.makedirs(data_dir, exist_ok=True)
        client = GossipClient(f"client-{i}", data_dir, self.ports, self.config)
        self.addCleanup(client.stop)
        client.start()
        return client

    def agents(self):
        return self.servers + self.clients

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        logs = "\n".join(a.output_tail(15) for a in self.agents())
        self.fail(f"no {what} after {timeout_s}s\n{logs}")

    def alive_everywhere(self):
        for agent in self.agents():
            statuses = {m["Name"]: m["Status"] for m in agent.get("/v1/agent/members").json()}
            if statuses != dict.fromkeys(self.names, SERF_ALIVE):
                return False
        return True

    def assert_alive_everywhere(self, when):
        # Members are never lost during a rotation; allow a brief settling for slow probes.
        self.wait_for(self.alive_everywhere, f"{AGENTS} alive members everywhere {when}",
                      timeout_s=10)

    def keyring(self, agent, method, key=None, query=""):
        body = json.dumps({"Key": key}) if key is not None else None
        return agent.request(method, "/v1/operator/keyring" + query, body=body, timeout=60)

    def keyring_cli(self, agent, *args):
        return subprocess.run([binary_path(), "keyring", f"-http-addr={agent.http_addr}", *args],
                              capture_output=True, text=True, timeout=60)

    def test_rotation_persistence_and_events(self):
        self.wait_for(self.alive_everywhere, f"{AGENTS} alive members everywhere")
        server, client = self.servers[0], self.clients[1]

        # The servers of dc1 flood-join each other's WAN pool (their LAN tags name the port).
        self.wait_for(lambda: all(len(s.get("/v1/agent/members?wan=1").json()) == 3
                                  for s in self.servers), "three servers in the WAN pool")
        # The keyring as every member has it: the old key primary everywhere, on the WAN pool
        # (three servers) and the LAN pool (eight agents). A client forwards the operation to a
        # server, which answers for both pools, WAN first, as Consul's servers do.
        resp = self.keyring(client, "GET")
        self.assertEqual(resp.status, 200, resp.text)
        pools = resp.json()
        self.assertEqual([(p["WAN"], p["Datacenter"], p["Segment"]) for p in pools],
                         [(True, "dc1", ""), (False, "dc1", "")])
        wan, lan = pools
        self.assertEqual((wan["Keys"], wan["PrimaryKeys"], wan["NumNodes"]),
                         ({OLD_KEY: 3}, {OLD_KEY: 3}, 3))
        self.assertEqual((lan["Keys"], lan["PrimaryKeys"], lan["NumNodes"]),
                         ({OLD_KEY: AGENTS}, {OLD_KEY: AGENTS}, AGENTS))

        # Install the new key through a client agent, make it primary through a server.
        resp = self.keyring(client, "POST", NEW_KEY)
        self.assertEqual(resp.status, 200, resp.text)
        self.assert_alive_everywhere("after the install")
        self.assertEqual([p["Keys"] for p in self.keyring(server, "GET").json()],
                         [{OLD_KEY: 3, NEW_KEY: 3}, {OLD_KEY: AGENTS, NEW_KEY: AGENTS}])
        # The primary key cannot be removed: every member refuses, with memberlist's words.
        resp = self.keyring(server, "DELETE", OLD_KEY)
        self.assertEqual(resp.status, 500)
        self.assertIn("WAN error: 3/3 nodes reported failure", resp.text)
        self.assertIn(f"dc1 (LAN) error: {AGENTS}/{AGENTS} nodes reported failure", resp.text)
        self.assertIn("Removing the primary key is not allowed", resp.text)
        resp = self.keyring(server, "PUT", NEW_KEY)
        self.assertEqual(resp.status, 200, resp.text)
        self.assert_alive_everywhere("after the switch of primary")
        resp = self.keyring(server, "DELETE", OLD_KEY)
        self.assertEqual(resp.status, 200, resp.text)
        self.assert_alive_everywhere("after the removal")
        # Bad requests: Consul's 400s.
        self.assertEqual(self.keyring(server, "GET", query="?relay-factor=9").status, 400)
        self.assertEqual(self.keyring(server, "POST", NEW_KEY, "?local-only=true").status, 400)
        self.assertEqual(self.keyring(server, "POST", "not-base64!").status, 500)

        # `proconsul keyring -list`: the new key on all eight nodes, nothing else.
        proc = self.keyring_cli(self.clients[0], "-list")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(),
                         ["==> Gathering installed encryption keys...", "", "WAN:",
                          f"  {NEW_KEY} [3/3]", "", "dc1 (LAN):",
                          f"  {NEW_KEY} [{AGENTS}/{AGENTS}]"])
        proc = self.keyring_cli(self.clients[0], "-list", "-local-only")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"  {NEW_KEY} [1/1]", proc.stdout)
        proc = self.keyring_cli(self.clients[0], "-remove", NEW_KEY)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Removing the primary key is not allowed", proc.stderr)
        agent_dirs = ["s0", "s1", "s2"] + [f"c{i}" for i in range(CLIENTS)]
        for data_dir in [os.path.join(self.root, d) for d in agent_dirs]:
            with open(os.path.join(data_dir, "serf", "local.keyring"), encoding="utf-8") as f:
                self.assertEqual(json.load(f), [NEW_KEY])
        for data_dir in [os.path.join(self.root, d) for d in ("s0", "s1", "s2")]:
            with open(os.path.join(data_dir, "serf", "remote.keyring"), encoding="utf-8") as f:
                self.assertEqual(json.load(f), [NEW_KEY])

        # A client restarted (its configuration still says the old key) loads the persisted
        # keyring and talks to the others again.
        exit_code, graceful = self.clients[0].stop()
        self.assertEqual((exit_code, graceful), (0, True))
        self.clients[0] = self.start_client(0)
        self.wait_for(self.alive_everywhere, f"{AGENTS} alive members after the client restart")
        self.assertEqual([p["Keys"] for p in self.keyring(self.clients[0], "GET").json()],
                         [{NEW_KEY: 3}, {NEW_KEY: AGENTS}])

        # A user event fired through one agent reaches every agent's list; a blocking list
        # returns when the next one arrives.
        proc = subprocess.run([binary_path(), "event", f"-http-addr={server.http_addr}",
                               "-name", "deploy", "v1"], capture_output=True, text=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(proc.stdout.startswith("Event ID: "), proc.stdout)
        event_id = proc.stdout.split()[-1]
        for agent in self.agents():
            self.wait_for(lambda a=agent: [e["ID"] for e in
                                           a.get("/v1/event/list?name=deploy").json()]
                          == [event_id], f"the event at {agent.node}", timeout_s=15)
        listed = self.clients[1].get("/v1/event/list?name=deploy")
        event = listed.json()[0]
        self.assertEqual((event["Name"], event["Payload"], event["Version"]),
                         ("deploy", "djE=", 1))
        index = int(listed.header("X-Consul-Index"))
        result = {}

        def blocking_list():
            result["resp"] = self.clients[1].get(f"/v1/event/list?name=deploy&index={index}"
                                                 "&wait=30s", timeout=60)

        waiter = threading.Thread(target=blocking_list)
        started = time.monotonic()
        waiter.start()
        time.sleep(1)
        self.assertTrue(waiter.is_alive(), "the blocking list returned without a new event")
        resp = self.clients[0].put("/v1/event/fire/deploy?node=client-1", body="v2")
        self.assertEqual(resp.status, 200, resp.text)
        self.assertEqual(resp.json()["NodeFilter"], "client-1")
        waiter.join(30)
        self.assertFalse(waiter.is_alive())
        self.assertLess(time.monotonic() - started, 25)
        names = [e["Payload"] for e in result["resp"].json()]
        self.assertEqual(names, ["djE=", "djI="])
        # The node filter kept the second event off every other agent.
        self.assertEqual(len(server.get("/v1/event/list?name=deploy").json()), 1)
        self.assertEqual(server.request("PUT", "/v1/event/fire/x?tag=v1").status, 500)
        self.check_wrong_key_is_visible(server)

    def serf_stats(self, agent):
        return agent.get("/v1/agent/self").json()["Stats"]

    def check_wrong_key_is_visible(self, server):
        # Consul's serf sections: the LAN pool on every agent, the WAN pool on servers only.
        lan = self.serf_stats(server)["serf_lan"]
        self.assertEqual((lan["members"], lan["failed"], lan["encrypted"]),
                         (str(AGENTS), "0", "true"))
        self.assertEqual(self.serf_stats(server)["serf_wan"]["members"], "3")
        client_stats = self.serf_stats(self.clients[1])
        self.assertEqual(client_stats["serf_lan"]["members"], str(AGENTS))
        self.assertNotIn("serf_wan", client_stats)
        refused_before = int(lan["refused_decrypt"])

        # An agent whose `encrypt` key the datacenter never had: its retry_join push-pulls
        # reach every server, which cannot open them.
        config = os.path.join(self.root, "other-key.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"gossip_lan": GOSSIP_LAN, "encrypt": OTHER_KEY}, out)
        data_dir = os.path.join(self.root, "intruder")
        os.makedirs(data_dir)
        intruder = GossipClient("intruder", data_dir, self.ports, config)
        self.addCleanup(intruder.stop)
        intruder.start()
        self.wait_for(lambda: int(self.serf_stats(server)["serf_lan"]["refused_decrypt"])
                      > refused_before, "refused decrypts counted at the server")
        proc = subprocess.run([binary_path(), "info", f"-http-addr={server.http_addr}"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("serf_lan:", proc.stdout.splitlines())
        self.assertIn("serf_wan:", proc.stdout.splitlines())
        self.assertTrue(any(line.startswith("\trefused_decrypt = ")
                            for line in proc.stdout.splitlines()), proc.stdout)
        # The server names the sender in a warning (once a minute per IP at most).
        self.wait_for(lambda: any("[WARN]" in line and "failed to decrypt a frame from 127.0.0.1:"
                                  in line for line in server.output()),
                      "the server's warning about the undecryptable frames")
        # The intruder's join errors point at the key; it never becomes a member.
        self.wait_for(lambda: any("retry_join: no address answered" in line and
                                  "gossip encryption key" in line for line in intruder.output()),
                      "the intruder's retry_join warning naming the key")
        proc = subprocess.run([binary_path(), "join", f"-http-addr={intruder.http_addr}",
                               f"127.0.0.1:{server.serf_lan_port}"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("gossip encryption key", proc.stderr)
        for agent in self.agents():
            self.assertNotIn("intruder",
                             {m["Name"] for m in agent.get("/v1/agent/members").json()})


if __name__ == "__main__":
    unittest.main()
