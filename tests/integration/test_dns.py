"""The DNS interface, queried with dig (Debian's dnsutils; scripts/setup installs it).

Facts from Consul's agent/dns.go: NAME.service.DOMAIN answers the A records of the healthy
instances only (an instance with a critical check is left out); _NAME._tcp.service.DOMAIN
answers SRV records whose targets' addresses come in the additional section;
TAG.NAME.service.DOMAIN selects by tag; NODE.node.DOMAIN answers the node's address; an
unknown service is NXDOMAIN with the SOA in the authority section; a name outside the domain
is REFUSED (no recursors). Over UDP without EDNS0 an answer holds at most
dns_config.udp_answer_limit records (default 3), with TC only when enable_truncate is set;
the same query over TCP, or over UDP with a larger EDNS0 payload, is complete.
dns_config.service_ttl gives per-service TTLs with "*" as the default.
"""

import json
import os
import tempfile

import re
import shutil
import subprocess
import unittest

from proconsul import AgentTestCase

DIG_TIMEOUT_S = 10
BIG_INSTANCES = 40


class DigResult:
    """dig's output with +noall +answer +authority +additional +comments, parsed."""

    def __init__(self, text):
        self.text = text
        self.status = None
        self.flags = set()
        self.answer = []
        self.authority = []
        self.additional = []
        section = None
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                section = None
                continue
            if "->>HEADER<<-" in line:
                match = re.search(r"status: ([A-Z]+)", line)
                if match:
                    self.status = match.group(1)
                continue
            if line.startswith(";; flags:"):
                self.flags = set(line[len(";; flags:"):].split(";")[0].split())
                continue
            match = re.match(r";; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line)
            if match:
                section = match.group(1).lower()
                continue
            if line.startswith(";"):
                if "PSEUDOSECTION" in line:
                    section = None
                continue
            if section is None:
                continue
            fields = line.split()
            if len(fields) < 4:
                continue
            # name ttl class type rdata...
            getattr(self, section).append(
                (fields[0].lower(), fields[3].upper(), [f.lower() for f in fields[4:]]))

    def records(self, section, rtype):
        return [r for r in getattr(self, section) if r[1] == rtype]

    def __repr__(self):
        return f"<dig {self.status} {sorted(self.flags)}\n{self.text}>"


class DnsTest(AgentTestCase):
    node_name = "dns-agent"

    @classmethod
    def setUpClass(cls):
        if shutil.which("dig") is None:
            raise AssertionError("dig is missing: install Debian's dnsutils (scripts/setup)")
        super().setUpClass()
        if cls.agent.dns_port is None:
            raise AssertionError("the agent printed no DNS port in its banner\n"
                                 f"{cls.agent.output_tail()}")

    def register(self, body):
        resp = self.agent.put("/v1/catalog/register", body=body)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(), True)
        self.addCleanup(self.agent.put, "/v1/catalog/deregister", body={"Node": body["Node"]})

    def register_instance(self, node, address, service, service_id, status, tags=(), port=80):
        self.register({
            "Node": node, "Address": address,
            "Service": {"ID": service_id, "Service": service, "Tags": list(tags),
                        "Port": port},
            "Checks": [{"CheckID": "svc:" + service_id, "Name": service_id + " alive",
                        "Status": status, "ServiceID": service_id}],
        })

    def dig(self, name, rtype="A", *options):
        args = ["dig", "@127.0.0.1", "-p", str(self.agent.dns_port), name, rtype,
                "+time=2", "+tries=1", "+noall", "+answer", "+authority", "+additional",
                "+comments"] + list(options)
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=DIG_TIMEOUT_S, check=False)
        text = proc.stdout.decode("utf-8", errors="replace")
        if proc.returncode != 0:
            state = "alive" if self.agent.alive() else "DEAD"
            self.fail(f"{' '.join(args)} exited {proc.returncode} (agent {state}):\n{text}\n"
                      f"{self.agent.output_tail(40)}")
        result = DigResult(text)
        if result.status is None:
            self.fail(f"{' '.join(args)}: no header in dig's output:\n{text}")
        return result

    def addresses(self, result):
        return sorted(r[2][0] for r in result.records("answer", "A"))

    def healthy_and_critical(self, service):
        self.register_instance(service + "-n1", "10.0.0.1", service, service + "-1", "passing",
                               tags=("primary",), port=8080)
        self.register_instance(service + "-n2", "10.0.0.2", service, service + "-2", "critical",
                               tags=("secondary",), port=8081)

    def test_service_a_only_healthy(self):
        self.healthy_and_critical("web")
        result = self.dig("web.service.consul")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertIn("aa", result.flags, result)
        self.assertEqual(self.addresses(result), ["10.0.0.1"], result)
        self.assertEqual([r[0] for r in result.answer], ["web.service.consul."], result)

    def test_service_srv_with_additional(self):
        self.healthy_and_critical("api")
        result = self.dig("_api._tcp.service.consul", "SRV")
        self.assertEqual(result.status, "NOERROR", result)
        srv = result.records("answer", "SRV")
        self.assertEqual(len(srv), 1, result)
        priority, weight, port, target = srv[0][2][:4]
        self.assertEqual(port, "8080", result)
        self.assertTrue(target.endswith(".consul."), result)
        extra = [r for r in result.records("additional", "A") if r[0] == target]
        self.assertEqual([r[2][0] for r in extra], ["10.0.0.1"], result)

    def test_tag_lookup(self):
        self.healthy_and_critical("tagged")
        result = self.dig("primary.tagged.service.consul")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual(self.addresses(result), ["10.0.0.1"], result)
        # The only instance tagged secondary is critical: nothing healthy, NXDOMAIN as Consul.
        result = self.dig("secondary.tagged.service.consul")
        self.assertEqual(result.status, "NXDOMAIN", result)
        self.assertEqual(result.answer, [], result)

    def test_node_lookup(self):
        self.register({"Node": "dns-node-x", "Address": "10.9.8.7"})
        result = self.dig("dns-node-x.node.consul")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual(self.addresses(result), ["10.9.8.7"], result)
        # The agent's own node is there too.
        result = self.dig(f"{self.node_name}.node.consul")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual(len(result.records("answer", "A")), 1, result)

    def test_unknown_service_nxdomain_with_soa(self):
        result = self.dig("no-such-service.service.consul")
        self.assertEqual(result.status, "NXDOMAIN", result)
        self.assertEqual(result.answer, [], result)
        soa = result.records("authority", "SOA")
        self.assertEqual(len(soa), 1, result)
        self.assertEqual(soa[0][0], "consul.", result)

    def test_tcp_query(self):
        self.healthy_and_critical("overtcp")
        result = self.dig("overtcp.service.consul", "A", "+tcp")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual(self.addresses(result), ["10.0.0.1"], result)
        srv = self.dig("_overtcp._tcp.service.consul", "SRV", "+tcp")
        self.assertEqual(len(srv.records("answer", "SRV")), 1, srv)

    def test_big_service_truncated_over_udp_complete_over_tcp(self):
        expected = []
        for i in range(BIG_INSTANCES):
            address = f"10.1.0.{i + 1}"
            expected.append(address)
            self.register_instance(f"big-n{i}", address, "big", f"big-{i}", "passing")
        expected.sort(key=lambda a: tuple(int(x) for x in a.split(".")))

        # Consul's default udp_answer_limit (3) without enable_truncate: no TC.
        udp = self.dig("big.service.consul", "A", "+noedns", "+ignore")
        self.assertEqual(udp.status, "NOERROR", udp)
        self.assertNotIn("tc", udp.flags, udp)
        self.assertEqual(len(udp.records("answer", "A")), 3, udp)

        tcp = self.dig("big.service.consul", "A", "+tcp")
        self.assertEqual(tcp.status, "NOERROR", tcp)
        self.assertNotIn("tc", tcp.flags, tcp)
        got = sorted((r[2][0] for r in tcp.records("answer", "A")),
                     key=lambda a: tuple(int(x) for x in a.split(".")))
        self.assertEqual(got, expected, tcp)

        # With EDNS0 and a 4096-byte payload, 40 A records fit in one UDP answer.
        edns = self.dig("big.service.consul", "A", "+bufsize=4096", "+ignore")
        self.assertNotIn("tc", edns.flags, edns)
        self.assertEqual(len(edns.records("answer", "A")), BIG_INSTANCES, edns)

    def test_answers_shuffled_per_query(self):
        # Consul shuffles instances per query; cached answers keep several orders.
        for i in range(5):
            self.register_instance(f"shuf-n{i}", f"10.8.0.{i + 1}", "shuf", f"shuf-{i}",
                                   "passing")
        orders = set()
        for _ in range(40):
            result = self.dig("shuf.service.consul", "A", "+tcp")
            orders.add(tuple(r[2][0] for r in result.records("answer", "A")))
        self.assertGreater(len(orders), 3, orders)
        self.assertTrue(all(len(o) == 5 for o in orders), orders)

    def test_outside_domain_refused(self):
        result = self.dig("example.com")
        self.assertEqual(result.status, "REFUSED", result)
        self.assertEqual(result.answer, [], result)


class DnsConfigTest(DnsTest):
    """An agent started with a dns_config file (service_ttl, udp_answer_limit)."""
    node_name = "dns-config-agent"
    _config_dir = tempfile.mkdtemp(prefix="pc-dns-config-")
    _config_file = os.path.join(_config_dir, "dns.json")
    with open(_config_file, "w", encoding="utf-8") as out:
        json.dump({"dns_config": {"service_ttl": {"*": "5s", "ttlweb": "30s"},
                                  "node_ttl": "10s", "udp_answer_limit": 2,
                                  "enable_truncate": True}}, out)
    agent_args = ("-config-file", _config_file)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls._config_dir, ignore_errors=True)

    def test_big_service_truncated_over_udp_complete_over_tcp(self):
        for i in range(5):
            self.register_instance(f"cfg-n{i}", f"10.2.0.{i + 1}", "cfgbig", f"cfgbig-{i}",
                                   "passing")
        udp = self.dig("cfgbig.service.consul", "A", "+noedns", "+ignore")
        self.assertEqual(udp.status, "NOERROR", udp)
        self.assertIn("tc", udp.flags, udp)
        self.assertEqual(len(udp.records("answer", "A")), 2, udp)
        tcp = self.dig("cfgbig.service.consul", "A", "+tcp")
        self.assertNotIn("tc", tcp.flags, tcp)
        self.assertEqual(len(tcp.records("answer", "A")), 5, tcp)

    def test_service_and_node_ttls(self):
        self.register_instance("ttl-n1", "10.3.0.1", "ttlweb", "ttlweb-1", "passing")
        self.register_instance("ttl-n2", "10.3.0.2", "ttldb", "ttldb-1", "passing")
        web = self.dig("ttlweb.service.consul")
        self.assertEqual([r[1] for r in web.answer], ["A"], web)
        self.assertEqual(self.ttls(web), [30], web)
        self.assertEqual(self.ttls(self.dig("ttldb.service.consul")), [5])
        self.assertEqual(self.ttls(self.dig("ttl-n1.node.consul")), [10])

    @staticmethod
    def ttls(result):
        ttls = []
        for line in result.text.splitlines():
            fields = line.split()
            if len(fields) >= 5 and not line.startswith(";") and fields[3] == "A":
                ttls.append(int(fields[1]))
        return ttls


if __name__ == "__main__":
    unittest.main()
