"""python3-consul 0.7.1's Catalog API, unchanged, against Proconsul's /v1/catalog.

The client sends lower-case body keys ("node", "serviceid"), so this also proves the
case-insensitive decoding; it reads (index, data) from X-Consul-Index and treats `true` as
success.
"""

import sys
import time
import unittest

try:
    import consul
except ImportError as err:  # fail loudly: a missing client must never look like a pass
    sys.exit(f"FAIL: python3-consul is not installed ({err}); scripts/setup installs it "
             "(Debian package python3-consul)")

from proconsul import AgentTestCase, BackgroundCall


class PythonConsulCatalogTest(AgentTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = consul.Consul(host="127.0.0.1", port=cls.agent.port)
        cls.addClassCleanup(cls.c.http.session.close)

    def test_register_read_deregister(self):
        c = self.c
        self.assertEqual(c.catalog.datacenters(), ["dc1"])
        self.assertTrue(c.catalog.register(
            "compat-node", "10.0.0.7",
            service={"Service": "compat-web", "ID": "compat-web-1", "Tags": ["a", "b"],
                     "Port": 8080},
            check={"CheckID": "compat-check", "Name": "alive", "Status": "passing",
                   "ServiceID": "compat-web-1"}))
        self.addCleanup(c.catalog.deregister, "compat-node")

        index, services = c.catalog.services()
        self.assertGreater(int(index), 0)
        self.assertEqual(services["compat-web"], ["a", "b"])

        index, nodes = c.catalog.service("compat-web")
        self.assertEqual(len(nodes), 1)
        self.assertEqual(nodes[0]["Node"], "compat-node")
        self.assertEqual(nodes[0]["ServicePort"], 8080)
        _, tagged = c.catalog.service("compat-web", tag="b")
        self.assertEqual(len(tagged), 1)
        _, untagged = c.catalog.service("compat-web", tag="nope")
        self.assertEqual(untagged, [])

        _, all_nodes = c.catalog.nodes()
        self.assertIn("compat-node", [n["Node"] for n in all_nodes])
        _, node = c.catalog.node("compat-node")
        self.assertEqual(node["Node"]["Address"], "10.0.0.7")
        self.assertIn("compat-web-1", node["Services"])

        self.assertTrue(c.catalog.deregister("compat-node", service_id="compat-web-1"))
        _, nodes = c.catalog.service("compat-web")
        self.assertEqual(nodes, [])
        self.assertTrue(c.catalog.deregister("compat-node"))
        _, node = c.catalog.node("compat-node")
        self.assertIsNone(node)


    def test_blocking_catalog_service_wakes_on_its_own_service_only(self):
        c = self.c
        self.assertTrue(c.catalog.register(
            "compat-block-1", "10.0.1.1",
            service={"Service": "compat-block", "ID": "b1", "Port": 80}))
        self.addCleanup(c.catalog.deregister, "compat-block-1")
        index, nodes = c.catalog.service("compat-block")
        self.assertEqual(len(nodes), 1)
        watcher = consul.Consul(host="127.0.0.1", port=self.agent.port)
        self.addCleanup(watcher.http.session.close)
        call = BackgroundCall(watcher.catalog.service, "compat-block", index=index, wait="10s")
        # Another service changing does not answer the query.
        self.assertTrue(c.catalog.register(
            "compat-block-other", "10.0.1.2", service={"Service": "compat-other", "Port": 81}))
        self.addCleanup(c.catalog.deregister, "compat-block-other")
        time.sleep(0.5)
        self.assertFalse(call.done(), "woken by another service's change")
        self.assertTrue(c.catalog.register(
            "compat-block-2", "10.0.1.3",
            service={"Service": "compat-block", "ID": "b2", "Port": 80}))
        self.addCleanup(c.catalog.deregister, "compat-block-2")
        new_index, nodes = call.join(15.0)
        self.assertLess(call.elapsed, 5.0)
        self.assertGreater(int(new_index), int(index))
        self.assertEqual(sorted(n["ServiceID"] for n in nodes), ["b1", "b2"])


if __name__ == "__main__":
    unittest.main()
