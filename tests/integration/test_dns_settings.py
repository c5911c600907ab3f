"""DNS settings beyond the basic lookups, queried with dig against one agent.

Facts from Consul's agent/dns.go and its documentation:
- `recursors`: a name outside the domain is sent to the recursors in order; the first answer
  with rcode NOERROR or NXDOMAIN is relayed, a recursor that fails or times out
  (dns_config.recursor_timeout) is skipped, and when all fail the answer is SERVFAIL. With
  recursors configured every answer has RA set. A reverse name the catalog does not know is
  forwarded too.
- A service whose address is a host name is answered with a CNAME to it, followed by the
  host's records as the recursors give them.
- `alt_domain` is answered like `domain`, in the domain the question used.
- Node meta becomes TXT records: in the answer for TXT and ANY questions about the node, and
  in the additional section of A answers (enable_additional_node_meta_txt, default on);
  a key starting with "rfc1035-" gives the value alone.
- NS questions name up to three servers, with their addresses as glue.
- SIGHUP reloads dns_config.
- HTTP and DNS listen on every address of client_addr.
"""

import json
import os
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from proconsul import AgentTestCase
import test_dns  # its helpers; importing the classes would run its tests here too

STUB_ANSWERS = {
    "example.test.": "192.0.2.10",
    "ext.example.test.": "192.0.2.20",
}
SLOW_NAME = "slow.test."  # the stub never answers it
RECURSOR_TIMEOUT_S = 0.5


def parse_question(packet):
    """(id, flags, qname, qtype, end offset) of a query with one uncompressed question."""
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount != 1:
        return None
    labels, pos = [], 12
    while packet[pos] != 0:
        length = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + length].decode("ascii").lower())
        pos += 1 + length
    qtype = struct.unpack("!H", packet[pos + 1:pos + 3])[0]
    return ident, flags, ".".join(labels) + ".", qtype, pos + 5


def stub_answer(packet):
    """The stub's reply: an A record for a known name, NXDOMAIN otherwise, None for SLOW_NAME."""
    parsed = parse_question(packet)
    if parsed is None:
        return None
    ident, flags, qname, qtype, end = parsed
    if qname == SLOW_NAME:
        return None
    question = packet[12:end]
    address = STUB_ANSWERS.get(qname)
    rd = flags & 0x0100
    if address is None or qtype not in (1, 255):
        rcode = 3 if address is None else 0
        header = struct.pack("!HHHHHH", ident, 0x8080 | rd | rcode, 1, 0, 0, 0)
        return header + question
    header = struct.pack("!HHHHHH", ident, 0x8080 | rd, 1, 1, 0, 0)
    record = (b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) +
              socket.inet_aton(address))
    return header + question + record


class StubUdp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        reply = stub_answer(data)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class StubTcp(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            length = struct.unpack("!H", self.request.recv(2))[0]
            data = b""
            while len(data) < length:
                chunk = self.request.recv(length - len(data))
                if not chunk:
                    return
                data += chunk
            reply = stub_answer(data)
            if reply is not None:
                self.request.sendall(struct.pack("!H", len(reply)) + reply)
        except (OSError, struct.error):
            pass


def start_stub():
    """A UDP and a TCP stub server on one free loopback port."""
    for _ in range(20):
        udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), StubUdp)
        port = udp.server_address[1]
        try:
            tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), StubTcp)
        except OSError:
            udp.server_close()
            continue
        for server in (udp, tcp):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return udp, tcp, port
    raise AssertionError("no free port for the stub recursor")


def closed_port():
    """A loopback UDP port nothing listens on (queries to it fail at once)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class DnsRecursorTest(AgentTestCase):
    node_name = "dns-recursor-agent"
    _config_dir = tempfile.mkdtemp(prefix="pc-dns-recursor-")
    _config_file = os.path.join(_config_dir, "dns.json")
    _stub_udp, _stub_tcp, stub_port = start_stub()
    _settings = {
        "alt_domain": "alt-test.",
        # The first recursor is dead: every forward must fall through to the stub.
        "recursors": [f"127.0.0.1:{closed_port()}", f"127.0.0.1:{stub_port}"],
        "dns_config": {"recursor_timeout": f"{int(RECURSOR_TIMEOUT_S * 1000)}ms"},
    }
    with open(_config_file, "w", encoding="utf-8") as out:
        json.dump(_settings, out)
    agent_args = ("-config-file", _config_file, "-node-meta", "rack:r1",
                  "-node-meta", "rfc1035-note:plain text")

    dig = test_dns.DnsTest.dig
    register = test_dns.DnsTest.register

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            for server in (cls._stub_udp, cls._stub_tcp):
                server.shutdown()
                server.server_close()
            shutil.rmtree(cls._config_dir, ignore_errors=True)

    def test_forward_outside_domain(self):
        result = self.dig("example.test")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertIn("ra", result.flags, result)
        self.assertEqual([r[2][0] for r in result.records("answer", "A")], ["192.0.2.10"], result)

    def test_forward_over_tcp(self):
        result = self.dig("example.test", "A", "+tcp")
        self.assertEqual([r[2][0] for r in result.records("answer", "A")], ["192.0.2.10"], result)

    def test_recursor_nxdomain_relayed(self):
        self.assertEqual(self.dig("missing.test").status, "NXDOMAIN")

    def test_recursor_timeout_is_servfail(self):
        start = time.monotonic()
        result = self.dig("slow.test")
        elapsed = time.monotonic() - start
        self.assertEqual(result.status, "SERVFAIL", result)
        self.assertIn("ra", result.flags, result)
        # Two recursors: the dead one fails at once, the stub after the timeout.
        self.assertLess(elapsed, RECURSOR_TIMEOUT_S + 1.5, result)

    def test_names_in_domain_not_forwarded(self):
        result = self.dig("nothing.service.consul")
        self.assertEqual(result.status, "NXDOMAIN", result)
        self.assertIn("ra", result.flags, result)

    def test_unknown_reverse_name_forwarded(self):
        # The stub has no PTR records: its NXDOMAIN comes back (the catalog has no such node).
        result = self.dig("9.9.9.10.in-addr.arpa", "PTR")
        self.assertEqual(result.status, "NXDOMAIN", result)
        self.assertEqual(result.authority, [], result)  # the stub's answer, not ours

    def test_host_name_address_is_cname_with_recursor_records(self):
        self.register({
            "Node": "ext-node", "Address": "10.5.0.1",
            "Service": {"ID": "ext1", "Service": "ext", "Address": "ext.example.test",
                        "Port": 443},
        })
        result = self.dig("ext.service.consul")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual(result.records("answer", "CNAME"),
                         [("ext.service.consul.", "CNAME", ["ext.example.test."])], result)
        self.assertEqual([r[2][0] for r in result.records("answer", "A")], ["192.0.2.20"], result)
        srv = self.dig("ext.service.consul", "SRV")
        self.assertEqual(srv.records("answer", "SRV")[0][2][3], "ext.example.test.", srv)
        self.assertEqual([r[2][0] for r in srv.records("additional", "A")], ["192.0.2.20"], srv)

    def test_prepared_query_host_name_address_has_recursor_records(self):
        # A prepared query is run apart from the resolver; its answer gets the host's records
        # from the recursors all the same.
        self.register({
            "Node": "pq-ext-node", "Address": "10.5.0.2",
            "Service": {"ID": "pqext1", "Service": "pqext", "Address": "ext.example.test",
                        "Port": 443},
        })
        made = self.agent.request("POST", "/v1/query",
                                  body={"Name": "pqext-query", "Service": {"Service": "pqext"}})
        self.assertEqual(made.status, 200, made.text)
        self.addCleanup(self.agent.request, "DELETE", "/v1/query/" + made.json()["ID"])
        result = self.dig("pqext-query.query.consul")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual(result.records("answer", "CNAME"),
                         [("pqext-query.query.consul.", "CNAME", ["ext.example.test."])], result)
        self.assertEqual([r[2][0] for r in result.records("answer", "A")], ["192.0.2.20"], result)

    def test_alt_domain(self):
        self.register({
            "Node": "alt-node", "Address": "10.6.0.1",
            "Service": {"ID": "alt1", "Service": "altweb", "Port": 8080},
        })
        result = self.dig("altweb.service.alt-test", "SRV")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual(result.records("answer", "SRV")[0][2][3], "alt-node.node.dc1.alt-test.",
                         result)
        self.assertEqual(self.dig("altweb.service.consul").status, "NOERROR")
        missing = self.dig("nope.service.alt-test")
        self.assertEqual(missing.status, "NXDOMAIN", missing)
        self.assertEqual(missing.authority[0][0], "alt-test.", missing)

    def test_node_meta_txt(self):
        name = f"{self.node_name}.node.consul"
        txt = self.dig(name, "TXT")
        texts = sorted(" ".join(r[2]) for r in txt.records("answer", "TXT"))
        self.assertEqual(texts, ['"plain text"', '"rack=r1"'], txt)
        a = self.dig(name, "A")
        self.assertEqual(len(a.records("answer", "A")), 1, a)
        self.assertEqual(len(a.records("additional", "TXT")), 2, a)

    def test_ns_names_the_server(self):
        result = self.dig("consul", "NS")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual([r[2][0] for r in result.records("answer", "NS")],
                         [f"{self.node_name}.node.dc1.consul."], result)
        self.assertEqual(len(result.records("additional", "A")), 1, result)

    def test_sighup_reloads_dns_config(self):
        self.register({
            "Node": "reload-node", "Address": "10.7.0.1",
            "Service": {"ID": "reload1", "Service": "reloadweb", "Port": 80},
        })
        self.assertEqual(self.dig("reloadweb.service.consul").answer[0][1], "A")
        settings = dict(self._settings)
        settings["dns_config"] = dict(settings["dns_config"], service_ttl={"*": "42s"})
        try:
            with open(self._config_file, "w", encoding="utf-8") as out:
                json.dump(settings, out)
            self.agent.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            ttl = None
            while time.monotonic() < deadline:
                result = self.dig("reloadweb.service.consul")
                line = [l for l in result.text.splitlines()
                        if l.startswith("reloadweb.service.consul.")]
                ttl = int(line[0].split()[1]) if line else None
                if ttl == 42:
                    break
                time.sleep(0.1)
            self.assertEqual(ttl, 42, self.agent.output_tail(20))
        finally:
            with open(self._config_file, "w", encoding="utf-8") as out:
                json.dump(self._settings, out)
            self.agent.proc.send_signal(signal.SIGHUP)


class ClientAddressesTest(AgentTestCase):
    """client_addr with two addresses: HTTP and DNS answer on both, on the same ports."""
    node_name = "two-address-agent"
    agent_args = ("-client", "127.0.0.1 127.0.0.2")

    def test_dns_and_http_on_both_addresses(self):
        for address in ("127.0.0.1", "127.0.0.2"):
            proc = subprocess.run(
                ["dig", f"@{address}", "-p", str(self.agent.dns_port),
                 f"{self.node_name}.node.consul", "A", "+short", "+time=2", "+tries=1"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10, check=False)
            self.assertEqual(proc.stdout.decode().split(), ["127.0.0.1"], address)
            with urllib.request.urlopen(
                    f"http://{address}:{self.agent.port}/v1/status/leader", timeout=10) as resp:
                self.assertEqual(resp.status, 200, address)


if __name__ == "__main__":
    unittest.main()
