"""The command line against a live agent: `proconsul kv get|put|delete`, `info`, `version`.

Texts and exit codes are Consul's (command/kv/{get,put,del}): success messages on stdout,
"Error! ..." on stderr with exit status 1; the agent address comes from -http-addr, else
CONSUL_HTTP_ADDR (we also accept PROCONSUL_HTTP_ADDR), with or without an http:// scheme.
"""

import base64
import os
import subprocess
import tempfile
import time
import unittest

from proconsul import AgentTestCase, binary_path, unb64

CLI_TIMEOUT_S = 30.0
ADDR_ENV = ("CONSUL_HTTP_ADDR", "PROCONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL_HTTP_SSL")


class CliTest(AgentTestCase):

    def run_cli(self, *args, env=None, stdin=None, addr=True):
        """Runs the binary; addr=True passes -http-addr right after the subcommand(s)."""
        clean = {k: v for k, v in os.environ.items() if k not in ADDR_ENV}
        clean.update(env or {})
        argv = list(args)
        if addr:
            # Flags go after the subcommand path (`kv get`) and before positional args.
            depth = 2 if argv and argv[0] == "kv" else 1
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


if __name__ == "__main__":
    unittest.main()
