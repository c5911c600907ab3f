"""python3-consul 0.7.1's Catalog API, unchanged, against Proconsul's /v1/catalog.

The client sends lower-case body keys ("node", "serviceid"), so this also proves the
case-insensitive decoding; it reads (index, data) from X-Consul-Index and treats `true` as
success.
"""

import sys
import unittest

try:
    import consul
except ImportError as err:  # fail loudly: a missing client must never look like a pass
    sys.exit(f"FAIL: python3-consul is not installed ({err}); scripts/setup installs it "
             "(Debian package python3-consul)")

from proconsul import AgentTestCase


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


if __name__ == "__main__":
    unittest.main()
