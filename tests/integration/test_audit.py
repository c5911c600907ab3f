"""The audit log on a -dev agent with ACLs on (Consul Enterprise's `audit` stanza).

What Consul documents and this checks: every HTTP request resolved to a token gives two JSON
lines with one payload id, stage "OperationStart" then "OperationComplete"; the payload names
the token by accessor id (with its description), the method, the path, the query parameters
and the remote address, and the completion carries the response status ("200", "403", ...).
The token's secret appears nowhere in the files, however it was sent (X-Consul-Token,
Authorization: Bearer or ?token=). A blocking read completes when it is answered. Files are
named <name>-<unix ns>.json beside the configured path; a sink with rotate_bytes rotates
before a file would pass it and keeps at most rotate_max_files old files; SIGHUP starts new
files. A bad audit block stops the agent at start with an error naming the sink and key.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from proconsul import Agent, binary_path, wait_until

ROOT_SECRET = "9f3c5e55-6d7a-4bb4-8d0e-2f1c7f0a1c01"
SMALL_ROTATE_BYTES = 4096
SMALL_MAX_FILES = 2
DEADLINE_S = 30.0


def sink_files(directory):
    """The sink's files, oldest first (their names carry the creation time)."""
    found = glob.glob(os.path.join(directory, "audit-*.json"))
    return sorted(found, key=lambda p: int(re.search(r"audit-(\d+)\.json$", p).group(1)))


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def events_in(directory):
    events = []
    for path in sink_files(directory):
        with open(path, encoding="utf-8") as f:
            for line in f:
                events.append(json.loads(line))
    return events


class AuditLogTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-audit-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.main_dir = os.path.join(self.root, "main")
        self.small_dir = os.path.join(self.root, "small")
        config = {
            "acl": {"enabled": True, "default_policy": "deny",
                    "tokens": {"initial_management": ROOT_SECRET}},
            "audit": {"enabled": True, "sink": {
                "main": {"type": "file", "format": "json", "delivery_guarantee": "best-effort",
                         "path": os.path.join(self.main_dir, "audit.json"),
                         "rotate_duration": "24h"},
                "small": {"type": "file", "format": "json",
                          "path": os.path.join(self.small_dir, "audit.json"),
                          "rotate_bytes": SMALL_ROTATE_BYTES,
                          "rotate_max_files": SMALL_MAX_FILES},
            }},
        }
        self.config_file = os.path.join(self.root, "config.json")
        with open(self.config_file, "w", encoding="utf-8") as out:
            json.dump(config, out)
        self.agent = Agent("audit-node", ["-config-file", self.config_file])
        self.addCleanup(self.agent.stop)
        self.agent.start()
        self.root_headers = {"X-Consul-Token": ROOT_SECRET}
        # The leader creates the management token from the configuration shortly after start.
        wait_until(lambda: self.agent.get("/v1/acl/token/self",
                                          headers=self.root_headers).status == 200,
                   DEADLINE_S, message="the initial management token")

    def make_token(self):
        policy = self.agent.put("/v1/acl/policy", body={
            "Name": "app-writer", "Rules": 'key_prefix "app/" { policy = "write" }'},
            headers=self.root_headers)
        self.assertEqual(policy.status, 200, policy.text)
        token = self.agent.put("/v1/acl/token", body={
            "Description": "app <writer> token", "Policies": [{"Name": "app-writer"}]},
            headers=self.root_headers)
        self.assertEqual(token.status, 200, token.text)
        return token.json()

    def completed_pairs(self, directory, endpoint, count):
        """The (start, completion) pairs for `endpoint`, once `count` of them are complete."""
        def pairs():
            by_id = {}
            for e in events_in(directory):
                p = e["payload"]
                if p["request"]["endpoint"] == endpoint:
                    by_id.setdefault(p["id"], []).append(e)
            done = [v for v in by_id.values() if len(v) == 2]
            return done if len(done) >= count else None
        return wait_until(pairs, DEADLINE_S, interval_s=0.1,
                          message=f"{count} audited {endpoint} requests")

    def test_each_request_logs_start_and_completion_without_the_secret(self):
        token = self.make_token()
        accessor, secret = token["AccessorID"], token["SecretID"]
        put = self.agent.put("/v1/kv/app/one", body="v1", headers={"X-Consul-Token": secret})
        self.assertEqual(put.status, 200, put.text)
        denied = self.agent.put(f"/v1/kv/other/one?token={secret}&cas=0", body="v")
        self.assertEqual(denied.status, 403, denied.text)
        got = self.agent.get("/v1/kv/app/one", headers={"Authorization": f"Bearer {secret}"})
        self.assertEqual(got.status, 200, got.text)
        index = got.index
        # A blocking read that times out: completed when answered, with its status.
        started = time.monotonic()
        blocked = self.agent.get(f"/v1/kv/app/one?index={index}&wait=1s",
                                 headers={"X-Consul-Token": secret})
        self.assertEqual(blocked.status, 200, blocked.text)
        self.assertGreaterEqual(time.monotonic() - started, 0.9)

        [(start, done)] = self.completed_pairs(self.main_dir, "/v1/kv/other/one", 1)
        self.assertEqual(start["payload"]["stage"], "OperationStart")
        self.assertEqual(done["payload"]["stage"], "OperationComplete")
        self.assertEqual(done["payload"]["response"], {"status": "403"})
        self.assertNotIn("response", start["payload"])
        for e in (start, done):
            self.assertEqual(e["event_type"], "audit")
            p = e["payload"]
            self.assertEqual(p["type"], "HTTPEvent")
            self.assertEqual(p["auth"]["accessor_id"], accessor)
            self.assertEqual(p["auth"]["description"], "app <writer> token")
            self.assertEqual(p["request"]["operation"], "PUT")
            self.assertEqual(p["request"]["query_params"], {"cas": ["0"]})  # ?token= left out
            self.assertRegex(p["request"]["remote_addr"], r"^127\.0\.0\.1:\d+$")
            self.assertEqual(p["request"]["host"], self.agent.http_addr)
            self.assertRegex(e["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

        pairs = self.completed_pairs(self.main_dir, "/v1/kv/app/one", 3)
        statuses = sorted((p[0]["payload"]["request"]["operation"],
                           p[1]["payload"]["response"]["status"]) for p in pairs)
        self.assertEqual(statuses, [("GET", "200"), ("GET", "200"), ("PUT", "200")])
        for start, done in pairs:
            self.assertEqual(start["payload"]["id"], done["payload"]["id"])
            self.assertEqual(done["payload"]["auth"]["accessor_id"], accessor)
        blocking = [p for p in pairs
                    if "index" in p[0]["payload"]["request"].get("query_params", {})]
        self.assertEqual(len(blocking), 1)

        # The management token's requests name its accessor, and no file holds either secret.
        [(mgmt, _)] = self.completed_pairs(self.main_dir, "/v1/acl/token", 1)
        root_accessor = self.agent.get("/v1/acl/token/self",
                                       headers=self.root_headers).json()["AccessorID"]
        self.assertEqual(mgmt["payload"]["auth"]["accessor_id"], root_accessor)
        for directory in (self.main_dir, self.small_dir):
            for path in sink_files(directory):
                text = read_text(path)
                self.assertNotIn(secret, text, path)
                self.assertNotIn(ROOT_SECRET, text, path)
        self.assertEqual(len(sink_files(self.main_dir)), 1)

    def test_rotate_bytes_and_max_files_and_sighup(self):
        for i in range(40):
            resp = self.agent.put(f"/v1/kv/app/k{i}", body="x", headers=self.root_headers)
            self.assertEqual(resp.status, 200, resp.text)
        self.completed_pairs(self.main_dir, "/v1/kv/app/k39", 1)
        # The small sink wrote the same events, several files' worth, and kept the newest.
        wait_until(lambda: any('"/v1/kv/app/k39"' in read_text(p)
                               and "OperationComplete" in read_text(p)
                               for p in sink_files(self.small_dir)),
                   DEADLINE_S, message="the last request in the small sink")
        files = sink_files(self.small_dir)
        self.assertEqual(len(files), SMALL_MAX_FILES + 1, files)
        for path in files:
            size = os.path.getsize(path)
            self.assertLessEqual(size, SMALL_ROTATE_BYTES, path)
            self.assertGreater(size, 0, path)
            with open(path, encoding="utf-8") as f:
                for line in f:
                    json.loads(line)
        # The oldest requests were in files that are gone.
        small_ids = {e["payload"]["request"]["endpoint"] for e in events_in(self.small_dir)}
        self.assertNotIn("/v1/kv/app/k0", small_ids)
        self.assertEqual(len(sink_files(self.main_dir)), 1)

        os.kill(self.agent.proc.pid, signal.SIGHUP)
        wait_until(lambda: len(sink_files(self.main_dir)) == 2, DEADLINE_S,
                   message="a new main file after SIGHUP")
        resp = self.agent.get("/v1/kv/app/k1", headers=self.root_headers)
        self.assertEqual(resp.status, 200, resp.text)
        newest = sink_files(self.main_dir)[-1]
        wait_until(lambda: '"/v1/kv/app/k1"' in read_text(newest),
                   DEADLINE_S, message="the request after SIGHUP in the new file")


class AuditConfigErrorTest(unittest.TestCase):
    def test_bad_sink_stops_the_agent_with_the_reason(self):
        root = tempfile.mkdtemp(prefix="pc-audit-bad-")
        self.addCleanup(shutil.rmtree, root, True)
        path = os.path.join(root, "bad.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"acl": {"enabled": True}, "audit": {"enabled": True, "sink": {
                "s": {"type": "syslog", "format": "json", "path": "/tmp/x.json",
                      "rotate_bytes": 100}}}}, out)
        proc = subprocess.run([binary_path(), "agent", "-dev", "-http-port", "0", "-dns-port",
                               "0", "-config-file", path], capture_output=True, text=True,
                              timeout=DEADLINE_S)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn('audit.sink["s"].type: unknown sink type "syslog"',
                      proc.stdout + proc.stderr)


if __name__ == "__main__":
    unittest.main()
