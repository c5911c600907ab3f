"""Prepared queries on one -dev agent: /v1/query CRUD, execute and explain, templates, and
NAME.query.consul over DNS (dig).

Facts from Consul's agent/prepared_query_endpoint.go and agent/consul/prepared_query_endpoint.go:
POST /v1/query answers {"ID": ...}; GET /v1/query lists, GET /v1/query/<id> answers a
one-element list or 404 "Query not found"; PUT updates and DELETE deletes with an empty 200;
validation errors are RPC errors (500, "Invalid prepared query: ..."); execute answers Service,
Nodes (health entries), DNS, Datacenter and Failovers; explain answers {"Query": ...} with a
template rendered for the name asked. A query's DNS TTL is its DNS answers' TTL. NodeMeta and
ServiceMeta keep only instances whose every pair matches; Near (the query's, or ?near=, with
"_agent" for the agent's own node) sorts by network coordinate round trip.
"""

import shutil
import subprocess
import time
import unittest

from proconsul import AgentTestCase
from test_dns import DIG_TIMEOUT_S, DigResult


class PreparedQueryTest(AgentTestCase):
    node_name = "pq-agent"

    @classmethod
    def setUpClass(cls):
        if shutil.which("dig") is None:
            raise AssertionError("dig is missing: install Debian's dnsutils (scripts/setup)")
        super().setUpClass()

    def register(self, node, address, service, service_id, status, tags=(), node_meta=None,
                 service_meta=None):
        body = {"Node": node, "Address": address, "NodeMeta": node_meta or {},
                "Service": {"ID": service_id, "Service": service, "Tags": list(tags),
                            "Port": 8080, "Meta": service_meta or {}},
                "Checks": [{"CheckID": "svc:" + service_id, "Name": service_id,
                            "Status": status, "ServiceID": service_id}]}
        resp = self.agent.put("/v1/catalog/register", body=body)
        self.assertStatus(resp, 200)
        self.addCleanup(self.agent.put, "/v1/catalog/deregister", body={"Node": node})

    def create(self, body, status=200):
        resp = self.agent.request("POST", "/v1/query", body=body)
        self.assertStatus(resp, status)
        if status != 200:
            return resp
        qid = resp.json()["ID"]
        self.addCleanup(self.agent.delete, "/v1/query/" + qid)
        return qid

    def dig(self, name, rtype="A"):
        args = ["dig", "@127.0.0.1", "-p", str(self.agent.dns_port), name, rtype, "+time=3",
                "+tries=1", "+noall", "+answer", "+authority", "+additional", "+comments"]
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=DIG_TIMEOUT_S, check=False)
        return DigResult(proc.stdout.decode("utf-8", errors="replace"))

    def test_crud(self):
        qid = self.create({"Name": "crud-q", "Service": {"Service": "web", "Tags": ["v1"]},
                           "DNS": {"TTL": "7s"}})
        got = self.agent.get("/v1/query/" + qid)
        self.assertStatus(got, 200)
        [query] = got.json()
        self.assertEqual(query["Name"], "crud-q")
        self.assertEqual(query["Service"]["Tags"], ["v1"])
        self.assertEqual(query["DNS"]["TTL"], "7s")
        self.assertGreater(query["CreateIndex"], 0)
        listed = self.agent.get("/v1/query").json()
        self.assertIn(qid, [q["ID"] for q in listed])
        resp = self.agent.put("/v1/query/" + qid,
                              body={"Name": "crud-q", "Service": {"Service": "api"}})
        self.assertStatus(resp, 200)
        self.assertEqual(self.agent.get("/v1/query/" + qid).json()[0]["Service"]["Service"],
                         "api")
        self.assertStatus(self.agent.delete("/v1/query/" + qid), 200)
        missing = self.agent.get("/v1/query/" + qid)
        self.assertStatus(missing, 404)
        self.assertEqual(missing.text, "Query not found")

    def test_validation_texts(self):
        resp = self.create({"Name": "bad", "Service": {}}, status=500)
        self.assertEqual(resp.text, "Invalid prepared query: Must provide a Service name to query")
        resp = self.create({"Service": {"Service": "web"}}, status=500)
        self.assertEqual(resp.text, "Invalid prepared query: Must be bound to a session")
        self.create({"Name": "dup", "Service": {"Service": "web"}})
        resp = self.create({"Name": "DUP", "Service": {"Service": "web"}}, status=500)
        self.assertEqual(resp.text, "name 'DUP' aliases an existing query name")

    def test_execute_filters_and_explain(self):
        self.register("exec-n1", "10.1.0.1", "exec", "exec-1", "passing", tags=("v1",))
        self.register("exec-n2", "10.1.0.2", "exec", "exec-2", "critical", tags=("v1",))
        self.register("exec-n3", "10.1.0.3", "exec", "exec-3", "passing", tags=("v2",))
        self.create({"Name": "exec-q", "Service": {"Service": "exec", "Tags": ["!v2"]}})
        resp = self.agent.get("/v1/query/exec-q/execute")
        self.assertStatus(resp, 200)
        out = resp.json()
        self.assertEqual(out["Service"], "exec")
        self.assertEqual(out["Datacenter"], "dc1")
        self.assertEqual(out["Failovers"], 0)
        self.assertEqual([n["Node"]["Node"] for n in out["Nodes"]], ["exec-n1"])
        self.assertStatus(self.agent.get("/v1/query/nope/execute"), 404)
        # A template answers every name its Name prefixes, rendered.
        self.create({"Name": "tpl-", "Template": {"Type": "name_prefix_match",
                                                   "Regexp": "^tpl-(.+)$"},
                     "Service": {"Service": "${match(1)}"}})
        explained = self.agent.get("/v1/query/tpl-exec/explain")
        self.assertStatus(explained, 200)
        self.assertEqual(explained.json()["Query"]["Service"]["Service"], "exec")
        nodes = self.agent.get("/v1/query/tpl-exec/execute").json()["Nodes"]
        self.assertEqual(sorted(n["Node"]["Node"] for n in nodes), ["exec-n1", "exec-n3"])

    def test_execute_meta_filters_and_near(self):
        for i, (zone, version) in enumerate((("a", "2"), ("b", "2"), ("a", "1"), ("a", "2"))):
            self.register(f"meta-n{i}", f"10.4.0.{i}", "metasvc", f"meta-{i}", "passing",
                          node_meta={"zone": zone}, service_meta={"version": version})
        # Round trips from the agent's own node: n3 nearest, then n1, n2, n0 (seconds on one
        # axis, far beyond the agent's own coordinate near the origin).
        where = {"pq-agent": 0.0, "meta-n0": 0.3, "meta-n1": 0.1, "meta-n2": 0.2,
                 "meta-n3": 0.05}
        for node, x in where.items():
            coord = {"Vec": [x] + [0.0] * 7, "Error": 0.2, "Adjustment": 0.0, "Height": 1e-5}
            self.assertStatus(self.agent.put("/v1/coordinate/update",
                                             body={"Node": node, "Coord": coord}), 200)

        def coordinates_in():
            listed = self.agent.get("/v1/coordinate/nodes").json() or []
            return {c["Node"] for c in listed} >= set(where)
        deadline = time.monotonic() + 30
        while not coordinates_in() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertTrue(coordinates_in(), "coordinates not stored within 30 s")

        def nodes(path):
            resp = self.agent.get(path)
            self.assertStatus(resp, 200)
            return [n["Node"]["Node"] for n in resp.json()["Nodes"]]
        self.create({"Name": "meta-a", "Service": {"Service": "metasvc",
                                                   "NodeMeta": {"zone": "a"}}})
        self.assertEqual(sorted(nodes("/v1/query/meta-a/execute")),
                         ["meta-n0", "meta-n2", "meta-n3"])
        qid = self.create({"Name": "meta-v2", "Service": {
            "Service": "metasvc", "ServiceMeta": {"version": "2"}, "Near": "meta-n0"}})
        self.assertEqual(self.agent.get("/v1/query/" + qid).json()[0]["Service"]["Near"],
                         "meta-n0")
        # The query's Near: from n0 (x 0.3): n0, then n1 (0.2 away), then n3 (0.25 away).
        self.assertEqual(nodes("/v1/query/meta-v2/execute"), ["meta-n0", "meta-n1", "meta-n3"])
        # ?near=_agent overrides it: from this agent's node.
        self.assertEqual(nodes("/v1/query/meta-v2/execute?near=_agent"),
                         ["meta-n3", "meta-n1", "meta-n0"])
        self.create({"Name": "meta-none", "Service": {
            "Service": "metasvc", "NodeMeta": {"zone": "a"}, "ServiceMeta": {"version": "3"}}})
        self.assertEqual(nodes("/v1/query/meta-none/execute"), [])

    def test_dns(self):
        self.register("dnsq-n1", "10.2.0.1", "dnsq", "dnsq-1", "passing")
        self.register("dnsq-n2", "10.2.0.2", "dnsq", "dnsq-2", "critical")
        self.create({"Name": "dnsq-q", "Service": {"Service": "dnsq"}, "DNS": {"TTL": "9s"}})
        result = self.dig("dnsq-q.query.consul")
        self.assertEqual(result.status, "NOERROR", result)
        self.assertEqual([r[2][0] for r in result.records("answer", "A")], ["10.2.0.1"], result)
        self.assertEqual(result.answer[0][0], "dnsq-q.query.consul.", result)
        srv = self.dig("dnsq-q.query.dc1.consul", "SRV")
        self.assertEqual(srv.status, "NOERROR", srv)
        self.assertEqual(len(srv.records("answer", "SRV")), 1, srv)
        self.assertEqual(self.dig("missing-q.query.consul").status, "NXDOMAIN")

    def test_dns_ttl(self):
        self.register("ttl-n1", "10.3.0.1", "ttlsvc", "ttl-1", "passing")
        self.create({"Name": "ttl-q", "Service": {"Service": "ttlsvc"}, "DNS": {"TTL": "9s"}})
        proc = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.agent.dns_port),
                               "ttl-q.query.consul", "A", "+noall", "+answer", "+time=3"],
                              stdout=subprocess.PIPE, timeout=DIG_TIMEOUT_S, check=False)
        fields = proc.stdout.decode().split()
        self.assertGreaterEqual(len(fields), 5, fields)
        self.assertEqual(fields[1], "9", fields)


if __name__ == "__main__":
    unittest.main()
