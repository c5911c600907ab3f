"""Every HTTP route of a server under ACLs with default_policy "deny": the endpoint-by-token
matrix.

What Consul promises and this checks: each endpoint's "ACL Required" rule (Consul's API
pages) is enforced. For every route a server registers (src/http/routes.cc and
src/http/gossip_routes.cc) and every method it takes, the table ROWS below says what the
request needs and how to make it succeed. Each row is sent three times:

  - with no token (the anonymous token, which grants nothing here): a check answers 403
    "Permission denied: token with AccessorID '...' lacks permission '<rule>' ...", a list
    answers 200 without what the row looks for and with X-Consul-Results-Filtered-By-ACLs;
  - with a token whose only rule is unrelated (key_prefix "unrelated/" write): the same;
  - for a write, with the row's rules at "read" instead of "write": the same;
  - with a token holding exactly the row's rules: success.

Routes that need no ACL (/v1/status/*, the datacenter lists) answer 200 to all three. A route
in the sources without a row fails the test, and so does a parsed route the running binary
does not serve (OPTIONS answers 200 with the methods for each), so the table and the router
cannot drift apart unnoticed.
"""

import json
import os
import re
import shutil
import tempfile
import unittest

from proconsul import Agent, wait_until
from test_cluster import CONVERGE_S

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROUTE_FILES = ["src/http/routes.cc", "src/http/gossip_routes.cc"]
MANAGEMENT = "9f1d7c52-5c4e-4b8e-9d0a-6a3e8c1f2b77"
NODE = "matrix-node"
KEY_1 = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
KEY_2 = "T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s="
UNRELATED = 'key_prefix "unrelated/" { policy = "write" }'
FILTERED = "X-Consul-Results-Filtered-By-ACLs"
# Stand-ins for the fixture values in a row's path, to name the row before fixtures exist.
PLACEHOLDERS = {k: f"<{k}>" for k in ("lan_port", "session", "doomed", "token", "policy",
                                      "role", "query", "doomed_query", "exec_query")}
# Sub-paths that one prefix route serves with rules of their own: each needs its own rows.
SUBPATHS = {"/v1/query/": ("/execute", "/explain")}
COORD = {"Vec": [0.001] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-5}


def parse_routes():
    """(path, method) for every router.add in the route sources."""
    routes = set()
    for name in ROUTE_FILES:
        with open(os.path.join(ROOT, name), encoding="utf-8") as f:
            text = f.read()
        for path, methods in re.findall(r'router\.add\(\s*"([^"]+)"\s*,\s*\{([^}]*)\}', text):
            for method in re.findall(r'"([A-Z]+)"', methods):
                routes.add((path, method))
    return routes


def route_of(path, routes):
    """The route pattern that serves `path`: the exact one, else the longest prefix route."""
    path = path.split("?", 1)[0]
    patterns = {p for p, _ in routes}
    if path in patterns:
        return path
    prefixes = [p for p in patterns if p.endswith("/") and path.startswith(p)]
    return max(prefixes, key=len) if prefixes else None


def route_key(path, routes):
    """(route, sub-path) for `path`: the sub-path is one of SUBPATHS' endings, else ""."""
    route = route_of(path, routes)
    bare = path.split("?", 1)[0]
    for suffix in SUBPATHS.get(route, ()):
        if bare.endswith(suffix):
            return route, suffix
    return route, ""


def rule(kind, name, level):
    return f'{kind} "{name}" {{ policy = "{level}" }}'


class Row:
    """One request: method, path (a str, or a function of the fixture dict), the rules a token
    needs, the body, and the kind of answer: "deny" (403 without the rules), "filter" (200,
    filtered, without the rules; `sees` tells whether the answer shows the protected thing),
    "open" (no ACL), "txn" (409 with the denial among the transaction's errors). `setup` runs with the management token first; `passes` says what success
    is when the request can pass the ACL check yet not succeed on one server (a Raft peer
    removal): any answer but 403."""

    def __init__(self, method, path, rules, kind="deny", body=None, setup=None, sees=None,
                 passes=None, filtered_status=200):
        self.method = method
        self.path = path
        self.rules = rules
        self.kind = kind
        self.body = body
        self.setup = setup
        self.sees = sees
        self.passes = passes
        self.filtered_status = filtered_status


def rows():
    node_read = [rule("node", NODE, "read")]
    node_write = [rule("node", NODE, "write")]
    web_read = [rule("service", "web", "read")]
    web_write = [rule("service", "web", "write")]
    acl_read = ['acl = "read"']
    acl_write = ['acl = "write"']
    op_read = ['operator = "read"']
    op_write = ['operator = "write"']
    has_node = lambda b, fx: any(m.get("Name", m.get("Node")) == NODE for m in b)
    # A catalog row names its service in ServiceName, a health row in Service.Service.
    has_web = lambda b, fx: any(
        (e.get("ServiceName") or e.get("Service", {}).get("Service")) == "web" for e in b)
    sessions = lambda b, fx: any(s["ID"] == fx["session"] for s in b)
    not_empty = lambda b, fx: len(b) > 0

    out = [
        # --- the agent's own endpoints ---
        Row("GET", "/v1/agent/self", [rule("agent", NODE, "read")]),
        # The DNS token only: setting the default token would change every other row.
        Row("PUT", "/v1/agent/token/dns", [rule("agent", NODE, "write")], body={"Token": ""}),
        Row("GET", "/v1/agent/services", web_read, "filter", sees=lambda b, fx: "web" in b),
        Row("GET", "/v1/agent/checks", web_read, "filter",
            sees=lambda b, fx: "web-ttl" in b),
        Row("PUT", "/v1/agent/service/register", [rule("service", "web2", "write")],
            body={"Name": "web2", "ID": "web2", "Port": 81}),
        Row("PUT", "/v1/agent/service/deregister/web3", [rule("service", "web3", "write")],
            setup=lambda t: t.agent_service("web3")),
        Row("GET", "/v1/agent/service/deregister/web4", [rule("service", "web4", "write")],
            setup=lambda t: t.agent_service("web4")),
        Row("PUT", "/v1/agent/service/maintenance/web?enable=false", web_write),
        Row("GET", "/v1/agent/service/web", web_read),
        Row("PUT", "/v1/agent/check/register", node_write,
            body={"ID": "node-ttl", "Name": "node-ttl", "TTL": "600s"}),
        Row("PUT", "/v1/agent/check/deregister/node-a", node_write,
            setup=lambda t: t.node_check("node-a")),
        Row("GET", "/v1/agent/check/deregister/node-b", node_write,
            setup=lambda t: t.node_check("node-b")),
        Row("PUT", "/v1/agent/check/pass/web-ttl", web_write),
        Row("GET", "/v1/agent/check/pass/web-ttl", web_write),
        Row("PUT", "/v1/agent/check/warn/web-ttl", web_write),
        Row("GET", "/v1/agent/check/warn/web-ttl", web_write),
        Row("PUT", "/v1/agent/check/fail/web-ttl", web_write),
        Row("GET", "/v1/agent/check/fail/web-ttl", web_write),
        Row("PUT", "/v1/agent/check/update/web-ttl", web_write,
            body={"Status": "passing", "Output": "ok"}),
        Row("PUT", "/v1/agent/maintenance?enable=false", node_write),
        Row("GET", "/v1/agent/members", node_read, "filter", sees=has_node),
        Row("PUT", lambda fx: f"/v1/agent/join/127.0.0.1:{fx['lan_port']}",
            [rule("agent", NODE, "write")]),
        Row("GET", lambda fx: f"/v1/agent/join/127.0.0.1:{fx['lan_port']}",
            [rule("agent", NODE, "write")]),
        # Reads the agent's configuration files again (they define nothing to change here).
        Row("PUT", "/v1/agent/reload", [rule("agent", NODE, "write")]),
        # The right token's leave stops the agent: test_matrix sends it last.
        Row("PUT", "/v1/agent/leave", [rule("agent", NODE, "write")]),
        Row("PUT", "/v1/agent/force-leave/ghost-node", op_write,
            passes=lambda r: r.status != 403),
        Row("GET", "/v1/agent/force-leave/ghost-node", op_write,
            passes=lambda r: r.status != 403),
        # --- KV and transactions ---
        Row("GET", "/v1/kv/matrix/a", [rule("key", "matrix/a", "read")],
            setup=lambda t: t.mgmt("PUT", "/v1/kv/matrix/a", "v")),
        Row("PUT", "/v1/kv/matrix/a", [rule("key", "matrix/a", "write")], body="w"),
        Row("DELETE", "/v1/kv/matrix/b", [rule("key", "matrix/b", "write")],
            setup=lambda t: t.mgmt("PUT", "/v1/kv/matrix/b", "v")),
        # A transaction answers a denied operation among its errors, with 409 (Consul's).
        Row("PUT", "/v1/txn", [rule("key", "matrix/a", "read")], "txn",
            body=[{"KV": {"Verb": "get", "Key": "matrix/a"}}]),
        # --- sessions ---
        Row("PUT", "/v1/session/create", [rule("session", NODE, "write")],
            body={"Name": "m", "Checks": []}),
        Row("PUT", lambda fx: f"/v1/session/destroy/{fx['doomed']}",
            [rule("session", NODE, "write")]),
        Row("PUT", lambda fx: f"/v1/session/renew/{fx['session']}",
            [rule("session", NODE, "write")]),
        Row("GET", lambda fx: f"/v1/session/info/{fx['session']}",
            [rule("session", NODE, "read")], "filter", sees=sessions),
        Row("GET", f"/v1/session/node/{NODE}", [rule("session", NODE, "read")], "filter",
            sees=sessions),
        Row("GET", "/v1/session/list", [rule("session", NODE, "read")], "filter",
            sees=sessions),
        # --- catalog ---
        Row("PUT", "/v1/catalog/register",
            [rule("node", "ext-node", "write"), rule("service", "ext", "write")],
            body={"Node": "ext-node", "Address": "10.0.0.1",
                  "Service": {"Service": "ext", "ID": "ext", "Port": 80}}),
        Row("PUT", "/v1/catalog/deregister", [rule("service", "gone", "write")],
            body={"Node": "gone-node", "ServiceID": "gone"},
            setup=lambda t: t.mgmt("PUT", "/v1/catalog/register", {
                "Node": "gone-node", "Address": "10.0.0.2",
                "Service": {"Service": "gone", "ID": "gone"}})),
        Row("GET", "/v1/catalog/datacenters", [], "open"),
        # Consul requires no ACL for the replication status.
        Row("GET", "/v1/acl/replication", [], "open"),
        Row("GET", "/v1/catalog/services", web_read, "filter",
            sees=lambda b, fx: "web" in b),
        Row("GET", "/v1/catalog/service/web", node_read + web_read, "filter", sees=has_web),
        Row("GET", "/v1/catalog/nodes", node_read, "filter", sees=has_node),
        Row("GET", f"/v1/catalog/node/{NODE}", node_read, "filter",
            sees=lambda b, fx: b is not None and b["Node"]["Node"] == NODE),
        Row("GET", f"/v1/catalog/node-services/{NODE}", node_read, "filter",
            sees=lambda b, fx: b["Node"] is not None),
        # --- health ---
        Row("GET", f"/v1/health/node/{NODE}", node_read, "filter", sees=not_empty),
        Row("GET", "/v1/health/checks/web", node_read + web_read, "filter", sees=not_empty),
        Row("GET", "/v1/health/service/web", node_read + web_read, "filter", sees=has_web),
        Row("GET", "/v1/health/state/any", node_read, "filter", sees=not_empty),
        # --- coordinates ---
        Row("GET", "/v1/coordinate/datacenters", [], "open"),
        Row("GET", "/v1/coordinate/nodes", node_read, "filter", sees=has_node),
        Row("GET", f"/v1/coordinate/node/{NODE}", node_read, "filter", sees=has_node,
            filtered_status=404),
        Row("PUT", "/v1/coordinate/update", node_write,
            body={"Node": NODE, "Segment": "", "Coord": COORD}),
        # --- status: open ---
        Row("GET", "/v1/status/leader", [], "open"),
        Row("GET", "/v1/status/peers", [], "open"),
        # --- operator ---
        Row("GET", "/v1/operator/raft/configuration", op_read),
        # One server cannot lose a peer or hand leadership over: past the ACL check these
        # fail for that reason, not with a 403.
        Row("DELETE", "/v1/operator/raft/peer?address=127.0.0.9:8300", op_write,
            passes=lambda r: r.status != 403),
        Row("POST", "/v1/operator/raft/transfer-leader", op_write,
            passes=lambda r: r.status != 403),
        Row("GET", "/v1/operator/autopilot/health", op_read),
        Row("GET", "/v1/operator/autopilot/configuration", op_read),
        # Past the check, updates answer 501 until autopilot configuration is writable.
        Row("PUT", "/v1/operator/autopilot/configuration", op_write,
            body={"CleanupDeadServers": True}, passes=lambda r: r.status != 403),
        Row("GET", "/v1/operator/keyring", ['keyring = "read"']),
        Row("POST", "/v1/operator/keyring", ['keyring = "write"'], body={"Key": KEY_2}),
        Row("PUT", "/v1/operator/keyring", ['keyring = "write"'], body={"Key": KEY_1}),
        Row("DELETE", "/v1/operator/keyring", ['keyring = "write"'], body={"Key": KEY_2}),
        # --- user events ---
        Row("PUT", "/v1/event/fire/deploy", [rule("event", "deploy", "write")], body="p"),
        Row("GET", "/v1/event/list", [rule("event", "deploy", "read")], "filter",
            sees=lambda b, fx: any(e["Name"] == "deploy" for e in b),
            setup=lambda t: t.mgmt("PUT", "/v1/event/fire/deploy", "x")),
        # --- ACLs ---
        Row("PUT", "/v1/acl/bootstrap", [], "bootstrapped"),
        Row("PUT", "/v1/acl/token", acl_write, body={"Description": "matrix"}),
        Row("GET", "/v1/acl/token/self", [], "self"),
        Row("GET", lambda fx: f"/v1/acl/token/{fx['token']}", acl_read),
        Row("PUT", lambda fx: f"/v1/acl/token/{fx['token']}", acl_write,
            body={"Description": "updated"}),
        Row("DELETE", lambda fx: f"/v1/acl/token/{fx['token']}", acl_write),
        Row("GET", "/v1/acl/tokens", acl_read),
        Row("PUT", "/v1/acl/policy", acl_write, body={"Name": "matrix-new", "Rules": ""}),
        Row("GET", "/v1/acl/policy/name/matrix-p", acl_read),
        Row("GET", lambda fx: f"/v1/acl/policy/{fx['policy']}", acl_read),
        Row("PUT", lambda fx: f"/v1/acl/policy/{fx['policy']}", acl_write,
            body={"Name": "matrix-p", "Rules": 'key "x" { policy = "read" }'}),
        Row("DELETE", lambda fx: f"/v1/acl/policy/{fx['policy']}", acl_write),
        Row("GET", "/v1/acl/policies", acl_read),
        Row("PUT", "/v1/acl/role", acl_write, body={"Name": "matrix-new-role"}),
        Row("GET", "/v1/acl/role/name/matrix-r", acl_read),
        Row("GET", lambda fx: f"/v1/acl/role/{fx['role']}", acl_read),
        Row("PUT", lambda fx: f"/v1/acl/role/{fx['role']}", acl_write,
            body={"Name": "matrix-r", "Description": "updated"}),
        Row("DELETE", lambda fx: f"/v1/acl/role/{fx['role']}", acl_write),
        Row("GET", "/v1/acl/roles", acl_read),
        # --- prepared queries (query:read / query:write on the query's name) ---
        Row("POST", "/v1/query", [rule("query", "mq-new", "write")],
            body={"Name": "mq-new", "Service": {"Service": "web"}}),
        Row("GET", "/v1/query", [rule("query", "mq", "read")], "filter",
            sees=lambda b, fx: any(q["ID"] == fx["query"] for q in b)),
        Row("GET", lambda fx: f"/v1/query/{fx['query']}", [rule("query", "mq", "read")]),
        Row("PUT", lambda fx: f"/v1/query/{fx['query']}", [rule("query", "mq", "write")],
            body={"Name": "mq", "Service": {"Service": "web"}}),
        Row("DELETE", lambda fx: f"/v1/query/{fx['doomed_query']}",
            [rule("query", "mq-doomed", "write")]),
        # Execution needs no query rule (Consul's): the instances are filtered with the
        # query's token, else the caller's, by node:read and service:read.
        Row("GET", lambda fx: f"/v1/query/{fx['exec_query']}/execute",
            [rule("node", "q-node", "read"), rule("service", "qsvc", "read")], "filter",
            sees=lambda b, fx: any(n["Service"]["Service"] == "qsvc" for n in b["Nodes"])),
        Row("GET", lambda fx: f"/v1/query/{fx['query']}/explain", [rule("query", "mq", "read")]),
    ]
    return out


class AclMatrixTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-acl-matrix-")
        self.addCleanup(shutil.rmtree, self.root, True)
        config = os.path.join(self.root, "acl.json")
        with open(config, "w", encoding="utf-8") as out:
            json.dump({"encrypt": KEY_1,
                       "acl": {"enabled": True, "default_policy": "deny",
                               "tokens": {"initial_management": MANAGEMENT}}}, out)
        self.agent = Agent(node=NODE, extra_args=["-config-file", config])
        self.addCleanup(self.agent.stop)
        self.agent.start()
        self.routes = parse_routes()
        self.fx = {}

    # --- helpers ---
    def until(self, what, fn):
        return wait_until(fn, CONVERGE_S, interval_s=0.2, message=what)

    def send(self, method, path, body=None, token=None):
        headers = {"X-Consul-Token": token} if token else {}
        return self.agent.request(method, path, body=body, headers=headers)

    def mgmt(self, method, path, body=None):
        resp = self.send(method, path, body, MANAGEMENT)
        self.assertLess(resp.status, 300, f"{method} {path}: {resp.text}")
        return resp

    def agent_service(self, name):
        self.mgmt("PUT", "/v1/agent/service/register", {"Name": name, "ID": name})

    def node_check(self, check_id):
        self.mgmt("PUT", "/v1/agent/check/register", {"ID": check_id, "Name": check_id,
                                                      "TTL": "600s"})

    def token_for(self, rules):
        """A token whose one policy holds exactly `rules` (cached per rule set)."""
        key = "\n".join(rules)
        cache = self.fx.setdefault("tokens", {})
        if key not in cache:
            name = f"matrix-{len(cache)}"
            self.mgmt("PUT", "/v1/acl/policy", {"Name": name, "Rules": key})
            token = self.mgmt("PUT", "/v1/acl/token", {"Description": name,
                                                       "Policies": [{"Name": name}]}).json()
            cache[key] = token["SecretID"]
        return cache[key]

    def fixtures(self):
        """What the rows act on, made with the management token."""
        self.until("the management token works", lambda: self.send(
            "GET", "/v1/acl/token/self", token=MANAGEMENT).status == 200)
        self.until(f"{NODE} is in the catalog", lambda: self.send(
            "GET", f"/v1/catalog/node/{NODE}", token=MANAGEMENT).json())
        self.mgmt("PUT", "/v1/agent/service/register", {
            "Name": "web", "ID": "web", "Port": 80,
            "Check": {"CheckID": "web-ttl", "Name": "web-ttl", "TTL": "600s"}})
        self.fx["lan_port"] = self.mgmt("GET", "/v1/agent/self").json()["Member"]["Port"]
        self.fx["session"] = self.mgmt("PUT", "/v1/session/create", {"Checks": []}).json()["ID"]
        self.fx["doomed"] = self.mgmt("PUT", "/v1/session/create", {"Checks": []}).json()["ID"]
        self.mgmt("PUT", "/v1/coordinate/update", {"Node": NODE, "Coord": COORD})
        self.until("the coordinate is stored", lambda: self.send(
            "GET", f"/v1/coordinate/node/{NODE}", token=MANAGEMENT).status == 200)
        self.fx["token"] = self.mgmt("PUT", "/v1/acl/token", {"Description": "t"}).json()[
            "AccessorID"]
        self.fx["policy"] = self.mgmt("PUT", "/v1/acl/policy", {"Name": "matrix-p"}).json()["ID"]
        self.fx["role"] = self.mgmt("PUT", "/v1/acl/role", {"Name": "matrix-r"}).json()["ID"]
        self.fx["query"] = self.mgmt("POST", "/v1/query", {
            "Name": "mq", "Service": {"Service": "web"}}).json()["ID"]
        self.fx["doomed_query"] = self.mgmt("POST", "/v1/query", {
            "Name": "mq-doomed", "Service": {"Service": "web"}}).json()["ID"]
        # An instance without checks, so execution has a healthy one to show or filter.
        self.mgmt("PUT", "/v1/catalog/register", {
            "Node": "q-node", "Address": "10.0.0.3",
            "Service": {"Service": "qsvc", "ID": "qsvc", "Port": 80}})
        self.fx["exec_query"] = self.mgmt("POST", "/v1/query", {
            "Name": "mq-exec", "Service": {"Service": "qsvc"}}).json()["ID"]

    # --- the checks of one row ---
    def expect_refused(self, row, path, resp, who):
        where = f"{row.method} {path} with {who}"
        if row.kind == "deny":
            self.assertEqual(resp.status, 403, f"{where}: {resp.text}")
            self.assertTrue(resp.text.startswith("Permission denied"), f"{where}: {resp.text}")
            self.assertIn("lacks permission", resp.text, where)
        elif row.kind == "filter":
            self.assertEqual(resp.status, row.filtered_status, f"{where}: {resp.text}")
            self.assertEqual(resp.header(FILTERED), "true", f"{where}: {resp.text}")
            if row.filtered_status == 200:
                self.assertFalse(row.sees(resp.json(), self.fx), f"{where}: {resp.text}")
        elif row.kind == "txn":
            self.assertEqual(resp.status, 409, f"{where}: {resp.text}")
            errors = resp.json()["Errors"]
            self.assertTrue(errors and "lacks permission" in errors[0]["What"], where)
        elif row.kind == "open":
            self.assertEqual(resp.status, 200, f"{where}: {resp.text}")
        elif row.kind == "bootstrapped":
            self.assertEqual(resp.status, 403, f"{where}: {resp.text}")
            self.assertIn("ACL bootstrap no longer allowed", resp.text, where)

    def expect_allowed(self, row, path, resp):
        where = f"{row.method} {path} with {row.rules}"
        if row.passes is not None:
            self.assertTrue(row.passes(resp), f"{where}: {resp.status} {resp.text}")
            return
        if row.kind == "bootstrapped":
            return self.expect_refused(row, path, resp, "a token")
        self.assertTrue(200 <= resp.status < 300, f"{where}: {resp.status} {resp.text}")
        if row.kind == "filter":
            self.assertTrue(row.sees(resp.json(), self.fx), f"{where}: {resp.text}")

    def run_row(self, row, send_allowed=True):
        if row.setup:
            row.setup(self)
        path = row.path(self.fx) if callable(row.path) else row.path
        if row.kind == "self":
            # Any token reads itself; without one the anonymous token is read.
            secret = self.token_for([UNRELATED])
            resp = self.send(row.method, path, token=secret)
            self.assertEqual(resp.status, 200, resp.text)
            self.assertEqual(resp.json()["SecretID"], secret)
            return path
        self.expect_refused(row, path, self.send(row.method, path, row.body), "no token")
        self.expect_refused(row, path, self.send(row.method, path, row.body,
                                                 self.token_for([UNRELATED])), "an unrelated rule")
        if row.kind == "deny" and any('"write"' in r for r in row.rules):
            # A near miss: the same rules at read are not enough to write.
            near = [r.replace('"write"', '"read"') for r in row.rules]
            self.expect_refused(row, path, self.send(row.method, path, row.body,
                                                     self.token_for(near)), f"{near}")
        if send_allowed:
            token = self.token_for(row.rules) if row.rules else self.token_for([UNRELATED])
            self.expect_allowed(row, path, self.send(row.method, path, row.body, token))
        return path

    # --- the tests ---
    def test_the_table_covers_every_route_the_binary_serves(self):
        self.assertGreater(len(self.routes), 60, "the route sources no longer parse")
        # Each parsed route is one the running server serves with those methods.
        by_path = {}
        for path, method in self.routes:
            by_path.setdefault(path, set()).add(method)
        for path, methods in sorted(by_path.items()):
            probe = path + "x" if path.endswith("/") else path
            resp = self.send("OPTIONS", probe)
            self.assertEqual(resp.status, 200, f"OPTIONS {probe}: {resp.text}")
            allow = set(resp.header("Allow", "").split(","))
            self.assertEqual(allow - {"OPTIONS"}, methods, f"OPTIONS {probe}")
        covered = set()
        for row in rows():
            path = row.path(PLACEHOLDERS) if callable(row.path) else row.path
            route, sub = route_key(path, self.routes)
            self.assertIsNotNone(route, f"row {row.method} {path} matches no route")
            self.assertIn((route, row.method), self.routes, f"row {row.method} {path}")
            covered.add((route, sub, row.method))
        # Every route and method, and each sub-path of SUBPATHS with GET, wants a row.
        wanted = {(p, "", m) for p, m in self.routes}
        wanted |= {(p, sub, "GET") for p, subs in SUBPATHS.items() for sub in subs}
        missing = sorted(wanted - covered)
        self.assertEqual(missing, [], "routes without a row in the ACL matrix")

    def test_matrix(self):
        self.fixtures()
        leave = None
        for row in rows():
            if row.path == "/v1/agent/leave":
                leave = row
                self.run_row(row, send_allowed=False)
                continue
            label = row.path(PLACEHOLDERS) if callable(row.path) else row.path
            with self.subTest(method=row.method, path=label):
                self.run_row(row)
        # Last: the right token's leave, after which this agent stops.
        token = self.token_for(leave.rules)
        resp = self.send("PUT", "/v1/agent/leave", token=token)
        self.assertEqual(resp.status, 200, resp.text)

    def test_denial_text_names_the_accessor_and_the_rule(self):
        self.fixtures()
        secret = self.token_for([UNRELATED])
        accessor = self.send("GET", "/v1/acl/token/self", token=secret).json()["AccessorID"]
        resp = self.send("PUT", "/v1/session/create", {"Checks": []}, secret)
        self.assertEqual(resp.status, 403)
        self.assertEqual(resp.text, f"Permission denied: token with AccessorID '{accessor}' "
                         f"lacks permission 'session:write' on \"{NODE}\"")
        resp = self.send("GET", "/v1/operator/keyring", token=secret)
        self.assertEqual(resp.text, f"Permission denied: token with AccessorID '{accessor}' "
                         "lacks permission 'keyring:read'")

    def test_responses_state_the_configured_default_policy(self):
        # Consul's X-Consul-Default-ACL-Policy carries acl.default_policy, on denials too.
        self.until("the management token works", lambda: self.send(
            "GET", "/v1/acl/token/self", token=MANAGEMENT).status == 200)
        for secret in (None, self.token_for([UNRELATED])):
            for path in ("/v1/status/leader", "/v1/catalog/services", "/v1/agent/self"):
                resp = self.send("GET", path, token=secret)
                self.assertEqual(resp.header("X-Consul-Default-ACL-Policy"), "deny",
                                 f"{path}: {resp.status}")


if __name__ == "__main__":
    unittest.main()
