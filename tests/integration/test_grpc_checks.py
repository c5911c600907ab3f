"""gRPC health checks (Consul's GRPC, GRPCUseTLS, TLSSkipVerify, TLSServerName) against a real
grpcio server speaking grpc.health.v1.Health/Check.

Facts from Consul's agent/checks/grpc.go and check.go (CheckGRPC) and the grpc-go errors it
passes on as output:
- "GRPC": "host:port" asks about the whole server (service ""), "host:port/name" about name;
  cleartext HTTP/2 unless GRPCUseTLS; Interval is required ("Interval must be > 0 ...").
- SERVING is passing with Output "gRPC check <target>: success"; any other serving status is
  critical with "gRPC <target> serving status: <NAME>"; a gRPC error is critical with
  "rpc error: code = <Code> desc = <message>" (the standard health server answers an unknown
  service NOT_FOUND "unknown service"); a target that does not answer within Timeout is
  "rpc error: code = DeadlineExceeded desc = context deadline exceeded"; a closed port is
  Unavailable with the dial error.
- The catalog row's Type is "grpc".
"""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from grpc_health_server import HealthServer, NOT_SERVING, SERVICE_UNKNOWN, SERVING
from test_agent_checks import CheckTestCase, closed_port


class GrpcCheckTest(CheckTestCase):

    def server(self, **kw):
        s = HealthServer(**kw)
        self.addCleanup(s.close)
        return s

    def register_grpc(self, name, target, **extra):
        check = {"GRPC": target, "Interval": "1s", "Timeout": "2s"}
        check.update(extra)
        self.register({"Name": name, "Port": 1, "Check": check})
        return f"service:{name}"

    def wait_output(self, cid, status, fragment, timeout_s=8.0):
        """Polls until cid has status and an output containing fragment (the check starts
        critical with no output, before its first run)."""
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            last = self.agent_checks().get(cid)
            if last and last["Status"] == status and fragment in last["Output"]:
                return last
            time.sleep(0.1)
        self.fail(f"check {cid!r} not {status!r} with {fragment!r} in {timeout_s}s; {last!r}")

    def test_serving_not_serving_and_back(self):
        s = self.server()
        s.set("db", SERVING)
        target = f"{s.address()}/db"
        cid = self.register_grpc(self.name(), target)
        self.wait_check(cid, "passing", output=f"gRPC check {target}: success")
        s.set("db", NOT_SERVING)
        self.wait_check(cid, "critical", output=f"gRPC {target} serving status: NOT_SERVING")
        s.set("db", SERVICE_UNKNOWN)
        self.wait_check(cid, "critical", output=f"gRPC {target} serving status: SERVICE_UNKNOWN")
        s.set("db", SERVING)
        self.wait_check(cid, "passing")
        row = self.catalog_check(self.name(), cid)
        self.assertEqual(row["Status"], "passing")
        self.assertEqual(row["Type"], "grpc")
        self.assertIn("db", s.requests)

    def test_whole_server_when_no_service_is_given(self):
        s = self.server()
        cid = self.register_grpc(self.name(), s.address())
        self.wait_check(cid, "passing", output=f"gRPC check {s.address()}: success")
        self.assertIn("", s.requests)

    def test_unknown_service_is_critical_with_the_grpc_status(self):
        s = self.server()
        cid = self.register_grpc(self.name(), f"{s.address()}/nope")
        self.wait_check(cid, "critical",
                        output="rpc error: code = NotFound desc = unknown service")

    def test_connection_refused(self):
        port = closed_port()
        cid = self.register_grpc(self.name(), f"127.0.0.1:{port}/db")
        check = self.wait_output(cid, "critical", "code = Unavailable")
        self.assertIn(f"dial tcp 127.0.0.1:{port}: connect: connection refused", check["Output"])

    def test_timeout(self):
        s = self.server()
        s.set("slow", SERVING)
        s.delays_s["slow"] = 5
        cid = self.register_grpc(self.name(), f"{s.address()}/slow", Timeout="500ms")
        self.wait_check(cid, "critical",
                        output="rpc error: code = DeadlineExceeded desc = context deadline "
                               "exceeded")

    def test_tls_verified_and_skipped(self):
        tmp = tempfile.mkdtemp(prefix="pc-grpc-tls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                        "-out", cert], check=True, capture_output=True)
        with open(key, "rb") as k, open(cert, "rb") as c:
            s = self.server(tls_key_cert=(k.read(), c.read()))
        s.set("db", SERVING)
        target = f"{s.address()}/db"
        skipped = self.register_grpc(self.name("-skip"), target, GRPCUseTLS=True,
                                     TLSSkipVerify=True)
        self.wait_check(skipped, "passing", output=f"gRPC check {target}: success")
        # A self-signed certificate is not in the system's trust store.
        verified = self.register_grpc(self.name("-verify"), target, GRPCUseTLS=True)
        self.wait_output(verified, "critical", "authentication handshake failed")
        # Cleartext HTTP/2 against a TLS port fails instead of hanging until the interval.
        plain = self.register_grpc(self.name("-plain"), target)
        self.wait_output(plain, "critical", "rpc error: code = ")

    def test_interval_is_required(self):
        resp = self.agent.put("/v1/agent/check/register",
                              body={"Name": self.name(), "GRPC": "127.0.0.1:1"})
        self.assertStatus(resp, 400)
        self.assertIn("Interval must be > 0", resp.text)


if __name__ == "__main__":
    unittest.main()
