"""Three `proconsul agent -server` processes on loopback forming one Raft cluster.

What Consul promises and this checks: servers started with -bootstrap-expect 3 and each
other's addresses elect one leader that every server reports at /v1/status/leader;
/v1/status/peers lists the three; a write sent to any server is acknowledged once committed
and is then readable from every server; default and ?consistent reads never return older
data than a write acknowledged before them; when the leader is killed (SIGKILL) the other two
elect a new one within a few election timeouts and keep taking writes; the killed server
restarts from its data directory with everything it had acknowledged and catches up; five
servers keep serving with two of them (the leader among them) killed. Under a
write load across the leader's SIGKILL no acknowledged write is lost; a server down while
the others compacted their logs catches up from a snapshot; a full-cluster restart keeps
every write; a new server pointed at a running cluster joins it as a voter, and the operator
API removes it. A leader paused with SIGSTOP while the others elect a new leader and take a
write never answers a default read from its stale state when it wakes (the leader lease).

Servers here run with performance.raft_multiplier 1 (1 s election timeout), as Consul
recommends for tests. They find each other through the LAN gossip pool: each listens for
gossip on a port picked here (lan_port_of) and -retry-join names the other servers' LAN
gossip addresses, retried every second (-retry-interval 1s).
"""

import http.client
import json
import os
import random
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

from proconsul import Agent

CONVERGE_S = 20.0

_PICKED_PORTS = set()


def free_port():
    """A port for a server to bind later, below the kernel's ephemeral range.

    Servers need each other's ports before they start, so a port is picked now and bound
    later. A port from the ephemeral range could meanwhile be handed to any socket bound to
    port 0 (every agent binds several: HTTP, DNS, gossip); below the range only another
    explicit pick can take it, and the bind test here makes that unlikely too. A port is
    never handed out twice by one test process: picked ports stay unbound until their agent
    starts, so the bind test alone would let, say, a server's RPC and gossip ports coincide."""
    low, high = 20000, 32767
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            first = int(f.read().split()[0])
        high = min(high, first - 1)
    except (OSError, ValueError, IndexError):
        pass
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(low, high)
        if port in _PICKED_PORTS:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))
            _PICKED_PORTS.add(port)
            return port
        except OSError:
            continue
    raise RuntimeError("no free port below the ephemeral range")


_LAN_PORTS = {}


def lan_port_of(server_port):
    """The LAN gossip port of the server (or agent) keyed by `server_port`, picked once.

    Agents join each other by LAN gossip address, so every agent's gossip port must be known
    before any of them starts; tests name servers by their server port, and this maps it."""
    if server_port not in _LAN_PORTS:
        _LAN_PORTS[server_port] = free_port()
    return _LAN_PORTS[server_port]


class ServerAgent(Agent):
    """`agent -server -bootstrap-expect N` with its own data directory, server port and LAN
    gossip port (lan_port_of); `peers` are other servers' server ports, joined at their LAN
    gossip ports."""

    # The WAN gossip port: the kernel picks one unless a test needs it known in advance.
    serf_wan_port_flag = 0

    def __init__(self, node, data_dir, server_port, peers, config_file, bootstrap_expect=3):
        super().__init__(node=node)
        self.bootstrap_expect = bootstrap_expect
        self.data_dir = data_dir
        self.server_port = server_port
        self.peers = peers
        self.config_file = config_file

    def command(self):
        args = [super().command()[0], "agent", "-server"]
        if self.bootstrap_expect:
            args += ["-bootstrap-expect", str(self.bootstrap_expect)]
        args += ["-data-dir", self.data_dir, "-node", self.node, "-bind", "127.0.0.1",
                "-http-port", "0", "-dns-port", "-1", "-server-port", str(self.server_port),
                "-serf-lan-port", str(lan_port_of(self.server_port)), "-retry-interval", "1s",
                "-serf-wan-port", str(self.serf_wan_port_flag),
                "-config-file", self.config_file, "-log-level", "debug"]
        for peer in self.peers:
            args += ["-retry-join", f"127.0.0.1:{lan_port_of(peer)}"]
        return args


def start_servers(test, root, config_file, size=3):
    """`size` servers under `root` peering with each other, stopped at the test's cleanup;
    returns (their server ports, the agents)."""
    ports = [free_port() for _ in range(size)]
    servers = []
    for i, port in enumerate(ports):
        data_dir = os.path.join(root, f"s{i}")
        os.makedirs(data_dir)
        peers = [p for p in ports if p != port]
        servers.append(ServerAgent(f"server-{i}", data_dir, port, peers, config_file))
    for server in servers:
        test.addCleanup(server.stop)
        server.start()
    return ports, servers


class ClusterTest(unittest.TestCase):
    size = 3

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-cluster-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.config_file = os.path.join(self.root, "fast.json")
        with open(self.config_file, "w", encoding="utf-8") as out:
            # Small snapshot threshold: a server down for a few hundred writes must catch up
            # from a snapshot, the logs it would need having been compacted away.
            json.dump({"performance": {"raft_multiplier": 1}, "raft_snapshot_threshold": 64,
                       "raft_trailing_logs": 16}, out)
        self.ports = [free_port() for _ in range(self.size)]
        self.servers = [self.make_server(i) for i in range(self.size)]
        for server in self.servers:
            self.addCleanup(server.stop)
            server.start()

    def make_server(self, i):
        data_dir = os.path.join(self.root, f"s{i}")
        os.makedirs(data_dir, exist_ok=True)
        peers = [p for j, p in enumerate(self.ports) if j != i]
        return ServerAgent(f"server-{i}", data_dir, self.ports[i], peers, self.config_file,
                           bootstrap_expect=self.size)

    def leader_of(self, server):
        resp = server.get("/v1/status/leader")
        return resp.json() if resp.status == 200 else ""

    def wait_leader(self, servers, not_this=None):
        """The leader address every server in `servers` agrees on (other than `not_this`)."""
        deadline = time.monotonic() + CONVERGE_S
        seen = None
        while time.monotonic() < deadline:
            seen = [self.leader_of(s) for s in servers]
            if seen[0] and seen[0] != not_this and all(l == seen[0] for l in seen):
                return seen[0]
            time.sleep(0.1)
        self.fail(f"no agreed leader after {CONVERGE_S}s: {seen}\n"
                  + "\n".join(s.output_tail(30) for s in servers))

    def wait_value(self, server, key, want):
        deadline = time.monotonic() + CONVERGE_S
        got = None
        while time.monotonic() < deadline:
            resp = server.get(f"/v1/kv/{key}?raw")
            got = (resp.status, resp.body)
            if resp.status == 200 and resp.body == want:
                return
            time.sleep(0.05)
        self.fail(f"{server.node}: {key} is {got}, want {want!r}")

    def put_until_ok(self, server, key, value):
        """A write through `server`; retried while the cluster has no leader (500)."""
        deadline = time.monotonic() + CONVERGE_S
        resp = None
        while time.monotonic() < deadline:
            resp = server.put(f"/v1/kv/{key}", body=value)
            if resp.status == 200:
                self.assertEqual(resp.json(), True)
                return
            time.sleep(0.1)
        self.fail(f"PUT {key} via {server.node}: {resp.status} {resp.text}")

    def server_at(self, address):
        port = int(address.rsplit(":", 1)[1])
        return self.servers[self.ports.index(port)]

    def test_elects_replicates_fails_over_and_recovers(self):
        leader_address = self.wait_leader(self.servers)
        peers = self.servers[0].get("/v1/status/peers").json()
        self.assertEqual(sorted(peers), sorted(f"127.0.0.1:{p}" for p in self.ports))

        # A write through a follower is forwarded, committed, and readable everywhere.
        leader = self.server_at(leader_address)
        follower = next(s for s in self.servers if s is not leader)
        self.put_until_ok(follower, "cluster/a", "1")
        for server in self.servers:
            self.wait_value(server, "cluster/a", b"1")

        # Default and ?consistent reads on followers never answer older than a write
        # acknowledged before them (a ReadIndex through the leader); ?stale may.
        for i in range(5):
            self.put_until_ok(leader, "cluster/seq", str(i))
            for server in self.servers:
                resp = server.get("/v1/kv/cluster/seq?raw")
                self.assertEqual((resp.status, resp.body), (200, str(i).encode()), server.node)
                resp = server.get("/v1/kv/cluster/seq?raw&consistent")
                self.assertEqual((resp.status, resp.body), (200, str(i).encode()), server.node)
                self.assertEqual(server.get("/v1/kv/cluster/seq?stale").status, 200)

        # Every server registered itself in the catalog through the leader.
        deadline = time.monotonic() + CONVERGE_S
        nodes = []
        while time.monotonic() < deadline:
            nodes = sorted(n["Node"] for n in follower.get("/v1/catalog/nodes").json())
            if len(nodes) == 3:
                break
            time.sleep(0.1)
        self.assertEqual(nodes, ["server-0", "server-1", "server-2"])

        # Kill the leader: the other two elect a new one and keep taking writes.
        leader.proc.kill()
        leader.proc.wait()
        survivors = [s for s in self.servers if s is not leader]
        # A write sent right after the kill waits for the new leader instead of failing
        # (Consul's rpc_hold_timeout), as long as it could not have reached the dead one.
        # Give the survivor a moment to see its connection to the dead leader close: a write
        # forwarded on that connection before then may have reached the leader, and is
        # failed rather than sent twice (Consul retries only reads after such an error).
        time.sleep(0.1)
        resp = survivors[0].put("/v1/kv/cluster/held", body="h")
        self.assertEqual((resp.status, resp.body.strip()), (200, b"true"), resp.text)
        new_leader_address = self.wait_leader(survivors, not_this=leader_address)
        self.put_until_ok(survivors[0], "cluster/b", "2")
        for server in survivors:
            self.wait_value(server, "cluster/b", b"2")

        # The killed server restarts from its data directory and catches up.
        index = self.servers.index(leader)
        restarted = self.make_server(index)
        self.servers[index] = restarted
        self.addCleanup(restarted.stop)
        restarted.start()
        self.wait_value(restarted, "cluster/a", b"1")
        self.wait_value(restarted, "cluster/b", b"2")
        self.assertEqual(self.wait_leader(self.servers), new_leader_address)

        for server in self.servers:
            server.stop_checked()

    def test_no_acknowledged_write_lost_across_leader_kill_and_full_restart(self):
        leader_address = self.wait_leader(self.servers)
        leader = self.server_at(leader_address)
        survivors = [s for s in self.servers if s is not leader]
        acknowledged = []
        stop = threading.Event()

        def load(server, prefix):
            # Sequential writes through one follower, with a short timeout each: whatever
            # the cluster acknowledged must survive; failures (no leader) are retried.
            i = 0
            while not stop.is_set() and i < 5000:
                key = f"load/{prefix}/{i}"
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
                    conn.request("PUT", f"/v1/kv/{key}", body=str(i))
                    resp = conn.getresponse()
                    body = resp.read()
                    conn.close()
                except OSError:
                    time.sleep(0.05)
                    continue
                if resp.status == 200 and body.strip() == b"true":
                    acknowledged.append((key, str(i).encode()))
                    i += 1
                else:
                    time.sleep(0.05)

        threads = [threading.Thread(target=load, args=(s, s.node)) for s in survivors]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            leader.proc.kill()
            leader.proc.wait()
            self.wait_leader(survivors, not_this=leader_address)
            # Keep writing until the survivors have compacted past what the killed one has.
            deadline = time.monotonic() + CONVERGE_S
            while len(acknowledged) < 400 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertGreaterEqual(len(acknowledged), 400)

        index = self.servers.index(leader)
        restarted = self.make_server(index)
        self.servers[index] = restarted
        self.addCleanup(restarted.stop)
        restarted.start()
        last_key, last_value = acknowledged[-1]
        self.wait_value(restarted, last_key, last_value)
        self.assertTrue(any("restored a snapshot" in line or "state restored from a snapshot"
                            in line for line in restarted.output()),
                        "the restarted server should have caught up from a snapshot\n"
                        + restarted.output_tail(40))

        # Full-cluster restart: every acknowledged write is still there, on every server.
        for server in self.servers:
            server.stop_checked()
        self.servers = [self.make_server(i) for i in range(3)]
        for server in self.servers:
            self.addCleanup(server.stop)
            server.start()
        self.wait_leader(self.servers)
        for server in self.servers:
            self.wait_value(server, last_key, last_value)
            for key, value in acknowledged:
                resp = server.get(f"/v1/kv/{key}?raw&stale")
                self.assertEqual((resp.status, resp.body), (200, value), f"{server.node} {key}")
        for server in self.servers:
            server.stop_checked()


    def test_a_server_joins_a_running_cluster_and_is_removed(self):
        self.wait_leader(self.servers)
        self.put_until_ok(self.servers[0], "join/before", "1")
        data_dir = os.path.join(self.root, "s3")
        os.makedirs(data_dir, exist_ok=True)
        # No -bootstrap-expect: the new server finds a running cluster and asks to join it.
        fourth = ServerAgent("server-3", data_dir, free_port(), [self.ports[1]],
                             self.config_file, bootstrap_expect=0)
        self.addCleanup(fourth.stop)
        fourth.start()
        address = f"127.0.0.1:{fourth.server_port}"
        deadline = time.monotonic() + CONVERGE_S
        peers = []
        while time.monotonic() < deadline:
            peers = self.servers[0].get("/v1/status/peers").json()
            if address in peers:
                break
            time.sleep(0.1)
        self.assertIn(address, peers)
        self.assertEqual(len(peers), 4)
        self.wait_value(fourth, "join/before", b"1")
        self.put_until_ok(fourth, "join/after", "2")
        for server in self.servers:
            self.wait_value(server, "join/after", b"2")

        # The operator removes it again.
        resp = self.servers[0].delete(f"/v1/operator/raft/peer?address={address}")
        self.assertEqual(resp.status, 200, resp.text)
        deadline = time.monotonic() + CONVERGE_S
        while time.monotonic() < deadline:
            peers = self.servers[0].get("/v1/status/peers").json()
            if address not in peers:
                break
            time.sleep(0.1)
        self.assertEqual(len(peers), 3, peers)
        self.put_until_ok(self.servers[0], "join/removed", "3")
        fourth.stop()
        for server in self.servers:
            server.stop_checked()

    def test_a_paused_leader_never_answers_a_default_read_from_stale_state(self):
        # Consul's default read mode lets the leader answer from its own state under a
        # leader lease. A leader paused (SIGSTOP) while the others elect a new one and take
        # a write must not, on waking (SIGCONT), answer a default read with the value from
        # before that write: its lease ran out on the monotonic clock while it slept, so it
        # takes the read barrier, which fails or answers the new value.
        key = "lease/k"
        for round_ in range(3):
            old_address = self.wait_leader(self.servers)
            old = self.server_at(old_address)
            others = [s for s in self.servers if s is not old]
            self.put_until_ok(old, key, f"old-{round_}")
            resp = old.get(f"/v1/kv/{key}?raw")  # local, under the lease
            self.assertEqual((resp.status, resp.body), (200, f"old-{round_}".encode()))

            old.proc.send_signal(signal.SIGSTOP)
            self.addCleanup(self.resume, old)
            new_address = self.wait_leader(others, not_this=old_address)
            new_value = f"new-{round_}"
            self.put_until_ok(self.server_at(new_address), key, new_value)

            # The read is sent while the old leader still sleeps (the kernel queues it), so
            # it is the first thing its HTTP server sees on waking.
            conn = http.client.HTTPConnection("127.0.0.1", old.port, timeout=30)
            try:
                conn.request("GET", f"/v1/kv/{key}?raw")
                old.proc.send_signal(signal.SIGCONT)
                resp = conn.getresponse()
                status, body = resp.status, resp.read()
            finally:
                conn.close()
            self.assertNotEqual((status, body), (200, f"old-{round_}".encode()),
                                f"round {round_}: the woken leader answered from stale state")
            if status == 200:
                self.assertEqual(body, new_value.encode())
            # Once caught up it serves default reads again (through the barrier now).
            self.wait_value(old, key, new_value.encode())
        for server in self.servers:
            server.stop_checked()

    @staticmethod
    def resume(server):
        if server.alive():
            server.proc.send_signal(signal.SIGCONT)


class FiveServerTest(ClusterTest):
    """Five servers survive the loss of two, the leader among them."""
    size = 5

    # The three-server scenarios above are not repeated with five.
    test_elects_replicates_fails_over_and_recovers = None
    test_no_acknowledged_write_lost_across_leader_kill_and_full_restart = None
    test_a_server_joins_a_running_cluster_and_is_removed = None
    test_a_paused_leader_never_answers_a_default_read_from_stale_state = None

    def test_two_of_five_down(self):
        leader_address = self.wait_leader(self.servers)
        self.assertEqual(len(self.servers[0].get("/v1/status/peers").json()), 5)
        leader = self.server_at(leader_address)
        other = next(s for s in self.servers if s is not leader)
        for victim in (leader, other):
            victim.proc.kill()
            victim.proc.wait()
        survivors = [s for s in self.servers if s not in (leader, other)]
        self.wait_leader(survivors, not_this=leader_address)
        self.put_until_ok(survivors[0], "five/a", "1")
        for server in survivors:
            self.wait_value(server, "five/a", b"1")
        for server in survivors:
            server.stop_checked()


if __name__ == "__main__":
    unittest.main()
