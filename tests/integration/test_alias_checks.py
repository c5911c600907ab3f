"""Alias checks (Consul's AliasService / AliasNode, agent/checks/alias.go) on a -dev agent.

- Without AliasNode the alias follows this agent's own state: the aliased service's checks
  and the node's own; any critical → critical "Aliased check \"<name>\" failing: <output>",
  warnings → warning, otherwise passing "All checks passing.", or "No checks found." for a
  service without checks; a service that is not registered → critical
  "Service <id> could not be found on node <node>" (node empty for a local alias).
- With AliasNode it follows the catalog's rows of that node instead.
- Interval and TTL are refused: "Interval cannot be set for Alias checks", "TTL must be not
  be set for Alias checks". The catalog's Type is "alias".
"""

import unittest

from test_agent_checks import NODE, CheckTestCase


class AliasCheckTest(CheckTestCase):

    def register_alias(self, name, **alias):
        self.register({"Name": name, "Port": 1, "Check": alias})
        return f"service:{name}"

    def test_local_alias_follows_the_aliased_service(self):
        target = self.register({"Name": self.name("-db"), "Check": {"TTL": "60s"}})
        tcid = f"service:{target}"
        cid = self.register_alias(self.name(), AliasService=target)
        self.wait_check(cid, "critical", output=f"Aliased check \"Service '{target}' check\" "
                                                f"failing: ")
        self.put_ok(f"/v1/agent/check/pass/{tcid}?note=fine")
        self.wait_check(cid, "passing", output="All checks passing.")
        self.put_ok(f"/v1/agent/check/warn/{tcid}?note=slow")
        self.wait_check(cid, "warning",
                        output=f"Aliased check \"Service '{target}' check\" failing: slow")
        self.assertEqual(self.catalog_check(self.name(), cid)["Type"], "alias")
        # Deregistering the aliased service turns the alias critical.
        self.put_ok(f"/v1/agent/service/deregister/{target}")
        self.wait_check(cid, "critical",
                        output=f"Service {target} could not be found on node ")

    def test_alias_of_a_service_without_checks(self):
        target = self.register({"Name": self.name("-plain"), "Port": 2})
        cid = self.register_alias(self.name(), AliasService=target)
        self.wait_check(cid, "passing", output="No checks found.")

    def test_alias_node_follows_the_catalog(self):
        target = self.register({"Name": self.name("-db"), "Check": {"TTL": "60s"}})
        tcid = f"service:{target}"
        cid = self.register_alias(self.name(), AliasNode=NODE, AliasService=target)
        self.wait_check(cid, "critical", timeout_s=10.0)
        self.put_ok(f"/v1/agent/check/pass/{tcid}")
        self.wait_check(cid, "passing", timeout_s=10.0, output="All checks passing.")
        missing = self.register_alias(self.name("-missing"), AliasNode=NODE,
                                      AliasService="nope")
        self.wait_check(missing, "critical", timeout_s=10.0,
                        output=f"Service nope could not be found on node {NODE}")

    def test_interval_and_ttl_are_refused(self):
        for extra, text in (({"Interval": "10s", "HTTP": "http://127.0.0.1:1/"},
                             "Interval cannot be set for Alias checks"),
                            ({"TTL": "10s"}, "TTL must be not be set for Alias checks")):
            body = dict({"Name": self.name(), "AliasService": "x"}, **extra)
            resp = self.agent.put("/v1/agent/check/register", body=body)
            self.assertStatus(resp, 400)
            self.assertIn(text, resp.text)


if __name__ == "__main__":
    unittest.main()
