"""Services and checks defined in the agent's configuration files, and reloading them.

What Consul promises and this checks: a `service` block in a file of -config-dir is
registered when the agent starts, with its check run and the catalog following; after the
file changes, `proconsul reload` (PUT /v1/agent/reload) or SIGHUP brings the registration up
to date, and a deleted file takes the service away; a file that does not parse makes the
reload fail with the error (exit 1, HTTP 500) while the agent keeps what it had; and an agent
whose files define a bad service refuses to start, naming the file and line. Services
registered through the API are left alone by every reload.
"""

import http.server
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest

from proconsul import Agent, binary_path, wait_until
from test_client_agent import ClientAgent
from test_cluster import ServerAgent, free_port

# Generous bounds: the machine is shared, and the check runs every second.
CONVERGE_S = 30.0
CLI_TIMEOUT_S = 30.0


class HealthHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass


def service_file(port, tags):
    tag_list = ", ".join(f'"{t}"' for t in tags)
    return (
        "service {\n"
        '  name = "web"\n'
        '  id = "web-1"\n'
        f"  port = {port}\n"
        f"  tags = [{tag_list}]\n"
        "  check {\n"
        f'    http = "http://127.0.0.1:{port}/health"\n'
        '    interval = "1s"\n'
        "  }\n"
        "}\n"
    )


class ConfigServicesTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-config-services-")
        self.conf = os.path.join(self.root, "conf.d")
        os.makedirs(self.conf)
        self.file = os.path.join(self.conf, "web.hcl")
        self.port = free_port()
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), HealthHandler)
        self.http_thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.http_thread.start()
        self.agent = None

    def tearDown(self):
        if self.agent is not None:
            self.agent.stop()
        self.http.shutdown()
        self.http.server_close()
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, text):
        with open(self.file, "w", encoding="utf-8") as out:
            out.write(text)

    def reload_cli(self):
        proc = subprocess.run([binary_path(), "reload", f"-http-addr={self.agent.http_addr}"],
                              capture_output=True, timeout=CLI_TIMEOUT_S)
        return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
                proc.stderr.decode("utf-8", "replace"))

    def catalog_tags(self):
        resp = self.agent.get("/v1/catalog/service/web")
        if resp.status != 200:
            return None
        rows = resp.json()
        return rows[0]["ServiceTags"] if rows else None

    def web_check_status(self):
        resp = self.agent.get("/v1/health/checks/web")
        rows = resp.json() if resp.status == 200 else []
        return rows[0]["Status"] if rows else None

    def test_files_register_reload_updates_and_removes(self):
        self.write(service_file(self.port, ["v1"]))
        self.agent = Agent(node="cfg-node", extra_args=["-config-dir", self.conf]).start()

        services = self.agent.get("/v1/agent/services").json()
        self.assertIn("web-1", services)
        self.assertEqual(services["web-1"]["Port"], self.port)
        self.assertEqual(services["web-1"]["Tags"], ["v1"])
        wait_until(lambda: self.catalog_tags() == ["v1"], CONVERGE_S, message="web in catalog")
        wait_until(lambda: self.web_check_status() == "passing", CONVERGE_S,
                   message="web's HTTP check passing")

        # Registered through the API: no reload may touch it.
        resp = self.agent.put("/v1/agent/service/register", {"Name": "api", "Port": 9})
        self.assertEqual(resp.status, 200, resp.text)

        self.write(service_file(self.port, ["v2"]))
        code, out, err = self.reload_cli()
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "Configuration reload triggered\n")
        self.assertEqual(self.agent.get("/v1/agent/services").json()["web-1"]["Tags"], ["v2"])
        wait_until(lambda: self.catalog_tags() == ["v2"], CONVERGE_S, message="v2 in catalog")
        wait_until(lambda: self.web_check_status() == "passing", CONVERGE_S,
                   message="web's check passing after the reload")

        # A broken file: the reload fails with the file and line, and nothing changes.
        self.write('service {\n  name = "web"\n  prot = 80\n}\n')
        code, out, err = self.reload_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("Error reloading: ", err)
        self.assertIn(f"Error parsing {self.file}: At 3:3: invalid config key service.prot", err)
        resp = self.agent.put("/v1/agent/reload")
        self.assertEqual(resp.status, 500)
        self.assertIn("invalid config key service.prot", resp.text)
        self.assertEqual(self.agent.get("/v1/agent/services").json()["web-1"]["Tags"], ["v2"])
        self.assertEqual(self.catalog_tags(), ["v2"])

        # The file gone: the service goes, from the agent and then the catalog.
        os.remove(self.file)
        code, out, err = self.reload_cli()
        self.assertEqual(code, 0, err)
        services = self.agent.get("/v1/agent/services").json()
        self.assertNotIn("web-1", services)
        self.assertIn("api", services)
        wait_until(lambda: self.catalog_tags() is None, CONVERGE_S, message="web deregistered")

        # SIGHUP reads the files too.
        self.write(service_file(self.port, ["v3"]))
        os.kill(self.agent.proc.pid, signal.SIGHUP)
        wait_until(lambda: self.catalog_tags() == ["v3"], CONVERGE_S, message="v3 after SIGHUP")
        self.assertIn("api", self.agent.get("/v1/agent/services").json())

    def test_a_bad_definition_stops_the_start(self):
        self.write('service {\n  port = 80\n}\n')
        agent = Agent(node="cfg-bad", extra_args=["-config-dir", self.conf])
        proc = subprocess.run(agent.command(), capture_output=True, timeout=CLI_TIMEOUT_S)
        self.assertNotEqual(proc.returncode, 0)
        output = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        self.assertIn(f"Error parsing {self.file}: At 1:9: service: Missing service name", output)

    def test_script_checks_from_files_need_enable_local_script_checks(self):
        self.write('check {\n  name = "true"\n  args = ["/bin/true"]\n  interval = "1s"\n}\n')
        agent = Agent(node="cfg-script", extra_args=["-config-dir", self.conf])
        proc = subprocess.run(agent.command(), capture_output=True, timeout=CLI_TIMEOUT_S)
        self.assertNotEqual(proc.returncode, 0)
        output = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        self.assertIn("Scripts are disabled on this agent", output)

        self.agent = Agent(node="cfg-script", extra_args=[
            "-config-dir", self.conf, "-enable-local-script-checks"]).start()
        wait_until(lambda: (self.agent.get("/v1/agent/checks").json().get("true", {})
                            .get("Status")) == "passing", CONVERGE_S,
                   message="the script check passing")
        # The API still refuses scripts without enable_script_checks.
        resp = self.agent.put("/v1/agent/check/register",
                              {"Name": "api-script", "Args": ["/bin/true"], "Interval": "1s"})
        self.assertEqual(resp.status, 500, resp.text)


class ClientConfigServicesTest(unittest.TestCase):
    """A client agent's config-file service reaches the servers' catalog by anti-entropy,
    and a reload of the client brings the catalog up to date."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-config-client-")
        self.addCleanup(shutil.rmtree, self.root, True)
        fast = os.path.join(self.root, "fast.json")
        with open(fast, "w", encoding="utf-8") as out:
            out.write('{"performance": {"raft_multiplier": 1}}')
        self.conf = os.path.join(self.root, "conf.d")
        os.makedirs(self.conf)
        self.file = os.path.join(self.conf, "db.json")
        # A TCP check needs only something listening.
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(self.listener.close)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.db_port = self.listener.getsockname()[1]
        server_port = free_port()
        server_dir = os.path.join(self.root, "s0")
        os.makedirs(server_dir)
        self.server = ServerAgent("cfg-server", server_dir, server_port, [], fast,
                                  bootstrap_expect=1)
        self.addCleanup(self.server.stop)
        self.server.start()
        wait_until(lambda: self.server.get("/v1/status/leader").json() != "", CONVERGE_S,
                   message="a leader")
        client_dir = os.path.join(self.root, "c0")
        self.client_dir = client_dir
        os.makedirs(client_dir)
        self.write(["v1"])
        self.server_port = server_port
        self.client = self.start_client()

    def start_client(self):
        client = ClientAgent("cfg-client", self.client_dir, [self.server_port])
        base_command = client.command
        client.command = lambda: base_command() + ["-config-dir", self.conf]
        self.addCleanup(client.stop)
        client.start()
        return client

    def write(self, tags):
        with open(self.file, "w", encoding="utf-8") as out:
            out.write('{"service": {"name": "db", "port": %d, "tags": %s, "check": '
                      '{"tcp": "127.0.0.1:%d", "interval": "1s"}}}'
                      % (self.db_port, str(tags).replace("'", '"'), self.db_port))

    def catalog_db(self):
        """(node, tags, check status) of db as the server's catalog and health have it."""
        rows = self.server.get("/v1/health/service/db").json()
        if not rows:
            return None
        row = rows[0]
        status = [c["Status"] for c in row["Checks"] if c["ServiceID"] == "db"]
        return row["Node"]["Node"], row["Service"]["Tags"], status

    def test_client_registers_and_reloads(self):
        wait_until(lambda: self.catalog_db() == ("cfg-client", ["v1"], ["passing"]), CONVERGE_S,
                   message="db from the client's files in the catalog, passing")
        self.write(["v2"])
        proc = subprocess.run([binary_path(), "reload", f"-http-addr={self.client.http_addr}"],
                              capture_output=True, timeout=CLI_TIMEOUT_S)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        wait_until(lambda: (self.catalog_db() or (None, None))[1] == ["v2"], CONVERGE_S,
                   message="db's new tags in the catalog")
        os.remove(self.file)
        resp = self.client.put("/v1/agent/reload")
        self.assertEqual(resp.status, 200, resp.text)
        wait_until(lambda: self.catalog_db() is None, CONVERGE_S, message="db deregistered")

    def test_file_services_are_not_kept_in_the_data_dir(self):
        # The files are their record: taken out of the files while the agent is down, a
        # service must not come back from the data directory (unlike an API registration).
        wait_until(lambda: self.catalog_db() == ("cfg-client", ["v1"], ["passing"]), CONVERGE_S,
                   message="db from the client's files in the catalog, passing")
        saved = os.path.join(self.client_dir, "services")
        self.assertEqual(os.listdir(saved) if os.path.isdir(saved) else [], [])
        self.client.stop()
        os.remove(self.file)
        self.client = self.start_client()
        self.assertNotIn("db", self.client.get("/v1/agent/services").json())
        wait_until(lambda: self.catalog_db() is None, CONVERGE_S,
                   message="db gone from the catalog after the restart")


if __name__ == "__main__":
    unittest.main()
