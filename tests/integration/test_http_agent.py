"""/v1/agent: members, self, services, service/:id, checks, service and check registration,
TTL updates, deregistration and maintenance mode, at the HTTP level.

Facts from Consul's agent/agent_endpoint.go, agent/acl.go (vet*), agent/agent.go
(addServiceInternal, EnableServiceMaintenance, EnableNodeMaintenance), agent/structs/
check_type.go (CheckType.Validate), api/agent.go (AgentService, AgentWeights) and the api-docs
for /agent, /agent/service and /agent/check:

- Writes answer 200 with an empty body (the handler returns nil), and only after the local
  change has been synced to the catalog (syncChanges runs inside the handler), so a read of
  /v1/catalog or /v1/health right after the write sees it.
- /v1/agent/services maps ID -> AgentService {ID, Service, Tags, Meta, Port, Address,
  Weights, EnableTagOverride, Datacenter}: Tags [] and Meta {} when empty, Weights default
  {"Passing": 1, "Warning": 1}; omitempty fields (Kind, TaggedAddresses, CreateIndex,
  ModifyIndex, ContentHash, Proxy, Connect) are absent for a plain service with a non-IP
  address. GET /v1/agent/service/:id adds ContentHash (also sent as X-Consul-ContentHash),
  blocks on ?hash=<h>&wait= until the service changes, and answers 404 "unknown service ID:
  <id>" for an unknown ID.
- A service's checks get IDs "service:<id>" (one check) or "service:<id>:<n>" (several, the
  singular Check first), the default name "Service '<name>' check", status critical unless
  Status is given. Validation texts (all 400): "Missing service name", "Invalid service
  address", "Invalid check: TTL must be > 0 for TTL checks", "Invalid check: Interval must
  be > 0 for Script, HTTP, or TCP checks", "Invalid check: Interval and TTL cannot both be
  specified", "Status for checks must 'passing', 'warning', 'critical'", "Invalid Weights:
  Passing must be greater than 0" (structs.ValidateWeights), "Request decode failed: ...".
  Check register: "Missing check name", "Bad check status", the same "Invalid check: ..."
  texts, 404 `ServiceID "<id>" does not exist`; the check ID defaults to the name.
- ?replace-existing-checks (bare or =true) drops the service's checks that the new
  definition does not list; without it they are kept.
- TTL updates: pass/warn/fail take ?note= as the Output; PUT /check/update takes
  {"Status", "Output"} and refuses other statuses with 400 "Invalid check status: '<s>'";
  Output longer than the 4 KiB check buffer becomes "<first 4096 bytes> ... (captured 4096
  of <n> bytes)"; a check that is not a TTL check is 500 `CheckID "<id>" does not have
  associated TTL`, one that does not exist 404 `Unknown check ID "<id>". Ensure that the
  check ID is passed, not the check name.` (agent/acl.go vetCheckUpdate). Unknown service or check on deregister is 404 (`Unknown
  service ID "<id>". Ensure that the service ID is passed, not the service name.` / `Unknown
  check ID "<id>". Ensure that the check ID is passed, not the check name.`).
- Maintenance: check IDs "_node_maintenance" ("Node Maintenance Mode") and
  "_service_maintenance:<id>" ("Service Maintenance Mode"), status critical, Notes = reason or
  Consul's default text; enabling twice keeps the first check; ?enable is parsed with Go's
  strconv.ParseBool: "Missing value for enable", `Invalid value for enable: "<raw>"` (400).
- Methods: register, check update and maintenance are PUT only (405 otherwise); deregister
  and pass/warn/fail also take GET, as pre-1.0 clients such as python-consul 0.7.1 send it.
- /v1/agent/members lists serf.Member objects; ?wan=1 lists the WAN pool, where a server is
  named "<node>.<dc>" on the serf WAN port (8302 by default).
"""

import re
import time
import unittest

from proconsul import AgentTestCase, BackgroundCall, query_string

NODE = "test-node"
CHECK_FIELDS = {"Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID",
                "ServiceName", "ServiceTags", "Type", "Definition", "CreateIndex",
                "ModifyIndex"}
MEMBER_FIELDS = {"Name", "Addr", "Port", "Tags", "Status", "ProtocolMin", "ProtocolMax",
                 "ProtocolCur", "DelegateMin", "DelegateMax", "DelegateCur"}
DEFAULT_NODE_MAINT_NOTES = ("Maintenance mode is enabled for this node, but no reason was "
                            "provided. This is a default message.")
DEFAULT_SERVICE_MAINT_NOTES = ("Maintenance mode is enabled for this service, but no reason "
                               "was provided. This is a default message.")
UNKNOWN_CHECK = ('Unknown check ID "no-such-check". Ensure that the check ID is passed, not the '
                 'check name.')
HEX_RE = re.compile(r"^[0-9a-f]+$")


def agent_service(sid, name, tags=(), meta=None, port=0, address="", passing=1, warning=1,
                  eto=False):
    """An AgentService exactly as /v1/agent/services renders it."""
    return {"ID": sid, "Service": name, "Tags": list(tags), "Meta": dict(meta or {}),
            "Port": port, "Address": address,
            "Weights": {"Passing": passing, "Warning": warning},
            "EnableTagOverride": eto, "Datacenter": "dc1"}


def check_view(check):
    """The fields of a HealthCheck whose values the agent API defines."""
    return {k: check[k] for k in ("Node", "CheckID", "Name", "Status", "Notes", "Output",
                                  "ServiceID", "ServiceName", "ServiceTags", "Type")}


class AgentAPITestCase(AgentTestCase):
    """Helpers shared by the classes below; every test names its services after itself."""

    def name(self, suffix=""):
        return self._testMethodName.replace("_", "-") + suffix

    def register(self, body, params=None, status=200):
        resp = self.agent.put("/v1/agent/service/register" + query_string(params), body=body)
        self.assertStatus(resp, status, f"registering {body!r}")
        if status == 200:
            self.assertEqual(resp.body, b"", "a successful write has an empty body")
            sid = body.get("ID") or body.get("id") or body.get("Name") or body.get("name")
            self.addCleanup(self.agent.put, f"/v1/agent/service/deregister/{sid}")
        return resp

    def register_check(self, body, status=200):
        resp = self.agent.put("/v1/agent/check/register", body=body)
        self.assertStatus(resp, status, f"registering {body!r}")
        if status == 200:
            self.assertEqual(resp.body, b"")
            cid = body.get("ID") or body.get("Name")
            self.addCleanup(self.agent.put, f"/v1/agent/check/deregister/{cid}")
        return resp

    def ok_write(self, method, path, body=None):
        resp = self.agent.request(method, path, body=body)
        self.assertStatus(resp, 200, f"{method} {path}")
        self.assertEqual(resp.body, b"", f"{method} {path}: a write has an empty body")
        return resp

    def services(self):
        resp = self.agent.get("/v1/agent/services")
        self.assertStatus(resp, 200)
        self.assertIn("application/json", resp.header("Content-Type", ""))
        return resp.json()

    def checks(self):
        resp = self.agent.get("/v1/agent/checks")
        self.assertStatus(resp, 200)
        self.assertIn("application/json", resp.header("Content-Type", ""))
        body = resp.json()
        self.assertIsInstance(body, dict)
        for cid, check in body.items():
            self.assertEqual(set(check), CHECK_FIELDS, f"check {cid}")
            self.assertEqual(check["CheckID"], cid)
            self.assertIsInstance(check["Definition"], dict)
        return body

    def catalog_service(self, name, params=None):
        resp = self.agent.get(f"/v1/catalog/service/{name}" + query_string(params))
        self.assertStatus(resp, 200)
        return resp.json()

    def health_service(self, name, params=None):
        resp = self.agent.get(f"/v1/health/service/{name}" + query_string(params))
        self.assertStatus(resp, 200)
        return resp.json()

    def health_checks(self, name):
        resp = self.agent.get(f"/v1/health/checks/{name}")
        self.assertStatus(resp, 200)
        return {c["CheckID"]: c for c in resp.json()}

    def passing_ids(self, name):
        return [e["Service"]["ID"] for e in self.health_service(name, {"passing": None})]

    def node_checks(self):
        resp = self.agent.get(f"/v1/health/node/{NODE}")
        self.assertStatus(resp, 200)
        return {c["CheckID"]: c for c in resp.json()}


class EmptyAgentTest(AgentAPITestCase):

    def test_fresh_agent_has_no_local_services_or_checks(self):
        # serfHealth lives in the catalog only; the agent's own lists start empty.
        self.assertEqual(self.services(), {})
        self.assertEqual(self.checks(), {})
        self.assertIn("serfHealth", self.node_checks())


class AgentMembersTest(AgentAPITestCase):

    def test_members(self):
        resp = self.agent.get("/v1/agent/members")
        self.assertStatus(resp, 200)
        members = resp.json()
        self.assertIsInstance(members, list)
        self.assertEqual(len(members), 1, members)
        m = members[0]
        self.assertEqual(set(m), MEMBER_FIELDS)
        self.assertEqual(m["Name"], NODE)
        self.assertEqual(m["Addr"], "127.0.0.1")
        # The LAN gossip port: the harness asks for an ephemeral one (-serf-lan-port 0).
        self.assertGreater(m["Port"], 0)
        self.assertEqual(m["Status"], 1)  # serf.StatusAlive
        self.assertEqual(m["Tags"]["role"], "consul")
        self.assertEqual(m["Tags"]["dc"], "dc1")
        for field in ("ProtocolMin", "ProtocolMax", "ProtocolCur", "DelegateMin",
                      "DelegateMax", "DelegateCur"):
            self.assertIsInstance(m[field], int, field)
        # /v1/agent/self's Member is the same LAN member.
        self.assertEqual(self.agent.get("/v1/agent/self").json()["Member"], m)

    def test_wan_members(self):
        resp = self.agent.get("/v1/agent/members?wan=1")
        self.assertStatus(resp, 200)
        members = resp.json()
        self.assertEqual(len(members), 1, members)
        m = members[0]
        self.assertEqual(set(m), MEMBER_FIELDS)
        self.assertEqual(m["Name"], f"{NODE}.dc1")
        self.assertEqual(m["Port"], self.agent.serf_wan_port, "a WAN member is on the WAN port")
        self.assertEqual(m["Tags"]["dc"], "dc1")
        self.assertEqual(m["Status"], 1)

    def test_self_counts_local_services_and_checks(self):
        base = self.agent.get("/v1/agent/self").json()["Stats"]["agent"]
        self.register({"Name": self.name(), "Check": {"TTL": "30s"}})
        stats = self.agent.get("/v1/agent/self").json()["Stats"]["agent"]
        self.assertEqual(int(stats["services"]), int(base["services"]) + 1)
        self.assertEqual(int(stats["checks"]), int(base["checks"]) + 1)
        self.assertEqual(int(stats["check_ttls"]), int(base["check_ttls"]) + 1)


class AgentServiceTest(AgentAPITestCase):

    def test_minimal_service(self):
        name = self.name()
        self.register({"Name": name})
        self.assertEqual(self.services()[name], agent_service(name, name))
        self.assertEqual(self.checks(), {})

        # The write answered after the catalog had it.
        nodes = self.catalog_service(name)
        self.assertEqual(len(nodes), 1, nodes)
        sn = nodes[0]
        self.assertEqual(sn["Node"], NODE)
        self.assertEqual(sn["Address"], "127.0.0.1")
        self.assertEqual(sn["ServiceID"], name)
        self.assertEqual(sn["ServiceName"], name)
        self.assertEqual(sn["ServiceTags"], [])
        self.assertEqual(sn["ServiceAddress"], "")
        self.assertEqual(sn["ServicePort"], 0)
        self.assertEqual(sn["ServiceWeights"], {"Passing": 1, "Warning": 1})
        entries = self.health_service(name)
        self.assertEqual(len(entries), 1)
        self.assertEqual([c["CheckID"] for c in entries[0]["Checks"]], ["serfHealth"])
        # No check of its own: only serfHealth counts, and it passes.
        self.assertEqual(self.passing_ids(name), [name])

        self.ok_write("PUT", f"/v1/agent/service/deregister/{name}")
        self.assertNotIn(name, self.services())
        self.assertEqual(self.catalog_service(name), [])
        self.assertEqual(self.health_service(name), [])
        self.assertNotIn(name, self.agent.get("/v1/catalog/services").json())

    def test_full_service_definition(self):
        name, sid = self.name(), self.name("-1")
        self.register({
            "ID": sid, "Name": name, "Tags": ["primary", "v1"], "Address": "web.internal",
            "Port": 8080, "Meta": {"version": "1.2"}, "EnableTagOverride": True,
            "Weights": {"Passing": 5, "Warning": 2},
            "Check": {"TTL": "30s", "Notes": "ttl notes"},
        })
        self.assertEqual(self.services()[sid], agent_service(
            sid, name, tags=("primary", "v1"), meta={"version": "1.2"}, port=8080,
            address="web.internal", passing=5, warning=2, eto=True))

        checks = self.checks()
        self.assertEqual(check_view(checks[f"service:{sid}"]), {
            "Node": NODE, "CheckID": f"service:{sid}", "Name": f"Service '{name}' check",
            "Status": "critical", "Notes": "ttl notes", "Output": "", "ServiceID": sid,
            "ServiceName": name, "ServiceTags": ["primary", "v1"], "Type": "ttl"})

        sn = self.catalog_service(name)[0]
        self.assertEqual(sn["ServiceID"], sid)
        self.assertEqual(sn["ServiceTags"], ["primary", "v1"])
        self.assertEqual(sn["ServiceAddress"], "web.internal")
        self.assertEqual(sn["ServicePort"], 8080)
        self.assertEqual(sn["ServiceMeta"], {"version": "1.2"})
        self.assertEqual(sn["ServiceWeights"], {"Passing": 5, "Warning": 2})
        self.assertIs(sn["ServiceEnableTagOverride"], True)

        entries = self.health_service(name)
        self.assertEqual([c["CheckID"] for c in entries[0]["Checks"]],
                         ["serfHealth", f"service:{sid}"])
        catalog_check = entries[0]["Checks"][1]
        self.assertEqual(check_view(catalog_check), check_view(checks[f"service:{sid}"]))
        self.assertEqual(self.passing_ids(name), [])

    def test_lowercase_keys_as_python_consul_sends_them(self):
        name = self.name()
        self.register({"name": name, "id": name + "-1", "port": 9000, "tags": ["a"],
                       "address": "svc.internal", "meta": {"k": "v"},
                       "enabletagoverride": True,
                       "check": {"ttl": "30s", "notes": "n", "status": "passing"}})
        sid = name + "-1"
        self.assertEqual(self.services()[sid], agent_service(
            sid, name, tags=("a",), meta={"k": "v"}, port=9000, address="svc.internal",
            eto=True))
        check = self.checks()[f"service:{sid}"]
        self.assertEqual((check["Status"], check["Notes"], check["Type"]),
                         ("passing", "n", "ttl"))
        self.assertEqual(self.passing_ids(name), [sid])

    def test_check_ids_names_and_initial_status(self):
        name = self.name()
        self.register({"Name": name, "Check": {"TTL": "30s"},
                       "Checks": [{"TTL": "30s", "Name": "second", "Status": "warning"},
                                  {"TTL": "30s", "CheckID": "mine", "Status": "passing"}]})
        checks = self.checks()
        self.assertEqual(sorted(checks), sorted([f"service:{name}:1", f"service:{name}:2",
                                                 "mine"]))
        self.assertEqual(checks[f"service:{name}:1"]["Name"], f"Service '{name}' check")
        self.assertEqual(checks[f"service:{name}:1"]["Status"], "critical")
        self.assertEqual(checks[f"service:{name}:2"]["Name"], "second")
        self.assertEqual(checks[f"service:{name}:2"]["Status"], "warning")
        self.assertEqual(checks["mine"]["Name"], f"Service '{name}' check")
        self.assertEqual(checks["mine"]["Status"], "passing")
        self.assertEqual(sorted(self.health_checks(name)), sorted(checks))

        other = self.name("-single")
        self.register({"Name": other, "Checks": [{"TTL": "30s"}]})
        self.assertIn(f"service:{other}", self.checks())

    def test_empty_check_object_registers_no_check(self):
        # An all-zero Check is Consul's "no check" (CheckType.Empty).
        name = self.name()
        self.register({"Name": name, "Check": {}, "Checks": []})
        self.assertEqual([c for c in self.checks().values() if c["ServiceID"] == name], [])

    def test_reregister_updates_in_place(self):
        name = self.name()
        self.register({"Name": name, "Port": 1000, "Tags": ["a"]})
        self.register({"Name": name, "Port": 2000, "Tags": ["b"]})
        self.assertEqual(self.services()[name], agent_service(name, name, tags=("b",),
                                                              port=2000))
        nodes = self.catalog_service(name)
        self.assertEqual([(n["ServicePort"], n["ServiceTags"]) for n in nodes],
                         [(2000, ["b"])])

    def test_replace_existing_checks(self):
        name = self.name()
        both = {"Name": name, "Checks": [{"CheckID": name + "-a", "TTL": "30s"},
                                         {"CheckID": name + "-b", "TTL": "30s"}]}
        only_a = {"Name": name, "Checks": [{"CheckID": name + "-a", "TTL": "30s"}]}

        def mine():
            return sorted(c for c, v in self.checks().items() if v["ServiceID"] == name)

        self.register(both)
        self.register(only_a)
        self.assertEqual(mine(), [name + "-a", name + "-b"], "kept without the flag")
        for flag in ("", "=true"):
            with self.subTest(flag=flag):
                self.register(both)
                resp = self.agent.put(f"/v1/agent/service/register?replace-existing-checks"
                                      f"{flag}", body=only_a)
                self.assertStatus(resp, 200)
                self.assertEqual(mine(), [name + "-a"])
                self.assertEqual(sorted(self.health_checks(name)), [name + "-a"])

    def test_register_errors(self):
        name = self.name()
        for sid in (name, "x"):  # in case the agent wrongly accepts one of these
            self.addCleanup(self.agent.put, f"/v1/agent/service/deregister/{sid}")
        cases = [
            ({}, "Missing service name"),
            ({"Port": 80}, "Missing service name"),
            ({"Name": name, "Address": "0.0.0.0"}, "Invalid service address"),
            ({"Name": name, "Check": {"Notes": "no kind"}},
             "Invalid check: TTL must be > 0 for TTL checks"),
            ({"Name": name, "Check": {"HTTP": "http://127.0.0.1:1/"}},
             "Invalid check: Interval must be > 0 for Script, HTTP, or TCP checks"),
            ({"Name": name, "Check": {"TCP": "127.0.0.1:1"}},
             "Invalid check: Interval must be > 0 for Script, HTTP, or TCP checks"),
            ({"Name": name, "Check": {"TTL": "10s", "Interval": "10s"}},
             "Invalid check: Interval and TTL cannot both be specified"),
            ({"Name": name, "Checks": [{"TTL": "10s"}, {"HTTP": "http://127.0.0.1:1/"}]},
             "Invalid check: Interval must be > 0 for Script, HTTP, or TCP checks"),
            ({"Name": name, "Check": {"TTL": "10s", "Status": "bogus"}},
             "Status for checks must 'passing', 'warning', 'critical'"),
            ({"Name": name, "Checks": [{"TTL": "10s", "Status": "maintenance"}]},
             "Status for checks must 'passing', 'warning', 'critical'"),
            ({"Name": name, "Weights": {"Passing": 0, "Warning": 1}},
             "Invalid Weights: Passing must be greater than 0"),
            ({"Name": name, "Weights": {"Passing": 1, "Warning": -1}},
             "Invalid Weights: Warning must be greater or equal than 0"),
            ({"Name": name, "Weights": {"Passing": 70000, "Warning": 1}},
             "Invalid Weights: DNS Weight must be between 0 and 65535"),
        ]
        for body, text in cases:
            with self.subTest(body=body):
                resp = self.agent.put("/v1/agent/service/register", body=body)
                self.assertStatus(resp, 400)
                self.assertEqual(resp.text, text)
        for body in ("{", '{"Name": 5}', '{"Name": "x", "Port": "eighty"}',
                     '{"Name": "x", "Check": {"TTL": "soon"}}', "[]"):
            with self.subTest(body=body):
                resp = self.agent.put("/v1/agent/service/register", body=body)
                self.assertStatus(resp, 400)
                self.assertTrue(resp.text.startswith("Request decode failed: "), resp.text)
        # Nothing of the above was registered, locally or in the catalog.
        self.assertNotIn(name, self.services())
        self.assertNotIn("x", self.services())
        self.assertEqual(self.catalog_service(name), [])

    def test_methods(self):
        name = self.name()
        for path in ("/v1/agent/service/register", "/v1/agent/check/register",
                     "/v1/agent/check/update/x", "/v1/agent/maintenance?enable=false",
                     f"/v1/agent/service/maintenance/{name}?enable=false"):
            with self.subTest(path=path):
                self.assertStatus(self.agent.get(path), 405)
        for path in ("/v1/agent/services", "/v1/agent/checks", "/v1/agent/members"):
            with self.subTest(path=path):
                self.assertStatus(self.agent.put(path), 405)

    def test_deregister(self):
        name = self.name()
        self.register({"Name": name, "Checks": [{"TTL": "30s"}, {"TTL": "30s"}]})
        self.assertEqual(len(self.health_checks(name)), 2)
        # GET is accepted for pre-1.0 clients such as python-consul 0.7.1.
        self.ok_write("GET", f"/v1/agent/service/deregister/{name}")
        self.assertNotIn(name, self.services())
        self.assertEqual([c for c, v in self.checks().items() if v["ServiceID"] == name], [])
        self.assertEqual(self.health_checks(name), {})
        self.assertEqual(self.catalog_service(name), [])

        resp = self.agent.put(f"/v1/agent/service/deregister/{name}")
        self.assertStatus(resp, 404)
        self.assertEqual(resp.text, f'Unknown service ID "{name}". Ensure that the service '
                                    'ID is passed, not the service name.')

    def test_deregister_by_name_is_not_by_id(self):
        name = self.name()
        self.register({"Name": name, "ID": name + "-1"})
        resp = self.agent.put(f"/v1/agent/service/deregister/{name}")
        self.assertStatus(resp, 404)
        self.assertIn(name + "-1", self.services())


class AgentServiceByIDTest(AgentAPITestCase):

    def get_service(self, sid, params=None, **kw):
        return self.agent.get(f"/v1/agent/service/{sid}" + query_string(params), **kw)

    def test_service_and_content_hash(self):
        name = self.name()
        self.register({"Name": name, "Port": 80, "Tags": ["t"], "Check": {"TTL": "30s"}})
        resp = self.get_service(name)
        self.assertStatus(resp, 200)
        body = resp.json()
        h = body.pop("ContentHash")
        self.assertRegex(h, HEX_RE)
        self.assertEqual(resp.header("X-Consul-ContentHash"), h)
        self.assertEqual(body, agent_service(name, name, tags=("t",), port=80))
        # Stable while nothing changes; a check update is not a service change.
        self.ok_write("PUT", f"/v1/agent/check/pass/service:{name}")
        self.assertEqual(self.get_service(name).json()["ContentHash"], h)
        self.register({"Name": name, "Port": 81, "Tags": ["t"], "Check": {"TTL": "30s"}})
        h2 = self.get_service(name).json()["ContentHash"]
        self.assertNotEqual(h2, h)

        resp = self.get_service("no-such-service")
        self.assertStatus(resp, 404)
        self.assertEqual(resp.text, "unknown service ID: no-such-service")

    def test_hash_blocking_waits_while_unchanged(self):
        name = self.name()
        self.register({"Name": name, "Port": 80, "Check": {"TTL": "30s"}})
        h = self.get_service(name).json()["ContentHash"]
        call = BackgroundCall(self.get_service, name, {"hash": h, "wait": "2s"})
        time.sleep(0.5)
        # Changes that leave the service as it was do not end the wait.
        self.ok_write("PUT", f"/v1/agent/check/pass/service:{name}")
        self.register({"Name": name + "-other"})
        resp = call.join(10.0)
        self.assertStatus(resp, 200)
        self.assertGreaterEqual(call.elapsed, 1.9)
        self.assertLess(call.elapsed, 4.0)
        self.assertEqual(resp.json()["ContentHash"], h)
        self.assertEqual(resp.header("X-Consul-ContentHash"), h)

    def test_hash_blocking_wakes_on_change(self):
        name = self.name()
        self.register({"Name": name, "Port": 80})
        h = self.get_service(name).json()["ContentHash"]
        # A hash that is not the current one answers at once.
        t0 = time.monotonic()
        resp = self.get_service(name, {"hash": "0123abcd", "wait": "5s"})
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(resp.json()["ContentHash"], h)

        call = BackgroundCall(self.get_service, name, {"hash": h, "wait": "10s"})
        time.sleep(0.5)
        self.assertFalse(call.done(), "returned before the service changed")
        self.register({"Name": name, "Port": 8080})
        resp = call.join(15.0)
        self.assertStatus(resp, 200)
        self.assertLess(call.elapsed, 5.0)
        body = resp.json()
        self.assertEqual(body["Port"], 8080)
        self.assertNotEqual(body["ContentHash"], h)
        self.assertEqual(resp.header("X-Consul-ContentHash"), body["ContentHash"])

    def test_hash_blocking_ends_with_404_on_deregister(self):
        name = self.name()
        self.register({"Name": name})
        h = self.get_service(name).json()["ContentHash"]
        call = BackgroundCall(self.get_service, name, {"hash": h, "wait": "10s"})
        time.sleep(0.5)
        self.ok_write("PUT", f"/v1/agent/service/deregister/{name}")
        resp = call.join(15.0)
        self.assertLess(call.elapsed, 5.0)
        self.assertStatus(resp, 404)
        self.assertEqual(resp.text, f"unknown service ID: {name}")


class AgentCheckTest(AgentAPITestCase):

    def test_check_register_for_service_and_ttl_updates(self):
        name = self.name()
        self.register({"Name": name, "Tags": ["x"]})
        self.register_check({"Name": name + "-ttl", "TTL": "30s", "ServiceID": name,
                             "Notes": "from the app"})
        cid = name + "-ttl"  # ID defaults to the name
        check = self.checks()[cid]
        self.assertEqual(check_view(check), {
            "Node": NODE, "CheckID": cid, "Name": cid, "Status": "critical",
            "Notes": "from the app", "Output": "", "ServiceID": name, "ServiceName": name,
            "ServiceTags": ["x"], "Type": "ttl"})
        self.assertEqual(self.passing_ids(name), [])

        def both(status, output):
            local = self.checks()[cid]
            self.assertEqual((local["Status"], local["Output"]), (status, output), "agent")
            remote = self.health_checks(name)[cid]
            self.assertEqual((remote["Status"], remote["Output"]), (status, output),
                             "catalog")

        self.ok_write("PUT", f"/v1/agent/check/pass/{cid}?note=all%20good")
        both("passing", "all good")
        self.assertEqual(self.passing_ids(name), [name])
        self.ok_write("GET", f"/v1/agent/check/warn/{cid}?note=slow")
        both("warning", "slow")
        self.assertEqual(self.passing_ids(name), [], "warning is not passing")
        self.ok_write("PUT", f"/v1/agent/check/fail/{cid}?note=down")
        both("critical", "down")
        self.ok_write("GET", f"/v1/agent/check/pass/{cid}")
        both("passing", "")
        self.ok_write("PUT", f"/v1/agent/check/update/{cid}",
                      body={"Status": "warning", "Output": "disk 91%"})
        both("warning", "disk 91%")
        self.ok_write("PUT", f"/v1/agent/check/update/{cid}", body={"Status": "passing"})
        both("passing", "")

        for body, text in (({"Status": "bogus"}, "Invalid check status: 'bogus'"),
                           ({}, "Invalid check status: ''"),
                           ({"Status": "maintenance", "Output": "x"},
                            "Invalid check status: 'maintenance'")):
            with self.subTest(body=body):
                resp = self.agent.put(f"/v1/agent/check/update/{cid}", body=body)
                self.assertStatus(resp, 400)
                self.assertEqual(resp.text, text)
        # Output beyond the 4 KiB check buffer is cut, saying so.
        self.ok_write("PUT", f"/v1/agent/check/update/{cid}",
                      body={"Status": "warning", "Output": "x" * 5000})
        both("warning", "x" * 4096 + " ... (captured 4096 of 5000 bytes)")
        self.ok_write("PUT", f"/v1/agent/check/update/{cid}", body={"Status": "passing"})
        resp = self.agent.put(f"/v1/agent/check/update/{cid}", body="{")
        self.assertStatus(resp, 400)
        self.assertTrue(resp.text.startswith("Request decode failed: "), resp.text)
        both("passing", "")

        # Deregistering the check leaves the service.
        self.ok_write("PUT", f"/v1/agent/check/deregister/{cid}")
        self.assertNotIn(cid, self.checks())
        self.assertNotIn(cid, self.health_checks(name))
        self.assertIn(name, self.services())

    def test_node_check(self):
        cid = self.name()
        self.register_check({"ID": cid, "Name": "node disk", "TTL": "30s",
                             "Status": "passing"})
        check = self.checks()[cid]
        self.assertEqual(check_view(check), {
            "Node": NODE, "CheckID": cid, "Name": "node disk", "Status": "passing",
            "Notes": "", "Output": "", "ServiceID": "", "ServiceName": "", "ServiceTags": [],
            "Type": "ttl"})
        remote = self.node_checks()[cid]
        self.assertEqual(check_view(remote), check_view(check))
        # A failing node check takes every service on the node out of ?passing.
        name = self.name("-svc")
        self.register({"Name": name})
        self.assertEqual(self.passing_ids(name), [name])
        self.ok_write("PUT", f"/v1/agent/check/fail/{cid}")
        self.assertEqual(self.passing_ids(name), [])
        self.ok_write("GET", f"/v1/agent/check/deregister/{cid}")
        self.assertNotIn(cid, self.node_checks())
        self.assertEqual(self.passing_ids(name), [name])

    def test_check_register_errors(self):
        cases = [
            ({}, 400, "Missing check name"),
            ({"TTL": "10s"}, 400, "Missing check name"),
            ({"Name": "c", "TTL": "10s", "Status": "bogus"}, 400, "Bad check status"),
            ({"Name": "c"}, 400, "Invalid check: TTL must be > 0 for TTL checks"),
            ({"Name": "c", "HTTP": "http://127.0.0.1:1/"}, 400,
             "Invalid check: Interval must be > 0 for Script, HTTP, or TCP checks"),
            ({"Name": "c", "TTL": "10s", "Interval": "10s"}, 400,
             "Invalid check: Interval and TTL cannot both be specified"),
            ({"Name": "c", "TTL": "10s", "ServiceID": "no-such-service"}, 404,
             'ServiceID "no-such-service" does not exist'),
        ]
        for body, status, text in cases:
            with self.subTest(body=body):
                resp = self.agent.put("/v1/agent/check/register", body=body)
                self.assertStatus(resp, status)
                self.assertEqual(resp.text, text)
        for body in ("{", '{"Name": 1}', '{"Name": "c", "TTL": "never"}'):
            with self.subTest(body=body):
                resp = self.agent.put("/v1/agent/check/register", body=body)
                self.assertStatus(resp, 400)
                self.assertTrue(resp.text.startswith("Request decode failed: "), resp.text)
        self.assertNotIn("c", self.checks())

    def test_ttl_update_of_unknown_or_non_ttl_check(self):
        for verb in ("pass", "warn", "fail"):
            with self.subTest(verb=verb):
                resp = self.agent.put(f"/v1/agent/check/{verb}/no-such-check?note=x")
                self.assertStatus(resp, 404)
                self.assertEqual(resp.text, UNKNOWN_CHECK)
        resp = self.agent.put("/v1/agent/check/update/no-such-check",
                              body={"Status": "passing"})
        self.assertStatus(resp, 404)
        self.assertEqual(resp.text, UNKNOWN_CHECK)

        # A TCP check is not a TTL check, whatever its state.
        cid = self.name()
        self.register_check({"ID": cid, "Name": cid, "TCP": "127.0.0.1:1",
                             "Interval": "1h"})
        self.assertEqual(self.checks()[cid]["Type"], "tcp")
        resp = self.agent.put(f"/v1/agent/check/pass/{cid}")
        self.assertStatus(resp, 500)
        self.assertEqual(resp.text, f'CheckID "{cid}" does not have associated TTL')
        self.assertNotEqual(self.checks()[cid]["Status"], "passing")

    def test_check_deregister_unknown(self):
        resp = self.agent.put("/v1/agent/check/deregister/no-such-check")
        self.assertStatus(resp, 404)
        self.assertEqual(resp.text, 'Unknown check ID "no-such-check". Ensure that the check '
                                    'ID is passed, not the check name.')

    def test_service_check_follows_service_tags(self):
        name = self.name()
        self.register({"Name": name, "Tags": ["a"], "Check": {"TTL": "30s"}})
        self.register({"Name": name, "Tags": ["b", "c"], "Check": {"TTL": "30s"}})
        self.assertEqual(self.checks()[f"service:{name}"]["ServiceTags"], ["b", "c"])
        self.assertEqual(self.health_checks(name)[f"service:{name}"]["ServiceTags"],
                         ["b", "c"])


class MaintenanceTest(AgentAPITestCase):

    def maint(self, path, params, status=200):
        resp = self.agent.put(path + query_string(params))
        self.assertStatus(resp, status, f"{path} {params}")
        if status == 200:
            self.assertEqual(resp.body, b"")
        return resp

    def test_node_maintenance(self):
        self.addCleanup(self.agent.put, "/v1/agent/maintenance?enable=false")
        name = self.name()
        self.register({"Name": name, "Check": {"TTL": "30s", "Status": "passing"}})
        self.assertEqual(self.passing_ids(name), [name])

        self.maint("/v1/agent/maintenance", {"enable": "true", "reason": "kernel upgrade"})
        check = self.checks()["_node_maintenance"]
        view = check_view(check)
        self.assertIn(view.pop("Type"), ("", "maintenance"))
        self.assertEqual(view, {
            "Node": NODE, "CheckID": "_node_maintenance", "Name": "Node Maintenance Mode",
            "Status": "critical", "Notes": "kernel upgrade", "Output": "", "ServiceID": "",
            "ServiceName": "", "ServiceTags": []})
        remote = self.node_checks()["_node_maintenance"]
        self.assertEqual((remote["Status"], remote["Notes"]), ("critical", "kernel upgrade"))
        self.assertEqual(self.passing_ids(name), [], "a node in maintenance is not passing")
        entry = self.health_service(name)[0]
        self.assertIn("_node_maintenance", [c["CheckID"] for c in entry["Checks"]])

        # Enabling again keeps the first reason.
        self.maint("/v1/agent/maintenance", {"enable": "1", "reason": "other"})
        self.assertEqual(self.checks()["_node_maintenance"]["Notes"], "kernel upgrade")

        self.maint("/v1/agent/maintenance", {"enable": "false"})
        self.assertNotIn("_node_maintenance", self.checks())
        self.assertNotIn("_node_maintenance", self.node_checks())
        self.assertEqual(self.passing_ids(name), [name])
        # Disabling when not enabled is fine.
        self.maint("/v1/agent/maintenance", {"enable": "0"})

        self.maint("/v1/agent/maintenance", {"enable": "True"})  # python-consul's spelling
        self.assertEqual(self.checks()["_node_maintenance"]["Notes"], DEFAULT_NODE_MAINT_NOTES)
        self.maint("/v1/agent/maintenance", {"enable": "F"})
        self.assertNotIn("_node_maintenance", self.checks())

    def test_service_maintenance(self):
        name = self.name()
        a, b = name + "-a", name + "-b"
        for sid in (a, b):
            self.register({"Name": name, "ID": sid, "Tags": ["t"],
                           "Check": {"TTL": "30s", "Status": "passing"}})
        self.assertEqual(sorted(self.passing_ids(name)), [a, b])

        self.maint(f"/v1/agent/service/maintenance/{a}", {"enable": "true",
                                                          "reason": "draining"})
        cid = f"_service_maintenance:{a}"
        view = check_view(self.checks()[cid])
        self.assertIn(view.pop("Type"), ("", "maintenance"))
        self.assertEqual(view, {
            "Node": NODE, "CheckID": cid, "Name": "Service Maintenance Mode",
            "Status": "critical", "Notes": "draining", "Output": "", "ServiceID": a,
            "ServiceName": name, "ServiceTags": ["t"]})
        self.assertEqual(self.health_checks(name)[cid]["Status"], "critical")
        self.assertEqual(self.passing_ids(name), [b], "only the instance in maintenance goes")

        self.maint(f"/v1/agent/service/maintenance/{a}", {"enable": "false"})
        self.assertNotIn(cid, self.checks())
        self.assertNotIn(cid, self.health_checks(name))
        self.assertEqual(sorted(self.passing_ids(name)), [a, b])

        # The default reason; deregistering the service removes its maintenance check.
        self.maint(f"/v1/agent/service/maintenance/{b}", {"enable": "t"})
        self.assertEqual(self.checks()[f"_service_maintenance:{b}"]["Notes"],
                         DEFAULT_SERVICE_MAINT_NOTES)
        self.ok_write("PUT", f"/v1/agent/service/deregister/{b}")
        self.assertNotIn(f"_service_maintenance:{b}", self.checks())
        self.assertNotIn(f"_service_maintenance:{b}", self.health_checks(name))

    def test_maintenance_errors(self):
        name = self.name()
        self.register({"Name": name})
        for path in ("/v1/agent/maintenance", f"/v1/agent/service/maintenance/{name}"):
            with self.subTest(path=path):
                resp = self.maint(path, None, status=400)
                self.assertEqual(resp.text, "Missing value for enable")
                resp = self.maint(path, {"enable": "maybe"}, status=400)
                self.assertEqual(resp.text, 'Invalid value for enable: "maybe"')
                resp = self.maint(path, {"enable": ""}, status=400)
                self.assertEqual(resp.text, 'Invalid value for enable: ""')
        resp = self.maint("/v1/agent/service/maintenance/", {"enable": "true"}, status=400)
        self.assertEqual(resp.text, "Missing service ID")
        resp = self.maint("/v1/agent/service/maintenance/no-such-service", {"enable": "true"},
                          status=404)
        self.assertIn('"no-such-service"', resp.text)
        self.assertEqual([c for c in self.checks() if c.startswith("_")], [])


class WriteThenReadTest(AgentAPITestCase):
    """Each write answers only after the catalog holds it: no polling anywhere here."""

    def test_register_pass_fail_deregister_round(self):
        name = self.name()
        for i in range(5):
            sid = f"{name}-{i}"
            self.register({"Name": name, "ID": sid, "Port": 9000 + i,
                           "Check": {"TTL": "30s"}})
            self.assertIn(sid, [n["ServiceID"] for n in self.catalog_service(name)])
            self.assertNotIn(sid, self.passing_ids(name))
            self.ok_write("PUT", f"/v1/agent/check/pass/service:{sid}")
            self.assertIn(sid, self.passing_ids(name))
            self.ok_write("PUT", f"/v1/agent/check/fail/service:{sid}")
            self.assertNotIn(sid, self.passing_ids(name))
            self.ok_write("PUT", f"/v1/agent/check/pass/service:{sid}")
        self.assertEqual(sorted(self.passing_ids(name)), [f"{name}-{i}" for i in range(5)])
        for i in range(5):
            self.ok_write("PUT", f"/v1/agent/service/deregister/{name}-{i}")
            self.assertNotIn(f"{name}-{i}", [n["ServiceID"] for n in self.catalog_service(name)])
        self.assertEqual(self.health_service(name), [])


if __name__ == "__main__":
    unittest.main()
