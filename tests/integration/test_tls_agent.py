"""TLS on the agent's listeners, with certificates made by `proconsul tls ca create` and
`proconsul tls cert create`, as an operator would set it up.

What Consul promises and this checks:
- Server RPC (`tls.internal_rpc` with verify_incoming, verify_outgoing and
  verify_server_hostname): three servers and a client agent form a datacenter and serve KV
  over TLS; the RPC port answers a TLS handshake with a certificate naming
  server.dc1.consul; a plaintext connection and a TLS client without a certificate are
  refused, each with a logged reason; a server whose certificate names another datacenter
  (server.dc2.consul) is refused by the others, who log the hostname mismatch, while the
  datacenter keeps taking writes.
- HTTPS (`ports.https`, `tls.https`): the same API as HTTP, verified against the CA by
  Python's ssl module and by `proconsul kv` (-ca-file, -client-cert, -client-key and the
  CONSUL_HTTP_ADDR=https://... / CONSUL_CACERT / CONSUL_CLIENT_* environment); with
  https.verify_incoming a client without a certificate is refused.
- SIGHUP reloads the certificates: new HTTPS connections get the new certificate (its serial
  number) while a blocking query on a connection opened before the reload completes.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from proconsul import Agent, BackgroundCall, binary_path
from test_client_agent import ClientAgent
from test_cluster import CONVERGE_S, ServerAgent, free_port

CLI_TIMEOUT_S = 30.0
SOCKET_TIMEOUT_S = 10.0
HTTPS_PORT_RE = re.compile(r"HTTPS: (\d+)")


def make_certificates(directory):
    """A CA, four dc1 server certificates, one for dc2, a client and a CLI certificate."""
    def cli(*args):
        proc = subprocess.run([binary_path(), "tls"] + list(args), cwd=directory,
                              capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
        if proc.returncode != 0:
            raise AssertionError(f"tls {' '.join(args)}: {proc.stdout}{proc.stderr}")
    cli("ca", "create")
    for _ in range(4):
        cli("cert", "create", "-server")
    cli("cert", "create", "-server", "-dc", "dc2")
    cli("cert", "create", "-client")
    cli("cert", "create", "-cli")
    return lambda name: os.path.join(directory, name)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(value, out)
    return path


def https_port(agent):
    for line in agent.output():
        match = HTTPS_PORT_RE.search(line)
        if match and int(match.group(1)) > 0:
            return int(match.group(1))
    raise AssertionError(f"no HTTPS port in the banner\n{agent.output_tail(40)}")


def wait_for_line(agent, pattern, timeout_s=CONVERGE_S):
    """The first output line matching `pattern`, waiting for it."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in agent.output():
            if regex.search(line):
                return line
        time.sleep(0.1)
    raise AssertionError(f"no line matching {pattern!r}\n{agent.output_tail(60)}")


def tls_context(ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def https_request(port, ctx, method, path, body=None, timeout=SOCKET_TIMEOUT_S):
    """(status, body bytes, the server's certificate as getpeercert() gives it)."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        # The certificates name 127.0.0.1, which http.client checks as a browser would.
        conn.connect()
        cert = conn.sock.getpeercert()
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data, cert
    finally:
        conn.close()


class TlsClientAgent(ClientAgent):
    """A client agent with a configuration file (the TLS settings)."""

    def __init__(self, node, data_dir, servers, config_file):
        super().__init__(node, data_dir, servers)
        self.config_file = config_file

    def command(self):
        return super().command() + ["-config-file", self.config_file]


class TlsRpcClusterTest(unittest.TestCase):
    """Three servers and one client agent with internal RPC over verified TLS."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="pc-tls-agent-")
        cls.cert = staticmethod(make_certificates(cls.root))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def rpc_config(self, name, cert, key):
        return write_json(os.path.join(self.root, name), {
            "performance": {"raft_multiplier": 1},
            "tls": {
                "defaults": {"ca_file": self.cert("consul-agent-ca.pem"), "cert_file": cert,
                             "key_file": key, "verify_incoming": True,
                             "verify_outgoing": True},
                "internal_rpc": {"verify_server_hostname": True},
            }})

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="run-", dir=self.root)
        self.ports = [free_port() for _ in range(3)]
        self.servers = []
        for i, port in enumerate(self.ports):
            data_dir = os.path.join(self.work, f"s{i}")
            os.makedirs(data_dir)
            config = self.rpc_config(f"s{i}.json", self.cert(f"dc1-server-consul-{i}.pem"),
                                     self.cert(f"dc1-server-consul-{i}-key.pem"))
            peers = [p for p in self.ports if p != port]
            self.servers.append(ServerAgent(f"server-{i}", data_dir, port, peers, config))
        for server in self.servers:
            self.addCleanup(server.stop)
            server.start()
        self.wait_leader()

    def wait_leader(self):
        deadline = time.monotonic() + CONVERGE_S
        while time.monotonic() < deadline:
            leaders = [s.get("/v1/status/leader").json() for s in self.servers]
            if leaders[0] and all(l == leaders[0] for l in leaders):
                return leaders[0]
            time.sleep(0.1)
        self.fail("no leader over TLS\n" + "\n".join(s.output_tail(30) for s in self.servers))

    def put_until_ok(self, agent, key, value):
        deadline = time.monotonic() + CONVERGE_S
        resp = None
        while time.monotonic() < deadline:
            resp = agent.kv_put(key, value)
            if resp.status == 200:
                return
            time.sleep(0.1)
        self.fail(f"PUT {key} via {agent.node}: {resp!r}\n{agent.output_tail(40)}")

    def wait_value(self, agent, key, want):
        deadline = time.monotonic() + CONVERGE_S
        got = None
        while time.monotonic() < deadline:
            resp = agent.kv_get(key, {"raw": "", "stale": ""})
            got = (resp.status, resp.body)
            if got == (200, want):
                return
            time.sleep(0.1)
        self.fail(f"{agent.node}: {key} is {got}, want {want!r}")

    def test_cluster_and_client_serve_kv_over_tls(self):
        data_dir = os.path.join(self.work, "c0")
        os.makedirs(data_dir)
        config = self.rpc_config("c0.json", self.cert("dc1-client-consul-0.pem"),
                                 self.cert("dc1-client-consul-0-key.pem"))
        client = TlsClientAgent("client-0", data_dir, self.ports, config)
        self.addCleanup(client.stop)
        client.start()
        self.put_until_ok(client, "tls/hello", b"world")
        for server in self.servers:
            self.wait_value(server, "tls/hello", b"world")
        self.put_until_ok(self.servers[1], "tls/back", b"again")
        self.wait_value(client, "tls/back", b"again")

        # The RPC port speaks TLS, with a certificate for server.dc1.consul.
        ctx = tls_context(self.cert("consul-agent-ca.pem"), self.cert("dc1-client-consul-0.pem"),
                          self.cert("dc1-client-consul-0-key.pem"))
        with socket.create_connection(("127.0.0.1", self.ports[0]), SOCKET_TIMEOUT_S) as raw:
            with ctx.wrap_socket(raw, server_hostname="server.dc1.consul") as tls:
                names = [v for k, v in tls.getpeercert()["subjectAltName"] if k == "DNS"]
                self.assertIn("server.dc1.consul", names)

    def test_plaintext_and_uncertified_peers_are_refused(self):
        server = self.servers[0]
        with socket.create_connection(("127.0.0.1", self.ports[0]), SOCKET_TIMEOUT_S) as raw:
            raw.sendall(b"PCRPC\x00\x01\x00\x00\x00\x00\x00")
            try:
                self.assertEqual(raw.recv(64), b"")
            except ConnectionResetError:
                pass
        wait_for_line(server, r"refusing plaintext connection from 127\.0\.0\.1:\d+: TLS is "
                              r"required")

        ctx = tls_context(self.cert("consul-agent-ca.pem"))  # no client certificate
        with socket.create_connection(("127.0.0.1", self.ports[0]), SOCKET_TIMEOUT_S) as raw:
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                with ctx.wrap_socket(raw, server_hostname="server.dc1.consul") as tls:
                    # TLS 1.3: the refusal arrives after the client's side completed.
                    tls.sendall(b"x")
                    if tls.recv(1) == b"":
                        raise ConnectionResetError("closed")
        wait_for_line(server, r"TLS handshake with 127\.0\.0\.1:\d+ failed: .*certificate")

    def test_a_server_certified_for_another_datacenter_is_refused(self):
        data_dir = os.path.join(self.work, "bad")
        os.makedirs(data_dir)
        config = self.rpc_config("bad.json", self.cert("dc2-server-consul-0.pem"),
                                 self.cert("dc2-server-consul-0-key.pem"))
        bad = ServerAgent("server-bad", data_dir, free_port(), self.ports, config,
                          bootstrap_expect=0)
        self.addCleanup(bad.stop)
        bad.start()
        pattern = (r"TLS handshake with 127\.0\.0\.1:" + str(bad.server_port) +
                   r" failed: certificate verify failed: hostname mismatch \(want "
                   r"server\.dc1\.consul, certificate names server\.dc2\.consul")
        deadline = time.monotonic() + CONVERGE_S
        found = False
        while time.monotonic() < deadline and not found:
            found = any(re.search(pattern, line) for s in self.servers for line in s.output())
            time.sleep(0.2)
        self.assertTrue(found, "no server logged the refusal\n"
                        + "\n".join(s.output_tail(30) for s in self.servers))
        # The datacenter goes on, and the refused server gets none of its data.
        self.put_until_ok(self.servers[0], "tls/after", b"still")
        self.wait_value(self.servers[2], "tls/after", b"still")
        resp = bad.kv_get("tls/after", {"raw": "", "stale": ""})
        self.assertNotEqual((resp.status, resp.body), (200, b"still"))


class HttpsTest(unittest.TestCase):
    """A -dev agent with HTTPS beside HTTP."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pc-https-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.cert = make_certificates(self.root)
        self.ca = self.cert("consul-agent-ca.pem")
        # The agent reads these paths; the reload test replaces their contents.
        self.served_cert = os.path.join(self.root, "https.pem")
        self.served_key = os.path.join(self.root, "https-key.pem")
        shutil.copy(self.cert("dc1-server-consul-0.pem"), self.served_cert)
        shutil.copy(self.cert("dc1-server-consul-0-key.pem"), self.served_key)

    def start_agent(self, verify_incoming):
        config = write_json(os.path.join(self.root, "https.json"), {
            "ports": {"https": 0},
            "tls": {"https": {"ca_file": self.ca, "cert_file": self.served_cert,
                              "key_file": self.served_key,
                              "verify_incoming": verify_incoming}}})
        agent = Agent(node="tls-node", extra_args=["-config-file", config])
        self.addCleanup(agent.stop)
        agent.start()
        return agent, https_port(agent)

    def test_min_version_and_cipher_suites_are_enforced(self):
        config = write_json(os.path.join(self.root, "strict.json"), {
            "ports": {"https": 0},
            "tls": {"https": {"cert_file": self.served_cert, "key_file": self.served_key,
                              "tls_cipher_suites":
                                  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}}})
        agent = Agent(node="tls-strict", extra_args=["-config-file", config])
        self.addCleanup(agent.stop)
        agent.start()
        port = https_port(agent)

        def tls12(ciphers):
            ctx = tls_context(self.ca)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers(ciphers)
            return ctx
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT_S,
                                           context=tls12("ECDHE-ECDSA-AES256-GCM-SHA384"))
        conn.connect()
        self.assertEqual(conn.sock.cipher()[0], "ECDHE-ECDSA-AES256-GCM-SHA384")
        conn.close()
        with self.assertRaises(ssl.SSLError):
            https_request(port, tls12("ECDHE-ECDSA-AES128-GCM-SHA256"), "GET", "/v1/status/leader")

        # tls_min_version TLSv1_3: a client that stops at TLS 1.2 is refused.
        config = write_json(os.path.join(self.root, "v13.json"), {
            "ports": {"https": 0},
            "tls": {"https": {"cert_file": self.served_cert, "key_file": self.served_key,
                              "tls_min_version": "TLSv1_3"}}})
        v13 = Agent(node="tls-v13", extra_args=["-config-file", config])
        self.addCleanup(v13.stop)
        v13.start()
        with self.assertRaises(ssl.SSLError):
            https_request(https_port(v13), tls12("DEFAULT"), "GET", "/v1/status/leader")
        conn = http.client.HTTPSConnection("127.0.0.1", https_port(v13),
                                           timeout=SOCKET_TIMEOUT_S, context=tls_context(self.ca))
        conn.connect()
        self.assertEqual(conn.sock.version(), "TLSv1.3")
        conn.close()

    def test_a_missing_or_mismatched_file_stops_the_agent(self):
        for tls, want in [
            ({"cert_file": os.path.join(self.root, "nope.pem"), "key_file": self.served_key},
             "tls.https: Failed to load cert/key pair: open " +
             os.path.join(self.root, "nope.pem") + ": no such file or directory"),
            ({"cert_file": self.served_cert, "key_file": self.cert("dc1-client-consul-0-key.pem")},
             "tls.https: Failed to load cert/key pair: tls: private key does not match public key"),
            ({"verify_incoming": True, "cert_file": self.served_cert,
              "key_file": self.served_key},
             "tls.https: VerifyIncoming set but no CA certificates were provided"),
        ]:
            config = write_json(os.path.join(self.root, "bad.json"),
                                {"ports": {"https": 0}, "tls": {"https": tls}})
            proc = subprocess.run([binary_path(), "agent", "-dev", "-http-port", "0",
                                   "-dns-port", "-1", "-serf-lan-port", "0", "-config-file",
                                   config], capture_output=True, text=True,
                                  timeout=CLI_TIMEOUT_S)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn(want, proc.stderr)

    def cli(self, *args, env=None):
        full_env = dict(os.environ)
        for name in list(full_env):
            if name.startswith("CONSUL_") or name.startswith("PROCONSUL_"):
                del full_env[name]
        full_env.update(env or {})
        return subprocess.run([binary_path()] + list(args), capture_output=True, text=True,
                              timeout=CLI_TIMEOUT_S, env=full_env)

    def test_https_serves_the_api_verified_by_the_ca(self):
        agent, port = self.start_agent(verify_incoming=False)
        ctx = tls_context(self.ca)
        status, body, cert = https_request(port, ctx, "PUT", "/v1/kv/over-tls", body=b"yes")
        self.assertEqual((status, body), (200, b"true"))
        self.assertIn(("DNS", "localhost"), cert["subjectAltName"])
        status, body, _ = https_request(port, ctx, "GET", "/v1/kv/over-tls?raw")
        self.assertEqual((status, body), (200, b"yes"))
        # Plain HTTP still answers on its own port.
        self.assertEqual(agent.kv_get("over-tls", {"raw": ""}).body, b"yes")
        # A client that does not trust the CA refuses the agent's certificate.
        with self.assertRaises(ssl.SSLCertVerificationError):
            https_request(port, ssl.create_default_context(), "GET", "/v1/status/leader")

        proc = self.cli("kv", "get", "-http-addr", f"https://127.0.0.1:{port}",
                        "-ca-file", self.ca, "over-tls")
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "yes\n", ""))
        proc = self.cli("kv", "get", "over-tls",
                        env={"CONSUL_HTTP_ADDR": f"127.0.0.1:{port}", "CONSUL_HTTP_SSL": "true",
                             "CONSUL_CACERT": self.ca})
        self.assertEqual((proc.returncode, proc.stdout), (0, "yes\n"), proc.stderr)
        proc = self.cli("kv", "get", "-http-addr", f"https://127.0.0.1:{port}", "over-tls")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("certificate verify failed", proc.stderr)

    def test_verify_incoming_refuses_a_client_without_a_certificate(self):
        agent, port = self.start_agent(verify_incoming=True)
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            https_request(port, tls_context(self.ca), "GET", "/v1/status/leader")
        wait_for_line(agent, r"TLS handshake with 127\.0\.0\.1:\d+ failed")
        ctx = tls_context(self.ca, self.cert("dc1-cli-consul-0.pem"),
                          self.cert("dc1-cli-consul-0-key.pem"))
        status, _, _ = https_request(port, ctx, "GET", "/v1/status/leader")
        self.assertEqual(status, 200)
        env = {"CONSUL_HTTP_ADDR": f"https://127.0.0.1:{port}", "CONSUL_CACERT": self.ca,
               "CONSUL_CLIENT_CERT": self.cert("dc1-cli-consul-0.pem"),
               "CONSUL_CLIENT_KEY": self.cert("dc1-cli-consul-0-key.pem")}
        proc = self.cli("kv", "put", "with-cert", "ok", env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.cli("kv", "get", "-http-addr", f"https://127.0.0.1:{port}",
                        "-ca-file", self.ca, "with-cert")
        self.assertNotEqual(proc.returncode, 0)

    def test_sighup_reload_serves_the_new_certificate_to_new_connections(self):
        agent, port = self.start_agent(verify_incoming=False)
        ctx = tls_context(self.ca)
        status, _, _ = https_request(port, ctx, "PUT", "/v1/kv/watched", body=b"1")
        self.assertEqual(status, 200)
        status, _, old_cert = https_request(port, ctx, "GET", "/v1/kv/watched")
        self.assertEqual(status, 200)
        index = agent.kv_get("watched").index
        # A blocking query on an HTTPS connection opened before the reload.
        waiter = BackgroundCall(https_request, port, ctx, "GET",
                                f"/v1/kv/watched?index={index}&wait=60s&raw", None, 90)
        time.sleep(0.5)

        shutil.copy(self.cert("dc1-server-consul-1.pem"), self.served_cert)
        shutil.copy(self.cert("dc1-server-consul-1-key.pem"), self.served_key)
        os.kill(agent.proc.pid, signal.SIGHUP)
        wait_for_line(agent, r"reloaded TLS certificates")
        _, _, new_cert = https_request(port, ctx, "GET", "/v1/status/leader")
        self.assertNotEqual(new_cert["serialNumber"], old_cert["serialNumber"])
        new_serial = subprocess.run(
            ["openssl", "x509", "-noout", "-serial", "-in", self.served_cert],
            capture_output=True, text=True, timeout=CLI_TIMEOUT_S).stdout.strip()
        if new_serial:
            self.assertEqual(new_serial.split("=", 1)[1].upper(), new_cert["serialNumber"].upper())

        self.assertFalse(waiter.done(), "the blocking query returned before its key changed")
        self.assertEqual(agent.kv_put("watched", b"2").status, 200)
        status, body, held_cert = waiter.join(30)
        self.assertEqual((status, body), (200, b"2"))
        # The established connection kept the certificate it began with.
        self.assertEqual(held_cert["serialNumber"], old_cert["serialNumber"])


if __name__ == "__main__":
    unittest.main()
