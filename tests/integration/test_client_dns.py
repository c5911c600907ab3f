"""DNS through a client agent follows the client's own settings, not its server's.

Consul's agents each answer DNS with their own configuration: a client agent reads the
catalog from a server and builds the answer itself, so its dns_config (only_passing,
service_ttl, node_ttl, udp_answer_limit, enable_truncate, ...) and its domain apply to what
it answers, whatever its servers are configured with. Here the client sends its settings with
each question it forwards and the server answers with them (docs/decisions/0022).

One server (its own DNS port open, with its own settings) and one client agent with very
different ones; the same names asked of each show whose settings shaped the answer. A SIGHUP
reload of the client's settings applies to its next question.
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import unittest

from proconsul import wait_until
from test_acl_dns import DnsServerAgent  # a server with its own DNS port open
from test_cluster import CONVERGE_S, free_port
from test_gossip import GossipClient  # a client agent reading a config file
import test_dns  # DigResult; importing its classes would run their tests here too

DIG_TIMEOUT_S = 10

SERVER_SETTINGS = {
    "performance": {"raft_multiplier": 1},
    "dns_config": {"service_ttl": {"*": "30s"}, "node_ttl": "20s", "udp_answer_limit": 3},
}


STUB_PTR_TARGET = "stub.recursor.test."
# Host names the stub recursor has A records for (service addresses outside the domains).
STUB_HOSTS = {"db.example.test.": "192.0.2.30"}


def client_settings(service_ttl, recursor_port):
    return {"domain": "example", "recursors": [f"127.0.0.1:{recursor_port}"],
            "dns_config": {"only_passing": True, "service_ttl": {"*": service_ttl},
                           "node_ttl": "3s", "udp_answer_limit": 2, "enable_truncate": True,
                           "recursor_timeout": "2s"}}


class StubRecursor:
    """A UDP recursor on loopback answering every PTR question with STUB_PTR_TARGET, A
    questions for STUB_HOSTS with their address, and anything else with NXDOMAIN; it stops
    with the test."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()

    def serve(self):
        while not self.stopped.is_set():
            try:
                packet, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            reply = self.answer(packet)
            if reply:
                self.sock.sendto(reply, peer)

    @staticmethod
    def answer(packet):
        if len(packet) < 12:
            return None
        ident, flags = struct.unpack("!HH", packet[:4])
        pos = 12
        while pos < len(packet) and packet[pos] != 0:
            pos += 1 + packet[pos]
        if pos + 5 > len(packet):
            return None
        qtype = struct.unpack("!H", packet[pos + 1:pos + 3])[0]
        question = packet[12:pos + 5]
        rd = flags & 0x0100
        labels, at = [], 12
        while packet[at] != 0:
            labels.append(packet[at + 1:at + 1 + packet[at]].decode("ascii", "replace").lower())
            at += 1 + packet[at]
        host = STUB_HOSTS.get(".".join(labels) + ".")
        if qtype == 1 and host is not None:
            record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(host)
            return struct.pack("!HHHHHH", ident, 0x8080 | rd, 1, 1, 0, 0) + question + record
        if qtype != 12:
            return struct.pack("!HHHHHH", ident, 0x8083 | rd, 1, 0, 0, 0) + question
        target = b"".join(bytes([len(label)]) + label.encode("ascii")
                          for label in STUB_PTR_TARGET.rstrip(".").split(".")) + b"\0"
        record = b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 60, len(target)) + target
        return struct.pack("!HHHHHH", ident, 0x8080 | rd, 1, 1, 0, 0) + question + record


class ClientDnsBase(unittest.TestCase):
    """Helpers: dig, the A answers with their TTLs, catalog registration through a client."""

    def setUp(self):
        if shutil.which("dig") is None:
            raise AssertionError("dig is missing: install Debian's dnsutils (scripts/setup)")
        self.root = tempfile.mkdtemp(prefix="pc-client-dns-")
        self.addCleanup(shutil.rmtree, self.root, True)

    def wait_for(self, predicate, what, timeout_s=CONVERGE_S):
        def attempt():
            try:
                return predicate()
            except (OSError, ValueError, AssertionError):
                return False
        wait_until(attempt, timeout_s, 0.2, what)

    def dig(self, agent, name, rtype="A", *options):
        args = ["dig", "@127.0.0.1", "-p", str(agent.dns_port), name, rtype, "+time=3",
                "+tries=1", "+noall", "+answer", "+authority", "+additional", "+comments",
                *options]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=DIG_TIMEOUT_S,
                              check=False)
        result = test_dns.DigResult(proc.stdout)
        if proc.returncode != 0 or result.status is None:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}")
        return result

    @staticmethod
    def answers(result):
        """(address, ttl) of each A answer, sorted."""
        out = []
        for line in result.text.splitlines():
            fields = line.split()
            if len(fields) >= 5 and not line.startswith(";") and fields[3] == "A":
                out.append((fields[4], int(fields[1])))
        return sorted(out)

    def register(self, node, address, service, status):
        body = {"Node": node, "Address": address,
                "Service": {"ID": f"{service}-{node}", "Service": service, "Port": 80},
                "Checks": [{"CheckID": f"{service}-{node}", "Name": "alive", "Status": status,
                            "ServiceID": f"{service}-{node}"}]}
        # Through the client: forwarded to a server like any catalog write.
        resp = self.client.put("/v1/catalog/register", body=json.dumps(body))
        self.assertEqual(resp.status, 200, resp.text)


class ClientDnsTest(ClientDnsBase):
    def setUp(self):
        super().setUp()
        server_config = os.path.join(self.root, "server.json")
        with open(server_config, "w", encoding="utf-8") as out:
            json.dump(SERVER_SETTINGS, out)
        self.recursor = StubRecursor()
        self.addCleanup(self.recursor.stop)
        self.client_config = os.path.join(self.root, "client.json")
        self.write_client_config("7s")
        port = free_port()
        os.makedirs(os.path.join(self.root, "s0"))
        self.server = DnsServerAgent("server-0", os.path.join(self.root, "s0"), port, [],
                                     server_config, bootstrap_expect=1)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.wait_for(lambda: self.server.get("/v1/status/leader").json() != "", "a leader")
        os.makedirs(os.path.join(self.root, "c0"))
        self.client = GossipClient("client-0", os.path.join(self.root, "c0"), [port],
                                   self.client_config)
        self.addCleanup(self.client.stop)
        self.client.start()
        # The client forwards once gossip told it of the server.
        self.wait_for(lambda: self.client.get("/v1/status/leader").status == 200,
                      "the client reaching the server")
        self.assertIsNotNone(self.server.dns_port, self.server.output_tail(20))
        self.assertIsNotNone(self.client.dns_port, self.client.output_tail(20))

    def write_client_config(self, service_ttl):
        with open(self.client_config, "w", encoding="utf-8") as out:
            json.dump(client_settings(service_ttl, self.recursor.port), out)

    def test_answers_through_the_client_follow_the_clients_settings(self):
        self.register("n1", "10.5.0.1", "web", "passing")
        self.register("n2", "10.5.0.2", "web", "passing")
        self.register("n3", "10.5.0.3", "web", "warning")
        for i in range(5):
            self.register(f"b{i}", f"10.6.0.{i + 1}", "big", "passing")

        # The server's own answer: warning instances in, its 30 s TTL, its domain.
        server_web = self.dig(self.server, "web.service.consul")
        self.assertEqual(self.answers(server_web), [("10.5.0.1", 30), ("10.5.0.2", 30),
                                                    ("10.5.0.3", 30)], server_web)

        # The client's: only passing instances, its 7 s TTL, its domain.
        def client_web():
            result = self.dig(self.client, "web.service.example")
            return self.answers(result) == [("10.5.0.1", 7), ("10.5.0.2", 7)]
        self.wait_for(client_web, "web.service.example as the client is configured")
        # The server's domain is not the client's: a name outside it, for the client's
        # recursor (NXDOMAIN without the SOA the resolver would add).
        outside = self.dig(self.client, "web.service.consul")
        self.assertEqual(outside.status, "NXDOMAIN", outside)
        self.assertEqual(outside.authority, [], outside)
        self.assertEqual(self.dig(self.server, "web.service.example").status, "REFUSED")

        # Node TTLs: the client's 3 s against the server's 20 s.
        self.assertEqual(self.answers(self.dig(self.client, "n1.node.example")),
                         [("10.5.0.1", 3)])
        self.assertEqual(self.answers(self.dig(self.server, "n1.node.consul")),
                         [("10.5.0.1", 20)])

        # Plain 512-byte UDP: the client keeps 2 answers and sets TC; the server 3, no TC.
        udp = self.dig(self.client, "big.service.example", "A", "+noedns", "+ignore")
        self.assertEqual(len(udp.records("answer", "A")), 2, udp)
        self.assertIn("tc", udp.flags, udp)
        server_udp = self.dig(self.server, "big.service.consul", "A", "+noedns", "+ignore")
        self.assertEqual(len(server_udp.records("answer", "A")), 3, server_udp)
        self.assertNotIn("tc", server_udp.flags, server_udp)
        # Over TCP the client's answer is whole.
        tcp = self.dig(self.client, "big.service.example", "A", "+tcp")
        self.assertEqual(len(tcp.records("answer", "A")), 5, tcp)

        # SRV targets and the SOA name the client's domain.
        srv = self.dig(self.client, "_web._tcp.service.example", "SRV")
        targets = sorted(r[2][3] for r in srv.records("answer", "SRV"))
        self.assertEqual(targets, ["n1.node.dc1.example.", "n2.node.dc1.example."], srv)
        missing = self.dig(self.client, "nothing.service.example")
        self.assertEqual(missing.status, "NXDOMAIN", missing)
        self.assertEqual([r[0] for r in missing.records("authority", "SOA")], ["example."])

        # The client has recursors: RA is set on what the server built for it, and a reverse
        # name the catalog does not know goes to the client's recursor.
        self.assertIn("ra", self.dig(self.client, "web.service.example").flags)
        self.assertNotIn("ra", server_web.flags)
        unknown = self.dig(self.client, "99.2.0.192.in-addr.arpa", "PTR")
        self.assertEqual(unknown.status, "NOERROR", unknown)
        self.assertEqual([r[2][0] for r in unknown.records("answer", "PTR")], [STUB_PTR_TARGET],
                         unknown)
        known = self.dig(self.client, "1.0.5.10.in-addr.arpa", "PTR")
        self.assertEqual([r[2][0] for r in known.records("answer", "PTR")],
                         ["n1.node.dc1.example."], known)

        # A reload of the client's settings applies to its next question.
        self.write_client_config("9s")
        os.kill(self.client.proc.pid, signal.SIGHUP)
        self.wait_for(lambda: self.answers(self.dig(self.client, "web.service.example"))
                      == [("10.5.0.1", 9), ("10.5.0.2", 9)], "the reloaded service TTL")


    def test_host_name_addresses_are_completed_with_the_clients_recursors(self):
        # Consul: a service address that is a host name outside the domain is a CNAME (A
        # questions) or the SRV target, followed by the host's records from the recursors of
        # the agent asked. The server has no recursors; the client's stub knows the host.
        body = {"Node": "ext-node", "Address": "10.7.0.1",
                "Service": {"ID": "db1", "Service": "db", "Address": "db.example.test",
                            "Port": 5432}}
        resp = self.client.put("/v1/catalog/register", body=json.dumps(body))
        self.assertEqual(resp.status, 200, resp.text)

        def cname_and_address(result):
            return (result.records("answer", "CNAME"),
                    [r[2][0] for r in result.records("answer", "A")])

        def client_db():
            result = self.dig(self.client, "db.service.example")
            return cname_and_address(result) == (
                [("db.service.example.", "CNAME", ["db.example.test."])], ["192.0.2.30"])
        self.wait_for(client_db, "db.service.example with the host's address")
        for extra in ([], ["+tcp"], ["+noedns"]):
            result = self.dig(self.client, "db.service.example", "A", *extra)
            self.assertEqual(result.status, "NOERROR", result)
            self.assertEqual(cname_and_address(result),
                             ([("db.service.example.", "CNAME", ["db.example.test."])],
                              ["192.0.2.30"]), result)
            # The host's record takes the service's TTL (the client's 7 s), as Consul sets it.
            self.assertEqual(self.answers(result), [("192.0.2.30", 7)], result)
        srv = self.dig(self.client, "db.service.example", "SRV")
        self.assertEqual([r[2][3] for r in srv.records("answer", "SRV")], ["db.example.test."],
                         srv)
        self.assertEqual([(r[0], r[2][0]) for r in srv.records("additional", "A")],
                         [("db.example.test.", "192.0.2.30")], srv)

        # The server, without recursors, answers its own port with the CNAME alone.
        own = self.dig(self.server, "db.service.consul")
        self.assertEqual(cname_and_address(own),
                         ([("db.service.consul.", "CNAME", ["db.example.test."])], []), own)


class StrictClientDnsTest(ClientDnsBase):
    """Three servers and three client agents with allow_stale off: a client's question that
    lands on a follower is answered by the leader (Consul sends non-stale reads there), not
    refused with SERVFAIL. Each client picks its server at random, so with three of them
    nearly every run has one on a follower; a run where all chose the leader still checks
    the answers."""

    def setUp(self):
        super().setUp()
        server_config = os.path.join(self.root, "server.json")
        with open(server_config, "w", encoding="utf-8") as out:
            json.dump(SERVER_SETTINGS, out)
        self.client_config = os.path.join(self.root, "client.json")
        settings = client_settings("7s", free_port())
        settings["dns_config"]["allow_stale"] = False
        with open(self.client_config, "w", encoding="utf-8") as out:
            json.dump(settings, out)
        ports = [free_port() for _ in range(3)]
        self.servers = []
        for i, port in enumerate(ports):
            data_dir = os.path.join(self.root, f"s{i}")
            os.makedirs(data_dir)
            server = DnsServerAgent(f"server-{i}", data_dir, port,
                                    [p for p in ports if p != port], server_config)
            self.addCleanup(server.stop)
            server.start()
            self.servers.append(server)
        self.wait_for(lambda: all(s.get("/v1/status/leader").json() != "" for s in self.servers),
                      "a leader known to every server")
        self.clients = []
        for i in range(3):
            data_dir = os.path.join(self.root, f"c{i}")
            os.makedirs(data_dir)
            client = GossipClient(f"client-{i}", data_dir, ports, self.client_config)
            self.addCleanup(client.stop)
            client.start()
            self.clients.append(client)
        for client in self.clients:
            self.wait_for(lambda c=client: c.get("/v1/status/leader").status == 200,
                          f"{client.node} reaching a server")
        self.client = self.clients[0]

    def test_a_follower_has_the_leader_answer(self):
        self.register("n1", "10.5.0.1", "web", "passing")
        self.register("n3", "10.5.0.3", "web", "warning")
        for client in self.clients:
            self.wait_for(lambda c=client: self.answers(self.dig(c, "web.service.example"))
                          == [("10.5.0.1", 7)], f"web.service.example through {client.node}")
            for _ in range(3):
                result = self.dig(client, "web.service.example")
                self.assertEqual(result.status, "NOERROR", result)
                self.assertEqual(self.answers(result), [("10.5.0.1", 7)], result)



if __name__ == "__main__":
    unittest.main()
