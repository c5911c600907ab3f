"""The command line against a live agent: `proconsul kv get|put|delete`, `info`, `version`,
`catalog datacenters|nodes|services`, `services register|deregister`, `members`, `maint`.

Texts and exit codes are Consul's (command/kv/{get,put,del}, command/catalog/list/*,
command/services/*, command/members, command/maint): success messages on stdout, errors on
stderr with exit status 1; the agent address comes from -http-addr, else CONSUL_HTTP_ADDR (we
also accept PROCONSUL_HTTP_ADDR), with or without an http:// scheme. Tables are laid out as
Consul's ryanuber/columnize (two spaces between columns, the last cell unpadded) and, for
`catalog services -tags`, Go's tabwriter (padding 6); the expected text is rebuilt here from
what the HTTP API answers.
"""

import base64
import json
import os
import subprocess
import tempfile
import time
import unittest

from proconsul import AgentTestCase, binary_path, unb64

CLI_TIMEOUT_S = 30.0
ADDR_ENV = ("CONSUL_HTTP_ADDR", "PROCONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL_HTTP_SSL")


# Commands whose name is two words (`kv get`, `catalog nodes`, `services register`).
NESTED_COMMANDS = ("kv", "catalog", "services")


class CliMixin:
    """Running the binary against the class's agent, and asserting on its exit and output."""

    def run_cli(self, *args, env=None, stdin=None, addr=True):
        """Runs the binary; addr=True passes -http-addr right after the subcommand(s)."""
        clean = {k: v for k, v in os.environ.items() if k not in ADDR_ENV}
        clean.update(env or {})
        argv = list(args)
        if addr:
            # Flags go after the subcommand path (`kv get`) and before positional args.
            depth = 2 if argv and argv[0] in NESTED_COMMANDS else 1
            argv = argv[:depth] + [f"-http-addr={self.agent.http_addr}"] + argv[depth:]
        proc = subprocess.run([binary_path()] + argv, input=stdin, capture_output=True,
                              env=clean, timeout=CLI_TIMEOUT_S)
        proc.out = proc.stdout.decode("utf-8", errors="replace")
        proc.err = proc.stderr.decode("utf-8", errors="replace")
        return proc

    def assertOk(self, proc, stdout=None):
        self.assertEqual(proc.returncode, 0,
                         f"exit {proc.returncode}\nstdout: {proc.out}\nstderr: {proc.err}")
        if stdout is not None:
            self.assertEqual(proc.out, stdout, f"stderr: {proc.err}")

    def assertFails(self, proc, stderr_contains):
        self.assertEqual(proc.returncode, 1,
                         f"want exit 1, got {proc.returncode}\nstdout: {proc.out}\n"
                         f"stderr: {proc.err}")
        self.assertIn(stderr_contains, proc.err, f"stdout: {proc.out}")


class CliTest(CliMixin, AgentTestCase):

    def test_put_and_get(self):
        key = self.prefix + "foo"
        self.assertOk(self.run_cli("kv", "put", key, "bar"),
                      f"Success! Data written to: {key}\n")
        self.assertOk(self.run_cli("kv", "get", key), "bar\n")
        # What the CLI wrote is what the HTTP API reads.
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), b"bar")

    def test_get_missing_key(self):
        key = self.prefix + "missing"
        self.assertFails(self.run_cli("kv", "get", key), f"Error! No key exists at: {key}")

    def test_put_without_value_writes_empty(self):
        key = self.prefix + "empty"
        self.assertOk(self.run_cli("kv", "put", key), f"Success! Data written to: {key}\n")
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, b"")
        self.assertOk(self.run_cli("kv", "get", key), "\n")

    def test_put_from_stdin_and_file(self):
        key = self.prefix + "stdin"
        self.assertOk(self.run_cli("kv", "put", key, "-", stdin=b"from stdin"))
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, b"from stdin")
        with tempfile.NamedTemporaryFile("wb", suffix=".dat", delete=False) as f:
            f.write(b"from a file")
        self.addCleanup(os.unlink, f.name)
        key = self.prefix + "file"
        self.assertOk(self.run_cli("kv", "put", key, "@" + f.name))
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, b"from a file")

    def test_put_base64_and_get_base64(self):
        key = self.prefix + "b64"
        encoded = base64.b64encode(b"\x00binary\xff").decode()
        self.assertOk(self.run_cli("kv", "put", "-base64", key, encoded))
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, b"\x00binary\xff")
        self.assertOk(self.run_cli("kv", "get", "-base64", key), encoded + "\n")

    def test_cas(self):
        key = self.prefix + "cas"
        self.assertOk(self.run_cli("kv", "put", "-cas", "-modify-index=0", key, "v1"),
                      f"Success! Data written to: {key}\n")
        # Consul's command/kv/put has a dedicated text for a failed create-only CAS.
        self.assertFails(self.run_cli("kv", "put", "-cas", "-modify-index=0", key, "v2"),
                         f"Error! Did not write to {key}: CAS performed with index=0 and key "
                         "already exists.")
        idx = self.agent.kv_entry(key)["ModifyIndex"]
        self.assertFails(self.run_cli("kv", "put", "-cas", f"-modify-index={idx + 100}",
                                      key, "v2"),
                         f"Error! Did not write to {key}: CAS failed")
        self.assertOk(self.run_cli("kv", "put", "-cas", f"-modify-index={idx}", key, "v2"))
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, b"v2")

    def test_flags_and_detailed(self):
        key = self.prefix + "detailed"
        self.assertOk(self.run_cli("kv", "put", "-flags=42", key, "val"))
        proc = self.run_cli("kv", "get", "-detailed", key)
        self.assertOk(proc)
        fields = {}
        for line in proc.out.splitlines():
            name, _, value = line.partition(" ")
            fields[name] = value.strip()
        entry = self.agent.kv_entry(key)
        self.assertEqual(fields.get("Key"), key, proc.out)
        self.assertEqual(fields.get("Flags"), "42", proc.out)
        self.assertEqual(fields.get("Value"), "val", proc.out)
        self.assertEqual(fields.get("LockIndex"), "0", proc.out)
        self.assertEqual(fields.get("Session"), "-", proc.out)
        self.assertEqual(fields.get("CreateIndex"), str(entry["CreateIndex"]), proc.out)
        self.assertEqual(fields.get("ModifyIndex"), str(entry["ModifyIndex"]), proc.out)
        # Consul prints the rows sorted by name.
        names = [line.split()[0] for line in proc.out.splitlines() if line.strip()]
        self.assertEqual(names, sorted(names))

    def test_get_recurse_and_keys(self):
        p = self.prefix
        for k, v in (("a", "1"), ("b", "2"), ("sub/c", "3")):
            self.agent.kv_put(p + k, v.encode())
        self.assertOk(self.run_cli("kv", "get", "-recurse", p),
                      f"{p}a:1\n{p}b:2\n{p}sub/c:3\n")
        self.assertOk(self.run_cli("kv", "get", "-keys", p), f"{p}a\n{p}b\n{p}sub/\n")

    def test_get_recurse_on_empty_prefix_prints_nothing(self):
        self.assertOk(self.run_cli("kv", "get", "-recurse", self.prefix + "nothing/"), "")

    def test_acquire_and_release(self):
        key = self.prefix + "lock"
        sid = self.agent.session_create({"LockDelay": "0s"})
        self.addCleanup(self.agent.session_destroy, sid)
        self.assertOk(self.run_cli("kv", "put", "-acquire", f"-session={sid}", key, "held"),
                      f"Success! Lock acquired on: {key}\n")
        proc = self.run_cli("kv", "get", "-detailed", key)
        self.assertOk(proc)
        self.assertRegex(proc.out, rf"(?m)^Session\s+{sid}$")
        self.assertRegex(proc.out, r"(?m)^LockIndex\s+1$")
        self.assertOk(self.run_cli("kv", "put", "-release", f"-session={sid}", key, "free"),
                      f"Success! Lock released on: {key}\n")
        self.assertNotIn("Session", self.agent.kv_entry(key))

    def test_delete(self):
        key = self.prefix + "del"
        self.agent.kv_put(key, b"v")
        self.assertOk(self.run_cli("kv", "delete", key), f"Success! Deleted key: {key}\n")
        self.assertIsNone(self.agent.kv_entry(key))

    def test_delete_recurse(self):
        p = self.prefix
        for k in ("x/1", "x/2", "y"):
            self.agent.kv_put(p + k, b"v")
        self.assertOk(self.run_cli("kv", "delete", "-recurse", p + "x/"),
                      f"Success! Deleted keys with prefix: {p}x/\n")
        self.assertStatus(self.agent.kv_get(p + "x/", {"recurse": None}), 404)
        self.assertIsNotNone(self.agent.kv_entry(p + "y"))

    def test_delete_cas(self):
        key = self.prefix + "delcas"
        self.agent.kv_put(key, b"v")
        idx = self.agent.kv_entry(key)["ModifyIndex"]
        self.assertFails(self.run_cli("kv", "delete", "-cas", f"-modify-index={idx + 100}", key),
                         f"Error! Did not delete key {key}: CAS failed")
        self.assertIsNotNone(self.agent.kv_entry(key))
        self.assertOk(self.run_cli("kv", "delete", "-cas", f"-modify-index={idx}", key),
                      f"Success! Deleted key: {key}\n")

    def test_address_from_environment(self):
        key = self.prefix + "env"
        addr = self.agent.http_addr
        for env in ({"CONSUL_HTTP_ADDR": addr}, {"CONSUL_HTTP_ADDR": "http://" + addr},
                    {"PROCONSUL_HTTP_ADDR": addr}):
            proc = self.run_cli("kv", "put", key, str(env), env=env, addr=False)
            self.assertOk(proc, f"Success! Data written to: {key}\n")
            self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, str(env).encode())

    def test_flag_overrides_environment(self):
        key = self.prefix + "override"
        proc = self.run_cli("kv", "put", key, "v", env={"CONSUL_HTTP_ADDR": "127.0.0.1:1"})
        self.assertOk(proc)
        self.assertIsNotNone(self.agent.kv_entry(key))

    def test_unreachable_agent(self):
        start = time.monotonic()
        proc = self.run_cli("kv", "get", "-http-addr=127.0.0.1:1", "foo", addr=False)
        self.assertEqual(proc.returncode, 1, f"stdout: {proc.out}\nstderr: {proc.err}")
        self.assertIn("Error", proc.err)
        self.assertIn("127.0.0.1:1", proc.err, "the error should name the address it tried")
        self.assertLess(time.monotonic() - start, 15.0)
        proc = self.run_cli("kv", "put", "foo", "bar", addr=False,
                            env={"CONSUL_HTTP_ADDR": "127.0.0.1:1"})
        self.assertEqual(proc.returncode, 1, f"stdout: {proc.out}\nstderr: {proc.err}")
        self.assertIn("Error", proc.err)

    def test_usage_errors(self):
        proc = self.run_cli("kv", "put")
        self.assertEqual(proc.returncode, 1, f"stdout: {proc.out}\nstderr: {proc.err}")
        self.assertTrue(proc.err.strip())
        proc = self.run_cli("kv", "get")
        self.assertEqual(proc.returncode, 1, f"stdout: {proc.out}\nstderr: {proc.err}")

    def test_info(self):
        proc = self.run_cli("info")
        self.assertOk(proc)
        self.assertRegex(proc.out, r"(?m)^agent:$")
        self.assertRegex(proc.out, r"(?m)^\t\w+ = .+$")

    def test_version(self):
        proc = self.run_cli("version", addr=False)
        self.assertOk(proc)
        self.assertRegex(proc.out.splitlines()[0], r"v\d+\.\d+\.\d+")


def columnize(rows):
    """ryanuber/columnize as Consul configures it: trimmed cells, two spaces between columns,
    every cell but a row's last padded to its column's width."""
    rows = [[str(cell).strip() for cell in row] for row in rows]
    widths = {}
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths.get(i, 0), len(cell))
    lines = ["".join(cell.ljust(widths[i]) + "  " for i, cell in enumerate(row[:-1])) + row[-1]
             for row in rows]
    return "\n".join(lines) + "\n"


def map_to_kv(m):
    """Consul's mapToKV for the detailed node listing: "k1=v1, k2=v2" sorted by key."""
    return ", ".join(f"{k}={v}" for k, v in sorted((m or {}).items()))


class CliCatalogTest(CliMixin, AgentTestCase):
    """`catalog datacenters|nodes|services` against nodes registered through /v1/catalog."""

    node_name = "cli-catalog-node"

    def register_external(self, node, address, service=None, node_meta=None):
        body = {"Node": node, "Address": address, "NodeMeta": node_meta or {}}
        if service:
            body["Service"] = service
        resp = self.agent.put("/v1/catalog/register", body=body)
        self.assertStatus(resp, 200)
        self.addCleanup(self.agent.put, "/v1/catalog/deregister", body={"Node": node})

    def two_nodes(self):
        """ext-a runs cli-web (tags v2, v1) in rack r9; ext-b runs cli-db."""
        self.register_external("ext-a", "10.1.0.1", node_meta={"rack": "r9"}, service={
            "ID": "cli-web-1", "Service": "cli-web", "Tags": ["v2", "v1"], "Port": 80})
        self.register_external("ext-b", "10.1.0.2", service={
            "ID": "cli-db", "Service": "cli-db", "Port": 5432})

    def expected_nodes(self, nodes, detailed=False, meta_key="Meta"):
        if detailed:
            rows = [["Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"]]
            rows += [[n["Node"], n["ID"], n["Address"], n["Datacenter"],
                      map_to_kv(n.get("TaggedAddresses")), map_to_kv(n.get(meta_key))]
                     for n in nodes]
        else:
            rows = [["Node", "ID", "Address", "DC"]]
            rows += [[n["Node"], n["ID"].split("-")[0] if n["ID"].find("-") > 0 else n["ID"],
                      n["Address"], n["Datacenter"]] for n in nodes]
        return columnize(rows)

    def test_datacenters(self):
        self.assertOk(self.run_cli("catalog", "datacenters"), "dc1\n")
        proc = self.run_cli("catalog", "datacenters", "extra")
        self.assertFails(proc, "Too many arguments (expected 0, got 1)")

    def test_nodes(self):
        self.two_nodes()
        nodes = self.agent.get("/v1/catalog/nodes").json()
        self.assertEqual([n["Node"] for n in nodes], ["cli-catalog-node", "ext-a", "ext-b"])
        proc = self.run_cli("catalog", "nodes")
        self.assertOk(proc, self.expected_nodes(nodes))
        # The agent's own node has an ID, shown by its first group only.
        own = proc.out.splitlines()[1].split()
        self.assertEqual(own[:2], ["cli-catalog-node", nodes[0]["ID"].split("-")[0]])
        self.assertOk(self.run_cli("catalog", "nodes", "-detailed"),
                      self.expected_nodes(nodes, detailed=True))

    def test_nodes_of_a_service_and_by_meta(self):
        self.two_nodes()
        service_nodes = self.agent.get("/v1/catalog/service/cli-web").json()
        self.assertOk(self.run_cli("catalog", "nodes", "-service", "cli-web", "-detailed"),
                      self.expected_nodes(service_nodes, detailed=True, meta_key="NodeMeta"))
        proc = self.run_cli("catalog", "nodes", "-node-meta", "rack=r9")
        self.assertOk(proc)
        self.assertEqual([line.split()[0] for line in proc.out.splitlines()], ["Node", "ext-a"])
        proc = self.run_cli("catalog", "nodes", "-service=cli-web", "-filter", 'Node == "ext-a"')
        self.assertOk(proc)
        self.assertEqual([line.split()[0] for line in proc.out.splitlines()], ["Node", "ext-a"])
        proc = self.run_cli("catalog", "nodes", "-service=cli-nothing")
        self.assertOk(proc, "")
        self.assertEqual(proc.err, "No nodes match the given query - try expanding your search.\n")

    def test_nodes_near_agent(self):
        # -dev is alone: its node is first (and only), sorted from its own coordinate.
        proc = self.run_cli("catalog", "nodes", "-near=_agent")
        self.assertEqual(proc.returncode, 0, proc.err)
        self.assertEqual(proc.out.splitlines()[1].split()[0], "cli-catalog-node")

    def test_nodes_bad_filter(self):
        proc = self.run_cli("catalog", "nodes", "-service=cli-web", "-filter", "Node ===")
        self.assertFails(proc, "Error listing nodes for service: Unexpected response code: 400 (")

    def test_services(self):
        self.two_nodes()
        services = self.agent.get("/v1/catalog/services").json()
        self.assertIn("cli-web", services)
        self.assertOk(self.run_cli("catalog", "services"),
                      "".join(name + "\n" for name in sorted(services)))
        width = max(len(name) for name in services) + 6
        table = "\n".join(name.ljust(width) + ",".join(sorted(services[name]))
                          for name in sorted(services))
        self.assertOk(self.run_cli("catalog", "services", "-tags"), table.strip() + "\n")
        self.assertIn("cli-web" + " " * (width - len("cli-web")) + "v1,v2\n",
                      self.run_cli("catalog", "services", "-tags").out)

    def test_services_of_a_node(self):
        self.two_nodes()
        self.assertOk(self.run_cli("catalog", "services", "-node=ext-a"), "cli-web\n")
        self.assertOk(self.run_cli("catalog", "services", "-node=ext-a", "-tags"),
                      "cli-web      v1,v2\n")
        proc = self.run_cli("catalog", "services", "-node=no-such-node")
        self.assertOk(proc, "")
        self.assertEqual(proc.err,
                         "No services match the given query - try expanding your search.\n")

    def test_unreachable_and_unknown_datacenter(self):
        proc = self.run_cli("catalog", "services", "-http-addr=127.0.0.1:1", addr=False)
        self.assertFails(proc, "127.0.0.1:1")
        self.assertFails(self.run_cli("catalog", "nodes", "-datacenter=nowhere"),
                         "Error listing nodes: Unexpected response code: 500 (No path to "
                         "datacenter)")


class CliAgentTest(CliMixin, AgentTestCase):
    """`services register|deregister`, `members` and `maint`: the agent endpoints
    (/v1/agent/members, services, checks, service/register, service/deregister/:id,
    maintenance, service/maintenance/:id)."""

    node_name = "cli-agent-node"

    def agent_services(self):
        resp = self.agent.get("/v1/agent/services")
        self.assertStatus(resp, 200)
        return resp.json()

    def agent_checks(self):
        resp = self.agent.get("/v1/agent/checks")
        self.assertStatus(resp, 200)
        return resp.json()

    def deregister_later(self, service_id):
        self.addCleanup(self.agent.put, f"/v1/agent/service/deregister/{service_id}")

    def write_json(self, data, suffix=".json"):
        with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False) as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_register_from_flags_and_deregister(self):
        self.deregister_later("cli-web-1")
        proc = self.run_cli("services", "register", "-name=cli-web", "-id=cli-web-1",
                            "-address=10.0.0.5", "-port=8080", "-tag=v1", "-tag=primary",
                            "-meta", "version=1.2")
        self.assertOk(proc, "Registered service: cli-web\n")
        svc = self.agent_services().get("cli-web-1")
        self.assertIsNotNone(svc, self.agent_services())
        self.assertEqual((svc["Service"], svc["Address"], svc["Port"], svc["Tags"], svc["Meta"]),
                         ("cli-web", "10.0.0.5", 8080, ["v1", "primary"], {"version": "1.2"}))
        # The agent answers once the registration is in the catalog.
        self.assertEqual([s["ServiceID"] for s in
                          self.agent.get("/v1/catalog/service/cli-web").json()], ["cli-web-1"])
        self.assertOk(self.run_cli("catalog", "services", "-node=cli-agent-node", "-tags"))
        self.assertOk(self.run_cli("services", "deregister", "-id=cli-web-1"),
                      "Deregistered service: cli-web-1\n")
        self.assertNotIn("cli-web-1", self.agent_services())
        self.assertEqual(self.agent.get("/v1/catalog/service/cli-web").json(), [])

    def test_register_from_files(self):
        self.deregister_later("cli-api-1")
        self.deregister_later("cli-cache")
        path = self.write_json({
            "services": [
                {"id": "cli-api-1", "name": "cli-api", "port": 9000, "tags": ["a"],
                 "enable_tag_override": True,
                 "check": {"id": "cli-api-ttl", "name": "api ttl", "ttl": "30s"}},
                {"name": "cli-cache", "port": 6379},
            ]})
        self.assertOk(self.run_cli("services", "register", path),
                      "Registered service: cli-api\nRegistered service: cli-cache\n")
        services = self.agent_services()
        self.assertEqual(services["cli-api-1"]["Port"], 9000)
        self.assertTrue(services["cli-api-1"]["EnableTagOverride"])
        self.assertEqual(services["cli-cache"]["Service"], "cli-cache")
        check = self.agent_checks().get("cli-api-ttl")
        self.assertIsNotNone(check, self.agent_checks())
        self.assertEqual((check["ServiceID"], check["Name"]), ("cli-api-1", "api ttl"))
        # The same file deregisters them: by ID, else by name.
        self.assertOk(self.run_cli("services", "deregister", path),
                      "Deregistered service: cli-api-1\nDeregistered service: cli-cache\n")
        services = self.agent_services()
        self.assertNotIn("cli-api-1", services)
        self.assertNotIn("cli-cache", services)
        self.assertNotIn("cli-api-ttl", self.agent_checks())

    def test_register_errors(self):
        self.assertFails(self.run_cli("services", "register"),
                         "Service registration requires at least one argument or flags.")
        nameless = self.write_json({"service": {"port": 80}})
        self.assertFails(self.run_cli("services", "register", nameless),
                         'Error registering service "": Unexpected response code: 400 '
                         "(Missing service name)")
        hcl = self.write_json('service { name = "web" }', suffix=".hcl")
        self.assertFails(self.run_cli("services", "register", hcl), "HCL is not supported yet")
        typo = self.write_json({"service": {"name": "web", "prot": 80}})
        self.assertFails(self.run_cli("services", "register", typo),
                         f"Error: failed to parse {typo}: invalid config key service.prot")
        proc = self.run_cli("services", "deregister", "-id=cli-no-such-service")
        self.assertFails(proc, 'Error deregistering service "": Unexpected response code: 404 (')

    def test_members(self):
        members = self.agent.get("/v1/agent/members").json()
        self.assertEqual(len(members), 1, members)
        m = members[0]
        self.assertEqual((m["Name"], m["Status"], m["Tags"]["role"]),
                         ("cli-agent-node", 1, "consul"))
        expected = columnize([
            ["Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition",
             "Segment"],
            [m["Name"], f"{m['Addr']}:{m['Port']}", "alive", "server",
             m["Tags"]["build"].split(":")[0], m["Tags"]["vsn"], m["Tags"]["dc"], "default",
             "<all>"]])
        self.assertOk(self.run_cli("members"), expected)
        self.assertOk(self.run_cli("members", "-status=alive"), expected)
        tags = dict(m["Tags"], partition="default", segment="<all>")
        self.assertOk(self.run_cli("members", "-detailed"), columnize([
            ["Node", "Address", "Status", "Tags"],
            [m["Name"], f"{m['Addr']}:{m['Port']}", "alive",
             ",".join(f"{k}={v}" for k, v in sorted(tags.items()))]]))

    def test_members_filters_and_wan(self):
        proc = self.run_cli("members", "-status=^failed$")
        self.assertEqual((proc.returncode, proc.out, proc.err), (2, "", ""))
        wan = self.run_cli("members", "-wan")
        self.assertEqual(wan.returncode, 0, wan.err)
        self.assertEqual([line.split()[0] for line in wan.out.splitlines()[1:]],
                         [f"{self.agent.node}.dc1"], "-dev is a server with a WAN pool")
        self.assertFails(self.run_cli("members", "-status=("), "Failed to compile status regexp")

    def test_maint_node(self):
        self.addCleanup(self.agent.put, "/v1/agent/maintenance?enable=false")
        self.assertOk(self.run_cli("maint"), "")
        self.assertOk(self.run_cli("maint", "-enable", "-reason", "kernel upgrade"),
                      "Node maintenance is now enabled\n")
        check = self.agent_checks().get("_node_maintenance")
        self.assertIsNotNone(check, self.agent_checks())
        self.assertEqual((check["Status"], check["Notes"]), ("critical", "kernel upgrade"))
        self.assertOk(self.run_cli("maint"),
                      "Node:\n  Name:   cli-agent-node\n  Reason: kernel upgrade\n\n")
        self.assertOk(self.run_cli("maint", "-disable"), "Node maintenance is now disabled\n")
        self.assertNotIn("_node_maintenance", self.agent_checks())
        self.assertOk(self.run_cli("maint"), "")

    def test_maint_service(self):
        self.deregister_later("cli-maint-1")
        self.assertOk(self.run_cli("services", "register", "-name=cli-maint", "-id=cli-maint-1"))
        self.assertOk(self.run_cli("maint", "-enable", "-service=cli-maint-1",
                                   "-reason=db migration"),
                      'Service maintenance is now enabled for "cli-maint-1"\n')
        self.assertOk(self.run_cli("maint"),
                      "Service:\n  ID:     cli-maint-1\n  Reason: db migration\n\n")
        check = self.agent_checks().get("_service_maintenance:cli-maint-1")
        self.assertIsNotNone(check, self.agent_checks())
        self.assertEqual((check["ServiceID"], check["Status"]), ("cli-maint-1", "critical"))
        self.assertOk(self.run_cli("maint", "-disable", "-service=cli-maint-1"),
                      'Service maintenance is now disabled for "cli-maint-1"\n')
        self.assertOk(self.run_cli("maint"), "")

    def test_maint_errors(self):
        self.assertFails(self.run_cli("maint", "-enable", "-disable"),
                         "Only one of -enable or -disable may be provided")
        self.assertFails(self.run_cli("maint", "-service=x"),
                         "Service requires either -enable or -disable")
        self.assertFails(self.run_cli("maint", "-enable", "-service=cli-no-such-service"),
                         "Error enabling service maintenance: Unexpected response code: 404 (")


if __name__ == "__main__":
    unittest.main()
