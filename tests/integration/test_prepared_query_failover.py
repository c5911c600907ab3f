"""Prepared query failover between two datacenters on loopback (Consul's queryFailover), and
NAME.query names asked through a client agent or for the other datacenter (NAME.query.dc2).

A query whose service has only critical instances in dc1 answers, through a dc1 server, with
dc2's healthy instances (Datacenter "dc2", Failovers 1), over HTTP and as NAME.query.consul
over DNS; once dc1's instance is passing again, dc1 answers (Failovers 0). Failover by
NearestN (WAN RTT order) reaches dc2 too; a query with no failover stays empty.
"""

import json
import unittest

from test_federation import TwoDatacenters, dig


class PreparedQueryFailoverTest(TwoDatacenters):
    def register(self, server, node, address, status, service="pqf"):
        body = {"Node": node, "Address": address,
                "Service": {"ID": service + "-1", "Service": service, "Port": 8080},
                "Checks": [{"CheckID": service + "-check", "Name": service, "Status": status,
                            "ServiceID": service + "-1"}]}
        resp = server.put("/v1/catalog/register", json.dumps(body).encode())
        self.assertEqual(resp.status, 200, resp.text)

    def create(self, body):
        resp = self.s1.request("POST", "/v1/query", body=body)
        self.assertEqual(resp.status, 200, resp.text)
        return resp.json()["ID"]

    def execute(self, name):
        resp = self.s1.get(f"/v1/query/{name}/execute")
        self.assertEqual(resp.status, 200, resp.text)
        return resp.json()

    def test_fails_over_to_dc2_and_comes_back(self):
        self.register(self.s1, "pqf-dc1", "10.10.0.1", "critical")
        self.register(self.s2, "pqf-dc2", "10.20.0.1", "passing")
        self.create({"Name": "pqf-listed", "Service": {"Service": "pqf",
                                                       "Failover": {"Datacenters": ["dc2"]}}})
        self.create({"Name": "pqf-nearest", "Service": {"Service": "pqf",
                                                        "Failover": {"NearestN": 1}}})
        self.create({"Name": "pqf-none", "Service": {"Service": "pqf"}})
        for name in ("pqf-listed", "pqf-nearest"):
            out = self.execute(name)
            self.assertEqual((out["Datacenter"], out["Failovers"]), ("dc2", 1), out)
            self.assertEqual([n["Node"]["Node"] for n in out["Nodes"]], ["pqf-dc2"], out)
        none = self.execute("pqf-none")
        self.assertEqual((none["Nodes"], none["Failovers"]), ([], 0), none)
        status, answers = dig(self.dns[0], "pqf-listed.query.consul")
        self.assertEqual(status, "NOERROR", answers)
        self.assertEqual([a.split()[-1] for a in answers], ["10.20.0.1"], answers)
        # dc1 recovers: preferred again.
        self.register(self.s1, "pqf-dc1", "10.10.0.1", "passing")
        self.wait_for(lambda: self.execute("pqf-listed")["Datacenter"] == "dc1", "dc1 again")
        out = self.execute("pqf-listed")
        self.assertEqual(out["Failovers"], 0, out)
        self.assertEqual([n["Node"]["Node"] for n in out["Nodes"]], ["pqf-dc1"], out)
        status, answers = dig(self.dns[0], "pqf-listed.query.consul")
        self.assertEqual([a.split()[-1] for a in answers], ["10.10.0.1"], answers)

    def test_dns_through_a_client_agent_and_for_another_datacenter(self):
        self.register(self.s1, "pqd-dc1", "10.11.0.1", "passing", service="pqd")
        self.register(self.s2, "pqd-dc2", "10.21.0.1", "passing", service="pqd")
        self.create({"Name": "pqd-q", "Service": {"Service": "pqd"}})
        resp = self.s2.request("POST", "/v1/query",
                               body={"Name": "pqd-dc2-q", "Service": {"Service": "pqd"}})
        self.assertEqual(resp.status, 200, resp.text)
        # dc1's client agent asks its server, which runs the query.
        status, answers = dig(self.dns[2], "pqd-q.query.consul")
        self.assertEqual(status, "NOERROR", answers)
        self.assertIn("10.11.0.1", [a.split()[-1] for a in answers], answers)
        # A query of dc2 asked of dc1's server: dc2 runs it.
        status, answers = dig(self.dns[0], "pqd-dc2-q.query.dc2.consul")
        self.assertEqual(status, "NOERROR", answers)
        self.assertIn("10.21.0.1", [a.split()[-1] for a in answers], answers)


if __name__ == "__main__":
    unittest.main()
