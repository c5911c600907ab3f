"""`proconsul tls ca create` and `proconsul tls cert create` as a user runs them: the real
binary in an empty working directory, Consul's file names and texts, and files that work for
TLS as the agent will use them (verify_server_hostname: servers are named
server.<dc>.<domain>): the `openssl` program verifies the chain and lists Consul's SANs and
usages, and a mutual-TLS handshake with Python's ssl module succeeds with the server
certificate, a client certificate and the CA, checking the server's name.
"""

import os
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import unittest

from proconsul import binary_path

CLI_TIMEOUT_S = 30.0
HANDSHAKE_TIMEOUT_S = 10.0


class TlsCommandsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pc-tls-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def run_cli(self, *args):
        proc = subprocess.run([binary_path()] + list(args), cwd=self.dir, capture_output=True,
                              text=True, timeout=CLI_TIMEOUT_S)
        return proc

    def ok(self, *args):
        proc = self.run_cli(*args)
        self.assertEqual(proc.returncode, 0, f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        self.assertEqual(proc.stderr, "")
        return proc.stdout

    def path(self, name):
        return os.path.join(self.dir, name)

    def openssl(self, *args):
        if shutil.which("openssl") is None:
            self.skipTest("no openssl program")
        return subprocess.run(["openssl"] + list(args), cwd=self.dir, capture_output=True,
                              text=True, timeout=CLI_TIMEOUT_S)

    def test_files_and_texts(self):
        self.assertEqual(self.ok("tls", "ca", "create"),
                         "==> Saved consul-agent-ca.pem\n==> Saved consul-agent-ca-key.pem\n")
        self.assertEqual(stat.S_IMODE(os.stat(self.path("consul-agent-ca-key.pem")).st_mode),
                         0o600)
        again = self.run_cli("tls", "ca", "create")
        self.assertEqual((again.returncode, again.stderr),
                         (1, "consul-agent-ca.pem already exists.\n"))
        using = "==> Using consul-agent-ca.pem and consul-agent-ca-key.pem\n"
        out = self.ok("tls", "cert", "create", "-server", "-dc", "east")
        self.assertTrue(out.startswith("==> WARNING: Server Certificates grants authority"), out)
        self.assertTrue(out.endswith(using + "==> Saved east-server-consul-0.pem\n"
                                     "==> Saved east-server-consul-0-key.pem\n"), out)
        self.assertIn("==> Saved east-server-consul-1.pem\n",
                      self.ok("tls", "cert", "create", "-server", "-dc", "east"))
        self.assertEqual(self.ok("tls", "cert", "create", "-client"),
                         using + "==> Saved dc1-client-consul-0.pem\n"
                         "==> Saved dc1-client-consul-0-key.pem\n")
        self.assertEqual(self.ok("tls", "cert", "create", "-cli"),
                         using + "==> Saved dc1-cli-consul-0.pem\n"
                         "==> Saved dc1-cli-consul-0-key.pem\n")
        none = self.run_cli("tls", "cert", "create")
        self.assertEqual((none.returncode, none.stderr),
                         (1, "Please provide either -server, -client, or -cli\n"))

    def test_openssl_reads_consuls_certificates(self):
        self.ok("tls", "ca", "create")
        self.ok("tls", "cert", "create", "-server", "-node", "web1", "-days", "30")
        self.ok("tls", "cert", "create", "-cli")
        ca = self.openssl("x509", "-noout", "-text", "-in", "consul-agent-ca.pem").stdout
        self.assertIn("CA:TRUE", ca)
        self.assertIn("Certificate Sign, CRL Sign", ca)
        self.assertIn("Subject: CN = Consul Agent CA ", ca)
        verify = self.openssl("verify", "-purpose", "sslserver", "-verify_hostname",
                              "server.dc1.consul", "-CAfile", "consul-agent-ca.pem",
                              "dc1-server-consul-0.pem")
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        sans = self.openssl("x509", "-noout", "-ext", "subjectAltName,extendedKeyUsage",
                            "-in", "dc1-server-consul-0.pem").stdout
        self.assertIn("DNS:web1.server.dc1.consul, DNS:server.dc1.consul, DNS:localhost, "
                      "IP Address:127.0.0.1", sans)
        self.assertIn("TLS Web Server Authentication, TLS Web Client Authentication", sans)
        dates = self.openssl("x509", "-noout", "-checkend", str(29 * 86400),
                             "-in", "dc1-server-consul-0.pem")
        self.assertEqual(dates.returncode, 0, "valid for 29 more days")
        dates = self.openssl("x509", "-noout", "-checkend", str(31 * 86400),
                             "-in", "dc1-server-consul-0.pem")
        self.assertNotEqual(dates.returncode, 0, "not valid for 31 more days")
        cli = self.openssl("x509", "-noout", "-ext", "subjectAltName,extendedKeyUsage",
                           "-in", "dc1-cli-consul-0.pem").stdout
        self.assertIn("DNS:cli.dc1.consul, DNS:localhost", cli)
        self.assertNotIn("Extended Key Usage", cli)
        key = self.openssl("ec", "-check", "-noout", "-in", "dc1-server-consul-0-key.pem")
        self.assertEqual(key.returncode, 0, key.stderr)

    def test_mutual_tls_handshake_checks_the_server_name(self):
        self.ok("tls", "ca", "create")
        self.ok("tls", "cert", "create", "-server")
        self.ok("tls", "cert", "create", "-client")
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(self.path("dc1-server-consul-0.pem"),
                                   self.path("dc1-server-consul-0-key.pem"))
        server_ctx.load_verify_locations(self.path("consul-agent-ca.pem"))
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(self.path("consul-agent-ca.pem"))
        client_ctx.load_cert_chain(self.path("dc1-client-consul-0.pem"),
                                   self.path("dc1-client-consul-0-key.pem"))

        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        listener.settimeout(HANDSHAKE_TIMEOUT_S)
        port = listener.getsockname()[1]
        seen = {}

        def serve(count):
            for _ in range(count):
                conn, _ = listener.accept()
                try:
                    with server_ctx.wrap_socket(conn, server_side=True) as tls:
                        seen["peer"] = tls.getpeercert()
                        tls.sendall(b"ok")
                except (ssl.SSLError, OSError) as e:
                    seen["error"] = e

        thread = threading.Thread(target=serve, args=(2,), daemon=True)
        thread.start()
        with socket.create_connection(("127.0.0.1", port), timeout=HANDSHAKE_TIMEOUT_S) as raw:
            with client_ctx.wrap_socket(raw, server_hostname="server.dc1.consul") as tls:
                self.assertEqual(tls.recv(2), b"ok")
        # The wrong datacenter's name is refused by the client.
        with socket.create_connection(("127.0.0.1", port), timeout=HANDSHAKE_TIMEOUT_S) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                client_ctx.wrap_socket(raw, server_hostname="server.dc2.consul")
        thread.join(HANDSHAKE_TIMEOUT_S)
        self.assertFalse(thread.is_alive())
        subject = dict(item[0] for item in seen["peer"]["subject"])
        self.assertEqual(subject["commonName"], "client.dc1.consul")


if __name__ == "__main__":
    unittest.main()
