"""/v1/health: node/:node, checks/:service, service/:service, state/:state (read-only).

Facts from Consul's agent/health_endpoint.go and agent/consul/state/catalog.go: every list is
`[]` when empty, never null; ServiceTags is never null; a check's Definition is an object
whose fields are all omitempty. /health/service entries carry the node, the NodeService and
the node's own checks plus that instance's checks; ?passing keeps only entries whose every
check is passing (warning does not count); ?tag and ?node-meta select as in the catalog;
?filter selects over Node.* and Service.*. /health/state takes any|passing|warning|critical
(maintenance is a valid name no check ever has); Consul does not validate the state, so an
unknown one is `[]`, and an empty one is 400 "Missing check state". A blocking
/health/service query wakes on its own service's check changes only.

?filter= also selects among the checks of /health/node, /health/checks and /health/state
(Consul's HealthCheck selectors: Node, CheckID, Name, Status, Notes, Output, ServiceID,
ServiceName, ServiceTags, Type); a bad one is 400 with go-bexpr's text. A service's
TaggedAddresses are Consul's map of {"Address", "Port"} objects, omitted when empty.
"""

import time
import unittest

from proconsul import AgentTestCase, BackgroundCall, query_string

CHECK_FIELDS = {"Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID",
                "ServiceName", "ServiceTags", "Type", "Definition", "CreateIndex",
                "ModifyIndex"}


class HealthTest(AgentTestCase):

    def register(self, body):
        resp = self.agent.put("/v1/catalog/register", body=body)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(), True)

    def name(self, suffix=""):
        return self._testMethodName.replace("_", "-") + suffix

    def register_instance(self, node, service, service_id, status, tags=("v1",),
                          node_meta=None, node_check_status=None):
        checks = [{"CheckID": "svc:" + service_id, "Name": service_id + " alive",
                   "Status": status, "ServiceID": service_id, "Notes": "n",
                   "Output": "out"}]
        if node_check_status is not None:
            checks.append({"CheckID": "node-alive", "Name": "node alive",
                           "Status": node_check_status})
        self.addCleanup(self.agent.put, "/v1/catalog/deregister", body={"Node": node})
        self.register({
            "Node": node, "Address": "10.0.0.1", "NodeMeta": node_meta or {"rack": "r1"},
            "Service": {"ID": service_id, "Service": service, "Tags": list(tags),
                        "Port": 80, "Meta": {"v": "1"}},
            "Checks": checks,
        })

    def get(self, path, params=None, status=200):
        resp = self.agent.get(path + query_string(params))
        self.assertStatus(resp, status)
        return resp

    def test_node_checks(self):
        node = self.name()
        svc = self.name("-svc")
        self.register_instance(node, svc, "s1", "warning", node_check_status="passing")
        resp = self.get(f"/v1/health/node/{node}")
        self.assertGreater(resp.index, 0)
        checks = resp.json()
        self.assertEqual([c["CheckID"] for c in checks], ["node-alive", "svc:s1"])
        for c in checks:
            self.assertEqual(set(c), CHECK_FIELDS)
            self.assertEqual(c["Definition"], {})
        # A node check has no service tags ([] not null); a service check gets its service's.
        self.assertEqual(checks[0]["ServiceTags"], [])
        self.assertEqual(checks[1]["ServiceTags"], ["v1"])
        svc_check = checks[1]
        self.assertEqual(svc_check["Node"], node)
        self.assertEqual(svc_check["Status"], "warning")
        self.assertEqual(svc_check["ServiceID"], "s1")
        self.assertEqual(svc_check["ServiceName"], svc)
        self.assertEqual(svc_check["Notes"], "n")
        self.assertEqual(svc_check["Output"], "out")
        self.assertEqual(checks[0]["ServiceID"], "")
        self.assertJSON(self.get("/v1/health/node/no-such-node"), [])

    def test_service_checks(self):
        svc = self.name("-svc")
        self.register_instance(self.name("-a"), svc, "s1", "passing", node_check_status="passing")
        self.register_instance(self.name("-b"), svc, "s2", "critical")
        resp = self.get(f"/v1/health/checks/{svc}")
        self.assertGreater(resp.index, 0)
        checks = resp.json()
        self.assertEqual([(c["Node"], c["CheckID"], c["Status"]) for c in checks],
                         [(self.name("-a"), "svc:s1", "passing"),
                          (self.name("-b"), "svc:s2", "critical")])
        self.assertJSON(self.get("/v1/health/checks/no-such-service"), [])

    def test_service_entries(self):
        svc = self.name("-svc")
        self.register_instance(self.name("-a"), svc, "s1", "passing", tags=("v1", "primary"),
                               node_check_status="passing")
        self.register_instance(self.name("-b"), svc, "s2", "warning", node_meta={"rack": "r2"})
        self.register_instance(self.name("-c"), svc, "s3", "critical")
        resp = self.get(f"/v1/health/service/{svc}")
        self.assertGreater(resp.index, 0)
        entries = resp.json()
        self.assertEqual([e["Service"]["ID"] for e in entries], ["s1", "s2", "s3"])
        first = entries[0]
        self.assertEqual(set(first), {"Node", "Service", "Checks"})
        self.assertEqual(set(first["Node"]), {"ID", "Node", "Address", "Datacenter",
                                              "TaggedAddresses", "Meta", "CreateIndex",
                                              "ModifyIndex"})
        self.assertEqual(first["Node"]["Node"], self.name("-a"))
        self.assertEqual(first["Node"]["Meta"], {"rack": "r1"})
        # TaggedAddresses is omitempty in Consul's NodeService: absent when there are none.
        self.assertEqual(set(first["Service"]), {"ID", "Service", "Tags", "Address", "Meta",
                                                 "Port", "Weights", "EnableTagOverride",
                                                 "CreateIndex", "ModifyIndex"})
        self.assertEqual(first["Service"]["Service"], svc)
        self.assertEqual(first["Service"]["Tags"], ["v1", "primary"])
        self.assertEqual(first["Service"]["Port"], 80)
        self.assertEqual([c["CheckID"] for c in first["Checks"]], ["node-alive", "svc:s1"])
        for c in first["Checks"]:
            self.assertEqual(set(c), CHECK_FIELDS)

        def ids(params):
            suffix = params if isinstance(params, str) else query_string(params)
            resp = self.agent.get(f"/v1/health/service/{svc}" + suffix)
            self.assertStatus(resp, 200)
            return [e["Service"]["ID"] for e in resp.json()]

        self.assertEqual(ids({"passing": None}), ["s1"])
        self.assertEqual(ids({"passing": "true"}), ["s1"])
        self.assertEqual(ids({"passing": "false"}), ["s1", "s2", "s3"])
        self.assertEqual(ids({"tag": "PRIMARY"}), ["s1"])
        self.assertEqual(ids("?tag=v1&tag=primary"), ["s1"])
        self.assertEqual(ids({"tag": "nope"}), [])
        self.assertEqual(ids({"node-meta": "rack:r2"}), ["s2"])
        self.assertEqual(ids({"filter": 'Service.ID == "s3"'}), ["s3"])
        self.assertEqual(ids({"filter": 'Node.Meta.rack == "r1"'}), ["s1", "s3"])
        self.assertEqual(ids({"filter": '"primary" in Service.Tags'}), ["s1"])
        self.assertEqual(ids({"filter": "Service.Port == 80 and Service.Weights.Passing == 1"}),
                         ["s1", "s2", "s3"])
        resp = self.get(f"/v1/health/service/{svc}", {"filter": "Service.Nope == 1"},
                        status=400)
        self.assertIn('Selector "Service.Nope" is not valid', resp.text)
        resp = self.get(f"/v1/health/service/{svc}", {"passing": "maybe"}, status=400)
        self.assertEqual(resp.text, "Invalid value for ?passing")
        self.assertJSON(self.get("/v1/health/service/no-such-service"), [])

    def test_check_lists_node_meta(self):
        # Consul takes ?node-meta on /health/checks/:service and /health/state/:state, not on
        # /health/node/:node.
        svc = self.name("-svc")
        self.register_instance(self.name("-a"), svc, "s1", "passing", node_meta={"rack": "r1"})
        self.register_instance(self.name("-b"), svc, "s2", "critical", node_meta={"rack": "r2"})
        checks = self.get(f"/v1/health/checks/{svc}", {"node-meta": "rack:r2"}).json()
        self.assertEqual([c["CheckID"] for c in checks], ["svc:s2"])
        self.assertJSON(self.get(f"/v1/health/checks/{svc}", {"node-meta": "rack:r9"}), [])
        critical = self.get("/v1/health/state/critical", {"node-meta": "rack:r2"}).json()
        self.assertIn((self.name("-b"), "svc:s2"), [(c["Node"], c["CheckID"]) for c in critical])
        self.assertNotIn(self.name("-a"), [c["Node"] for c in critical])
        node = self.get(f"/v1/health/node/{self.name('-a')}", {"node-meta": "rack:r9"}).json()
        self.assertEqual([c["CheckID"] for c in node], ["svc:s1"])

    def test_state(self):
        node = self.name()
        svc = self.name("-svc")
        self.register_instance(node, svc, "s1", "warning", node_check_status="critical")

        def mine(state):
            resp = self.get(f"/v1/health/state/{state}")
            self.assertGreater(resp.index, 0)
            return [c["CheckID"] for c in resp.json() if c["Node"] == node]

        self.assertEqual(mine("any"), ["node-alive", "svc:s1"])
        self.assertEqual(mine("warning"), ["svc:s1"])
        self.assertEqual(mine("critical"), ["node-alive"])
        self.assertEqual(mine("passing"), [])
        self.assertJSON(self.get("/v1/health/state/maintenance"), [])
        self.assertJSON(self.get("/v1/health/state/bogus"), [])
        resp = self.get("/v1/health/state/", status=400)
        self.assertEqual(resp.text, "Missing check state")
        for path in ("/v1/health/node/", "/v1/health/checks/", "/v1/health/service/"):
            self.assertStatus(self.agent.get(path), 400)
        self.assertStatus(self.agent.put("/v1/health/state/any"), 405)

    def test_blocking_service_wakes_only_on_its_service(self):
        svc = self.name("-svc")
        other = self.name("-other")
        self.register_instance(self.name("-a"), svc, "s1", "passing")
        self.register_instance(self.name("-b"), other, "o1", "passing")
        index = self.get(f"/v1/health/service/{svc}").index
        call = BackgroundCall(self.agent.get, f"/v1/health/service/{svc}?index={index}&wait=3s")
        # The other service's check going critical must not wake it.
        self.register({"Node": self.name("-b"), "Address": "10.0.0.1", "SkipNodeUpdate": True,
                       "Check": {"CheckID": "svc:o1", "Name": "o1 alive", "Status": "critical",
                                 "ServiceID": "o1"}})
        time.sleep(1.0)
        self.assertFalse(call.done(), "woke on a change to another service")
        self.register({"Node": self.name("-a"), "Address": "10.0.0.1", "SkipNodeUpdate": True,
                       "Check": {"CheckID": "svc:s1", "Name": "s1 alive", "Status": "critical",
                                 "ServiceID": "s1"}})
        resp = call.join(10.0)
        self.assertStatus(resp, 200)
        self.assertLess(call.elapsed, 2.9)
        self.assertGreater(resp.index, index)
        self.assertEqual(resp.json()[0]["Checks"][0]["Status"], "critical")
        self.assertJSON(self.get(f"/v1/health/service/{svc}", {"passing": None}), [])

    def test_check_lists_filter(self):
        node = self.name()
        svc = self.name("-svc")
        self.register_instance(node, svc, "s1", "warning", node_check_status="passing")

        def check_ids(path, expr):
            resp = self.get(path, {"filter": expr})
            self.assertGreater(resp.index, 0)
            return [c["CheckID"] for c in resp.json() if c["Node"] == node]

        self.assertEqual(check_ids(f"/v1/health/node/{node}", "Status == warning"), ["svc:s1"])
        self.assertEqual(check_ids(f"/v1/health/node/{node}", "ServiceID == \"\""),
                         ["node-alive"])
        self.assertEqual(check_ids(f"/v1/health/node/{node}", '"v1" in ServiceTags'),
                         ["svc:s1"])
        self.assertEqual(check_ids(f"/v1/health/checks/{svc}", "Status == passing"), [])
        self.assertEqual(check_ids(f"/v1/health/checks/{svc}", "Output == out and Notes == n"),
                         ["svc:s1"])
        self.assertEqual(check_ids("/v1/health/state/any", f"Node == \"{node}\""),
                         ["node-alive", "svc:s1"])
        self.assertEqual(check_ids("/v1/health/state/any",
                                   f"ServiceName == \"{svc}\" and Name matches alive"),
                         ["svc:s1"])
        self.assertEqual(check_ids("/v1/health/state/passing", "ServiceTags is empty"),
                         ["node-alive"])
        for path in (f"/v1/health/node/{node}", f"/v1/health/checks/{svc}",
                     "/v1/health/state/any"):
            resp = self.get(path, {"filter": "Definition.HTTP == x"}, status=400)
            self.assertEqual(resp.text, "Failed to create boolean expression evaluator: "
                                        'Selector "Definition" is not valid')
            resp = self.get(path, {"filter": "Status =="}, status=400)
            self.assertIn("Failed to create boolean expression evaluator", resp.text)
            self.assertStatus(self.agent.get(path + query_string({"filter": ""})), 200)

    def test_service_tagged_addresses(self):
        node = self.name()
        svc = self.name("-svc")
        self.addCleanup(self.agent.put, "/v1/catalog/deregister", body={"Node": node})
        self.register({
            "Node": node, "Address": "10.0.0.1",
            "Service": {"ID": "s1", "Service": svc, "Port": 80,
                        "TaggedAddresses": {"lan": {"address": "10.0.0.5", "port": 80},
                                            "wan": {"Address": "198.18.0.5", "Port": 8080}}},
        })
        entries = self.get(f"/v1/health/service/{svc}").json()
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["Service"]["TaggedAddresses"],
                         {"lan": {"Address": "10.0.0.5", "Port": 80},
                          "wan": {"Address": "198.18.0.5", "Port": 8080}})

        def count(expr):
            return len(self.get(f"/v1/health/service/{svc}", {"filter": expr}).json())

        self.assertEqual(count("Service.TaggedAddresses.wan.Port == 8080"), 1)
        self.assertEqual(count('Service.TaggedAddresses.lan.Address == "10.0.0.9"'), 0)
        self.assertEqual(count('"lan" in Service.TaggedAddresses'), 1)
        self.assertEqual(count("Service.TaggedAddresses is empty"), 0)
        self.assertEqual(count('Service.TaggedAddresses.dmz.Address != "x"'), 1)
        resp = self.get(f"/v1/health/service/{svc}",
                        {"filter": "Service.TaggedAddresses.lan.Nope == 1"}, status=400)
        self.assertIn('Selector "Service.TaggedAddresses.lan.Nope" is not valid', resp.text)


if __name__ == "__main__":
    unittest.main()
