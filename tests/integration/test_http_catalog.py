"""/v1/catalog: register, deregister, services, service/:name, nodes, node/:node, datacenters.

Facts from Consul's agent/catalog_endpoint.go (HTTP) and agent/consul/catalog_endpoint.go
(server): writes answer `true`; the server's validation errors ("Must provide node", "Must
provide address if SkipNodeUpdate is not set", "Must provide service name with ID") come back
as 500 with the text as body; a bad body is 400 "Request decode failed: ..."; a missing
service or node name in the path is 400; an unknown node is 200 `null`; empty lists are `[]`
and an empty service map `{}`; ServiceTags is never null. A ?filter= that does not compile is
400 with the message. Deregistering a node removes its services and checks.

A service's TaggedAddresses are Consul's map[string]ServiceAddress: {"lan": {"Address": ...,
"Port": ...}} in and out (omitted when empty: omitempty on NodeService.TaggedAddresses and
ServiceNode.ServiceTaggedAddresses); a node's stay plain strings. /v1/catalog/node-services
(Consul 1.7+) is {"Node": ..., "Services": [NodeService, ...]}; for an unknown node
{"Node": null, "Services": []} (Consul leaves that list null; we answer [] as for every empty
list). ?filter= works on /catalog/nodes (Node selectors), /catalog/node and
/catalog/node-services (NodeService selectors, the node itself is never filtered out) and
/catalog/services (ServiceNode selectors, per instance), as in Consul.
"""

import time
import unittest

from proconsul import AgentTestCase, BackgroundCall, query_string


class CatalogTest(AgentTestCase):

    def register(self, body, status=200):
        resp = self.agent.put("/v1/catalog/register", body=body)
        self.assertStatus(resp, status)
        if status == 200:
            self.assertEqual(resp.json(), True)
        return resp

    def deregister(self, body, status=200):
        resp = self.agent.put("/v1/catalog/deregister", body=body)
        self.assertStatus(resp, status)
        return resp

    def my_node(self, suffix=""):
        return self._testMethodName.replace("_", "-") + suffix

    def register_web(self, node, service_id="web-1", name=None, tags=("primary", "v1"),
                     meta=None, node_meta=None):
        name = name or self._testMethodName.replace("_", "-") + "-web"
        body = {
            "Node": node,
            "Address": "10.1.2.3",
            "NodeMeta": node_meta or {"rack": "r1"},
            "TaggedAddresses": {"lan": "10.1.2.3"},
            "Service": {
                "ID": service_id,
                "Service": name,
                "Tags": list(tags),
                "Address": "10.1.2.4",
                "Meta": meta or {"version": "1.2"},
                "Port": 8080,
                "Weights": {"Passing": 3, "Warning": 1},
            },
            "Check": {
                "CheckID": "web-check",
                "Name": "web alive",
                "Status": "passing",
                "ServiceID": service_id,
            },
        }
        self.addCleanup(self.agent.put, "/v1/catalog/deregister", body={"Node": node})
        self.register(body)
        return name

    def service_nodes(self, name, params=None):
        resp = self.agent.get(f"/v1/catalog/service/{name}" + query_string(params))
        self.assertStatus(resp, 200)
        return resp

    def test_register_and_read_back(self):
        node = self.my_node()
        name = self.register_web(node)
        resp = self.service_nodes(name)
        nodes = resp.json()
        self.assertEqual(len(nodes), 1)
        sn = nodes[0]
        for field in ("ID", "Node", "Address", "Datacenter", "TaggedAddresses", "NodeMeta",
                      "ServiceID", "ServiceName", "ServiceTags", "ServiceAddress",
                      "ServiceMeta", "ServicePort", "ServiceWeights",
                      "ServiceEnableTagOverride", "ServiceKind", "CreateIndex",
                      "ModifyIndex"):
            self.assertIn(field, sn)
        # omitempty in Consul's ServiceNode: absent when the service has none.
        self.assertNotIn("ServiceTaggedAddresses", sn)
        self.assertEqual(sn["Node"], node)
        self.assertEqual(sn["Address"], "10.1.2.3")
        self.assertEqual(sn["Datacenter"], "dc1")
        self.assertEqual(sn["TaggedAddresses"], {"lan": "10.1.2.3"})
        self.assertEqual(sn["NodeMeta"], {"rack": "r1"})
        self.assertEqual(sn["ServiceID"], "web-1")
        self.assertEqual(sn["ServiceName"], name)
        self.assertEqual(sn["ServiceTags"], ["primary", "v1"])
        self.assertEqual(sn["ServiceAddress"], "10.1.2.4")
        self.assertEqual(sn["ServiceMeta"], {"version": "1.2"})
        self.assertEqual(sn["ServicePort"], 8080)
        self.assertEqual(sn["ServiceWeights"], {"Passing": 3, "Warning": 1})
        self.assertEqual(sn["ServiceEnableTagOverride"], False)
        self.assertEqual(sn["ServiceKind"], "")
        self.assertGreater(sn["CreateIndex"], 0)
        self.assertGreaterEqual(resp.index, sn["ModifyIndex"])

        services = self.agent.get("/v1/catalog/services")
        self.assertStatus(services, 200)
        self.assertEqual(services.json()[name], ["primary", "v1"])
        self.assertGreater(services.index, 0)

        nodes_resp = self.agent.get("/v1/catalog/nodes")
        self.assertStatus(nodes_resp, 200)
        mine = [n for n in nodes_resp.json() if n["Node"] == node]
        self.assertEqual(len(mine), 1)
        self.assertEqual(set(mine[0]), {"ID", "Node", "Address", "Datacenter",
                                        "TaggedAddresses", "Meta", "CreateIndex",
                                        "ModifyIndex"})
        self.assertEqual(mine[0]["Meta"], {"rack": "r1"})

        node_resp = self.agent.get(f"/v1/catalog/node/{node}")
        self.assertStatus(node_resp, 200)
        body = node_resp.json()
        self.assertEqual(body["Node"]["Node"], node)
        self.assertEqual(body["Node"]["Address"], "10.1.2.3")
        svc = body["Services"]["web-1"]
        self.assertEqual(svc["ID"], "web-1")
        self.assertEqual(svc["Service"], name)
        self.assertEqual(svc["Tags"], ["primary", "v1"])
        self.assertEqual(svc["Port"], 8080)
        self.assertEqual(svc["Meta"], {"version": "1.2"})
        self.assertEqual(svc["Weights"], {"Passing": 3, "Warning": 1})

    def test_tag_node_meta_and_filter(self):
        node_a, node_b = self.my_node("-a"), self.my_node("-b")
        name = self.register_web(node_a, tags=("primary", "v1"), node_meta={"rack": "r1"})
        self.register_web(node_b, service_id="web-2", tags=("secondary", "v1"),
                          node_meta={"rack": "r2"}, meta={"version": "2.0"})

        def nodes_of(params):
            return sorted(sn["Node"] for sn in self.service_nodes(name, params).json())

        self.assertEqual(nodes_of(None), [node_a, node_b])
        self.assertEqual(nodes_of({"tag": "primary"}), [node_a])
        self.assertEqual(nodes_of({"tag": "v1"}), [node_a, node_b])
        # Repeated ?tag: every tag must be present.
        resp = self.agent.get(f"/v1/catalog/service/{name}?tag=v1&tag=secondary")
        self.assertEqual(sorted(sn["Node"] for sn in resp.json()), [node_b])
        resp = self.agent.get(f"/v1/catalog/service/{name}?tag=primary&tag=secondary")
        self.assertEqual(resp.json(), [])
        self.assertEqual(nodes_of({"node-meta": "rack:r2"}), [node_b])
        self.assertEqual(nodes_of({"node-meta": "rack:r9"}), [])
        self.assertEqual(nodes_of({"filter": 'ServiceMeta.version == "2.0"'}), [node_b])
        self.assertEqual(nodes_of({"filter": '"primary" in ServiceTags'}), [node_a])
        self.assertEqual(nodes_of({"filter": "ServicePort == 8080"}), [node_a, node_b])
        self.assertEqual(nodes_of({"filter": ""}), [node_a, node_b])
        bad = self.agent.get(f"/v1/catalog/service/{name}" +
                             query_string({"filter": "ServiceNope == 1"}))
        self.assertStatus(bad, 400)
        self.assertIn("ServiceNope", bad.text)
        bad = self.agent.get(f"/v1/catalog/service/{name}" + query_string({"filter": "=="}))
        self.assertStatus(bad, 400)

        nodes = self.agent.get("/v1/catalog/nodes" + query_string({"node-meta": "rack:r2"}))
        self.assertEqual([n["Node"] for n in nodes.json()], [node_b])
        services = self.agent.get("/v1/catalog/services" +
                                  query_string({"node-meta": "rack:r2"}))
        self.assertEqual(services.json(), {name: ["secondary", "v1"]})

    def test_deregister_cascades(self):
        node = self.my_node()
        name = self.register_web(node)
        # The check goes, the service stays.
        self.deregister({"Node": node, "CheckID": "web-check"})
        self.assertEqual(len(self.service_nodes(name).json()), 1)
        # The service goes, the node stays.
        before = self.service_nodes(name).index
        self.deregister({"Node": node, "ServiceID": "web-1"})
        resp = self.service_nodes(name)
        self.assertEqual(resp.json(), [])
        self.assertGreater(resp.index, before)
        node_body = self.agent.get(f"/v1/catalog/node/{node}").json()
        self.assertEqual(node_body["Services"], {})
        # The node goes with everything on it.
        self.register_web(node)
        self.deregister({"Node": node})
        self.assertEqual(self.service_nodes(name).json(), [])
        self.assertNotIn(name, self.agent.get("/v1/catalog/services").json())
        self.assertNotIn(node, [n["Node"] for n in self.agent.get("/v1/catalog/nodes").json()])
        resp = self.agent.get(f"/v1/catalog/node/{node}")
        self.assertStatus(resp, 200)
        self.assertIsNone(resp.json())

    def test_blocking_service_wakes_only_on_its_service(self):
        node = self.my_node()
        name = self.register_web(node)
        other = self.register_web(self.my_node("-other"), name=name + "-other")
        index = self.service_nodes(name).index
        path = f"/v1/catalog/service/{name}?index={index}&wait=3s"
        call = BackgroundCall(self.agent.get, path)
        # A change to another service must not wake it.
        self.register({"Node": self.my_node("-other"), "Address": "10.9.9.9",
                       "Service": {"ID": "web-1", "Service": other, "Port": 1}})
        time.sleep(1.0)
        self.assertFalse(call.done(), "woke on a change to another service")
        self.register({"Node": node, "Address": "10.1.2.3",
                       "Service": {"ID": "web-1", "Service": name, "Port": 9090}})
        resp = call.join(10.0)
        self.assertStatus(resp, 200)
        self.assertLess(call.elapsed, 2.9)
        self.assertGreater(resp.index, index)
        self.assertEqual(resp.json()[0]["ServicePort"], 9090)

    def test_index_never_goes_backwards(self):
        node = self.my_node()
        name = self.register_web(node)
        last = 0
        for step in range(3):
            for path in ("/v1/catalog/services", f"/v1/catalog/service/{name}",
                         "/v1/catalog/nodes", f"/v1/catalog/node/{node}"):
                resp = self.agent.get(path)
                self.assertStatus(resp, 200)
                self.assertGreater(resp.index, 0)
            idx = self.service_nodes(name).index
            self.assertGreaterEqual(idx, last)
            last = idx
            if step == 0:
                self.deregister({"Node": node, "ServiceID": "web-1"})
            else:
                self.register_web(node)

    def test_empty_results(self):
        resp = self.agent.get("/v1/catalog/service/no-such-service")
        self.assertJSON(resp, [])
        resp = self.agent.get("/v1/catalog/node/no-such-node")
        self.assertJSON(resp, None)
        resp = self.agent.get("/v1/catalog/services" + query_string({"node-meta": "x:none"}))
        self.assertJSON(resp, {})
        resp = self.agent.get("/v1/catalog/nodes" + query_string({"node-meta": "x:none"}))
        self.assertJSON(resp, [])
        self.assertJSON(self.agent.get("/v1/catalog/datacenters"), ["dc1"])

    def test_errors(self):
        resp = self.register({"Address": "10.0.0.1"}, status=500)
        self.assertEqual(resp.text, "Must provide node")
        resp = self.register({"Node": "n"}, status=500)
        self.assertEqual(resp.text, "Must provide address if SkipNodeUpdate is not set")
        resp = self.register({"Node": "n", "Address": "1.2.3.4", "ID": "nope"}, status=500)
        self.assertTrue(resp.text.startswith("Bad node ID: "), resp.text)
        resp = self.register({"Node": "n", "Address": "1.2.3.4",
                              "Service": {"ID": "x"}}, status=500)
        self.assertEqual(resp.text, "Must provide service name with ID")
        resp = self.register({"Node": "n", "Address": "1.2.3.4",
                              "Service": {"Service": "x", "Address": "0.0.0.0"}}, status=500)
        self.assertEqual(resp.text, "Invalid service address")
        resp = self.register({"Node": "never-registered", "SkipNodeUpdate": True,
                              "Service": {"Service": "x"}}, status=500)
        self.assertIn("Missing node registration", resp.text)
        resp = self.register({"Node": 5}, status=400)
        self.assertTrue(resp.text.startswith("Request decode failed: "), resp.text)
        resp = self.register("{", status=400)
        resp = self.deregister({}, status=500)
        self.assertEqual(resp.text, "Must provide node")
        resp = self.agent.get("/v1/catalog/service/")
        self.assertStatus(resp, 400)
        self.assertEqual(resp.text, "Missing service name")
        resp = self.agent.get("/v1/catalog/node/")
        self.assertStatus(resp, 400)
        self.assertEqual(resp.text, "Missing node name")
        self.assertStatus(self.agent.request("POST", "/v1/catalog/register", body={}), 405)
        self.assertStatus(self.agent.put("/v1/catalog/services"), 405)

    def register_tagged(self, node, name, tagged, service_id="web-1", node_meta=None):
        self.addCleanup(self.agent.put, "/v1/catalog/deregister", body={"Node": node})
        self.register({
            "Node": node, "Address": "10.1.2.3", "NodeMeta": node_meta or {"rack": "r1"},
            "TaggedAddresses": {"lan": "10.1.2.3", "wan": "198.18.2.3"},
            "Service": {"ID": service_id, "Service": name, "Port": 8080,
                        "TaggedAddresses": tagged},
        })

    def test_service_tagged_addresses(self):
        node = self.my_node()
        name = node + "-web"
        # Consul's documentation writes the fields in lower case; Go matches them anyway.
        self.register_tagged(node, name, {"lan": {"address": "10.1.2.4", "port": 8080},
                                          "wan": {"Address": "198.18.0.1", "Port": 80}})
        want = {"lan": {"Address": "10.1.2.4", "Port": 8080},
                "wan": {"Address": "198.18.0.1", "Port": 80}}
        sn = self.service_nodes(name).json()[0]
        self.assertEqual(sn["ServiceTaggedAddresses"], want)
        self.assertEqual(sn["TaggedAddresses"], {"lan": "10.1.2.3", "wan": "198.18.2.3"})
        node_body = self.agent.get(f"/v1/catalog/node/{node}").json()
        self.assertEqual(node_body["Services"]["web-1"]["TaggedAddresses"], want)
        self.assertEqual(node_body["Node"]["TaggedAddresses"],
                         {"lan": "10.1.2.3", "wan": "198.18.2.3"})
        listed = self.agent.get(f"/v1/catalog/node-services/{node}").json()
        self.assertEqual(listed["Services"][0]["TaggedAddresses"], want)

        def count(expr):
            return len(self.service_nodes(name, {"filter": expr}).json())

        self.assertEqual(count("ServiceTaggedAddresses.lan.Port == 8080"), 1)
        self.assertEqual(count('ServiceTaggedAddresses.wan.Address == "198.18.0.1"'), 1)
        self.assertEqual(count("ServiceTaggedAddresses.wan.Port == 8080"), 0)
        self.assertEqual(count('"lan" in ServiceTaggedAddresses'), 1)
        self.assertEqual(count("ServiceTaggedAddresses is not empty"), 1)
        self.assertEqual(count('ServiceTaggedAddresses.dmz.Address == "x"'), 0)
        for expr in ("ServiceTaggedAddresses.lan == x", "ServiceTaggedAddresses.lan.Foo == 1",
                     "ServiceTaggedAddresses.lan.Port == abc"):
            resp = self.agent.get(f"/v1/catalog/service/{name}" +
                                  query_string({"filter": expr}))
            self.assertStatus(resp, 400)

        # Re-registering the same addresses moves nothing; a new port is a change.
        before = self.service_nodes(name).json()[0]["ModifyIndex"]
        self.register_tagged(node, name, want)
        self.assertEqual(self.service_nodes(name).json()[0]["ModifyIndex"], before)
        self.register_tagged(node, name, {"lan": {"Address": "10.1.2.4", "Port": 9090}})
        sn = self.service_nodes(name).json()[0]
        self.assertGreater(sn["ModifyIndex"], before)
        self.assertEqual(sn["ServiceTaggedAddresses"],
                         {"lan": {"Address": "10.1.2.4", "Port": 9090}})

    def test_service_tagged_addresses_of_the_wrong_shape(self):
        def reg(tagged):
            return self.agent.put("/v1/catalog/register", body={
                "Node": "bad-tagged", "Address": "10.0.0.1",
                "Service": {"Service": "x", "TaggedAddresses": tagged}})

        resp = reg({"lan": "10.0.0.1"})
        self.assertStatus(resp, 400)
        self.assertEqual(resp.text, "Request decode failed: json: cannot unmarshal string "
                                    "into Go struct field TaggedAddresses of type "
                                    "structs.ServiceAddress")
        resp = reg({"lan": {"Address": "10.0.0.1", "Port": "80"}})
        self.assertStatus(resp, 400)
        self.assertTrue(resp.text.startswith("Request decode failed: "), resp.text)
        self.assertStatus(reg(["10.0.0.1"]), 400)
        self.assertEqual(self.agent.get("/v1/catalog/node/bad-tagged").json(), None)

    def test_node_services_list(self):
        node = self.my_node()
        name = self.register_web(node)
        self.register({"Node": node, "Address": "10.1.2.3", "SkipNodeUpdate": True,
                       "Service": {"ID": "db-1", "Service": name + "-db", "Port": 5432}})
        resp = self.agent.get(f"/v1/catalog/node-services/{node}")
        self.assertStatus(resp, 200)
        self.assertGreater(resp.index, 0)
        body = resp.json()
        self.assertEqual(set(body), {"Node", "Services"})
        self.assertEqual(set(body["Node"]), {"ID", "Node", "Address", "Datacenter",
                                             "TaggedAddresses", "Meta", "CreateIndex",
                                             "ModifyIndex"})
        self.assertEqual(body["Node"]["Node"], node)
        self.assertEqual(body["Node"]["Meta"], {"rack": "r1"})
        self.assertEqual([s["ID"] for s in body["Services"]], ["db-1", "web-1"])
        web = body["Services"][1]
        self.assertEqual(set(web), {"ID", "Service", "Tags", "Address", "Meta", "Port",
                                    "Weights", "EnableTagOverride", "CreateIndex",
                                    "ModifyIndex"})
        self.assertEqual(web["Tags"], ["primary", "v1"])
        self.assertEqual(web["Weights"], {"Passing": 3, "Warning": 1})
        self.assertEqual(body["Services"][0]["Tags"], [])  # never null

        def ids(expr):
            resp = self.agent.get(f"/v1/catalog/node-services/{node}" +
                                  query_string({"filter": expr}))
            self.assertStatus(resp, 200)
            self.assertEqual(resp.json()["Node"]["Node"], node)
            return [s["ID"] for s in resp.json()["Services"]]

        self.assertEqual(ids("Port == 5432"), ["db-1"])
        self.assertEqual(ids('"primary" in Tags and Meta.version == "1.2"'), ["web-1"])
        self.assertEqual(ids("Weights.Passing == 3"), ["web-1"])
        self.assertEqual(ids("Service == nothing"), [])
        self.assertEqual(ids(""), ["db-1", "web-1"])
        resp = self.agent.get(f"/v1/catalog/node-services/{node}" +
                              query_string({"filter": "ServiceName == x"}))
        self.assertStatus(resp, 400)
        self.assertIn('Selector "ServiceName" is not valid', resp.text)

        resp = self.agent.get("/v1/catalog/node-services/no-such-node")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(), {"Node": None, "Services": []})
        resp = self.agent.get("/v1/catalog/node-services/")
        self.assertStatus(resp, 400)
        self.assertEqual(resp.text, "Missing node name")
        self.assertStatus(self.agent.put(f"/v1/catalog/node-services/{node}"), 405)

        # Blocking: a change to one of the node's services wakes it.
        index = self.agent.get(f"/v1/catalog/node-services/{node}").index
        call = BackgroundCall(self.agent.get,
                              f"/v1/catalog/node-services/{node}?index={index}&wait=5s")
        time.sleep(0.2)
        self.register({"Node": node, "Address": "10.1.2.3", "SkipNodeUpdate": True,
                       "Service": {"ID": "db-1", "Service": name + "-db", "Port": 5433}})
        resp = call.join(10.0)
        self.assertStatus(resp, 200)
        self.assertLess(call.elapsed, 4.9)
        self.assertGreater(resp.index, index)
        self.assertEqual(resp.json()["Services"][0]["Port"], 5433)

    def test_filter_on_nodes_node_and_services(self):
        node_a, node_b = self.my_node("-a"), self.my_node("-b")
        name = self.register_web(node_a, node_meta={"rack": "r1"})
        self.register_web(node_b, service_id="web-2", tags=("secondary",),
                          node_meta={"rack": "r2"})

        def nodes(expr):
            resp = self.agent.get("/v1/catalog/nodes" + query_string({"filter": expr}))
            self.assertStatus(resp, 200)
            self.assertGreater(resp.index, 0)
            return sorted(n["Node"] for n in resp.json() if n["Node"] in (node_a, node_b))

        self.assertEqual(nodes("Meta.rack == r2"), [node_b])
        self.assertEqual(nodes(f'Node == "{node_a}"'), [node_a])
        self.assertEqual(nodes('"lan" in TaggedAddresses and Address == "10.1.2.3"'),
                         [node_a, node_b])
        self.assertEqual(nodes("Datacenter == dc1 and Meta is not empty"), [node_a, node_b])
        self.assertEqual(nodes("Meta.rack == r9"), [])
        # ?node-meta and ?filter together: both must hold.
        resp = self.agent.get("/v1/catalog/nodes" + query_string(
            {"node-meta": "rack:r1", "filter": f'Node == "{node_b}"'}))
        self.assertEqual(resp.json(), [])

        resp = self.agent.get(f"/v1/catalog/node/{node_a}" + query_string({"filter": "Port == 1"}))
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json()["Node"]["Node"], node_a)
        self.assertEqual(resp.json()["Services"], {})
        resp = self.agent.get(f"/v1/catalog/node/{node_a}" +
                              query_string({"filter": "Port == 8080"}))
        self.assertEqual(list(resp.json()["Services"]), ["web-1"])

        resp = self.agent.get("/v1/catalog/services" + query_string(
            {"filter": f'ServiceName == "{name}" and NodeMeta.rack == r2'}))
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(), {name: ["secondary"]})
        resp = self.agent.get("/v1/catalog/services" +
                              query_string({"filter": 'ServiceName == "none"'}))
        self.assertJSON(resp, {})

        for path in ("/v1/catalog/nodes", f"/v1/catalog/node/{node_a}",
                     f"/v1/catalog/node-services/{node_a}", "/v1/catalog/services"):
            resp = self.agent.get(path + query_string({"filter": "Nope == 1"}))
            self.assertStatus(resp, 400)
            self.assertEqual(resp.text, "Failed to create boolean expression evaluator: "
                                        'Selector "Nope" is not valid')
            resp = self.agent.get(path + query_string({"filter": "("}))
            self.assertStatus(resp, 400)


if __name__ == "__main__":
    unittest.main()
