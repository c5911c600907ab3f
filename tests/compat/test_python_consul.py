"""A real Consul client, unchanged, against Proconsul: Debian's python3-consul 0.7.1.

This is the proof that "a program written for Consul's HTTP API can use it unchanged": every
call below goes through python-consul's own request building (consul/base.py) and response
handling (its CB callbacks), e.g. it reads X-Consul-Index even from 404 responses, sends
`keys=True`, `recurse=1`, lower-case JSON keys `lockdelay`/`ttl`/`behavior` for sessions, and
treats 5xx as ConsulException and 404 on renew as NotFound.

python-consul 0.7.1 has no Txn class, so /v1/txn is driven through the client's own HTTP
transport (c.http.put with consul.base.CB) -- the way an application on 0.7.1 would.
"""

import base64
import json
import os
import sys
import threading
import time
import unittest

try:
    import consul
    import consul.base
except ImportError as err:  # fail loudly: a missing client must never look like a pass
    sys.exit(f"FAIL: python3-consul is not installed ({err}); scripts/setup installs it "
             "(Debian package python3-consul)")

from proconsul import AgentTestCase, BackgroundCall


class PythonConsulTest(AgentTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = consul.Consul(host="127.0.0.1", port=cls.agent.port)
        cls.addClassCleanup(cls.c.http.session.close)

    def client(self, **kwargs):
        """Another independent client (its own connection pool), closed after the test."""
        c = consul.Consul(host="127.0.0.1", port=self.agent.port, **kwargs)
        self.addCleanup(c.http.session.close)
        return c

    def test_client_version(self):
        self.assertTrue(consul.__version__.startswith("0.7"), consul.__version__)

    def test_kv_put_get(self):
        key = self.prefix + "k"
        self.assertIs(self.c.kv.put(key, "bar"), True)
        index, data = self.c.kv.get(key)
        self.assertIsInstance(index, str)
        self.assertGreaterEqual(int(index), 1)
        self.assertEqual(data["Key"], key)
        self.assertEqual(data["Value"], b"bar")
        self.assertEqual(data["Flags"], 0)
        self.assertIs(self.c.kv.put(key, b"\x00\x01binary"), True)
        self.assertEqual(self.c.kv.get(key)[1]["Value"], b"\x00\x01binary")

    def test_kv_get_missing_returns_none_with_index(self):
        index, data = self.c.kv.get(self.prefix + "missing")
        self.assertIsNone(data)
        self.assertGreaterEqual(int(index), 1)

    def test_kv_empty_value(self):
        key = self.prefix + "empty"
        self.assertIs(self.c.kv.put(key, None), True)
        self.assertIsNone(self.c.kv.get(key)[1]["Value"])

    def test_kv_flags(self):
        key = self.prefix + "flags"
        self.assertIs(self.c.kv.put(key, "v", flags=50), True)
        self.assertEqual(self.c.kv.get(key)[1]["Flags"], 50)

    def test_kv_recurse_keys_separator(self):
        p = self.prefix
        for k in ("a", "b", "sub/c", "sub/d"):
            self.c.kv.put(p + k, k)
        _, items = self.c.kv.get(p, recurse=True)
        self.assertEqual([i["Key"] for i in items], [p + "a", p + "b", p + "sub/c", p + "sub/d"])
        self.assertEqual([i["Value"] for i in items], [b"a", b"b", b"sub/c", b"sub/d"])
        _, keys = self.c.kv.get(p, keys=True)
        self.assertEqual(keys, [p + "a", p + "b", p + "sub/c", p + "sub/d"])
        _, keys = self.c.kv.get(p, keys=True, separator="/")
        self.assertEqual(keys, [p + "a", p + "b", p + "sub/"])
        self.assertEqual(self.c.kv.get(p + "nothing/", recurse=True)[1], None)

    def test_kv_cas(self):
        key = self.prefix + "cas"
        self.assertIs(self.c.kv.put(key, "v1", cas=0), True)
        self.assertIs(self.c.kv.put(key, "v2", cas=0), False)
        _, data = self.c.kv.get(key)
        self.assertIs(self.c.kv.put(key, "v2", cas=data["ModifyIndex"] + 1000), False)
        self.assertIs(self.c.kv.put(key, "v2", cas=data["ModifyIndex"]), True)
        self.assertEqual(self.c.kv.get(key)[1]["Value"], b"v2")

    def test_kv_delete(self):
        p = self.prefix
        for k in ("one", "tree/a", "tree/b", "casme"):
            self.c.kv.put(p + k, "v")
        self.assertIs(self.c.kv.delete(p + "one"), True)
        self.assertIsNone(self.c.kv.get(p + "one")[1])
        self.assertIs(self.c.kv.delete(p + "tree/", recurse=True), True)
        self.assertIsNone(self.c.kv.get(p + "tree/", recurse=True)[1])
        idx = self.c.kv.get(p + "casme")[1]["ModifyIndex"]
        self.assertIs(self.c.kv.delete(p + "casme", cas=idx + 1000), False)
        self.assertIs(self.c.kv.delete(p + "casme", cas=idx), True)
        self.assertIsNone(self.c.kv.get(p + "casme")[1])

    def test_blocking_get_woken_by_write_from_another_thread(self):
        key = self.prefix + "watch"
        self.c.kv.put(key, "before")
        index, _ = self.c.kv.get(key)
        watcher = self.client()
        call = BackgroundCall(watcher.kv.get, key, index=index, wait="30s")
        time.sleep(0.5)
        self.assertFalse(call.done(), "blocking get returned before the write")
        writer = threading.Thread(target=self.c.kv.put, args=(key, "after"))
        writer.start()
        writer.join(10)
        new_index, data = call.join(20.0)
        self.assertLess(call.elapsed, 5.0, "the watch must wake on the write, well before 30s")
        self.assertEqual(data["Value"], b"after")
        self.assertGreater(int(new_index), int(index))

    def test_blocking_get_times_out_with_same_index(self):
        key = self.prefix + "quiet"
        self.c.kv.put(key, "v")
        index, _ = self.c.kv.get(key)
        start = time.monotonic()
        new_index, data = self.c.kv.get(key, index=index, wait="1s")
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.95)
        self.assertLess(elapsed, 5.0)
        self.assertEqual(new_index, index)
        self.assertEqual(data["Value"], b"v")

    def test_blocking_recurse_woken_by_write_under_prefix(self):
        p = self.prefix
        self.c.kv.put(p + "a", "1")
        index, _ = self.c.kv.get(p, recurse=True)
        call = BackgroundCall(self.c.kv.get, p, index=index, wait="30s", recurse=True)
        time.sleep(0.3)
        other = self.client()
        other.kv.put(p + "b", "2")
        _, items = call.join(20.0)
        self.assertLess(call.elapsed, 5.0)
        self.assertEqual([i["Key"] for i in items], [p + "a", p + "b"])

    def test_consistency_modes(self):
        key = self.prefix + "mode"
        self.c.kv.put(key, "v")
        for mode in ("default", "consistent", "stale"):
            client = self.client(consistency=mode)
            self.assertEqual(client.kv.get(key)[1]["Value"], b"v", mode)
            self.assertIsInstance(client.session.list()[1], list, mode)

    def test_session_lifecycle(self):
        sid = self.c.session.create(name="compat", behavior="delete", ttl=10, lock_delay=0)
        self.assertIsInstance(sid, str)
        index, info = self.c.session.info(sid)
        self.assertGreaterEqual(int(index), 1)
        self.assertEqual(info["ID"], sid)
        self.assertEqual(info["Name"], "compat")
        self.assertEqual(info["Behavior"], "delete")
        self.assertEqual(info["LockDelay"], 0)
        self.assertEqual(info["TTL"], "10s")
        self.assertEqual(info["Node"], "test-node")
        self.assertIn(sid, [s["ID"] for s in self.c.session.list()[1]])
        self.assertIn(sid, [s["ID"] for s in self.c.session.node("test-node")[1]])
        renewed = self.c.session.renew(sid)
        self.assertEqual(renewed["ID"], sid)
        self.assertIs(self.c.session.destroy(sid), True)
        self.assertIsNone(self.c.session.info(sid)[1])
        with self.assertRaises(consul.NotFound):
            self.c.session.renew(sid)

    def test_session_defaults(self):
        sid = self.c.session.create()
        self.addCleanup(self.c.session.destroy, sid)
        info = self.c.session.info(sid)[1]
        self.assertEqual(info["LockDelay"], 15 * 10**9)
        self.assertEqual(info["Behavior"], "release")
        self.assertEqual(info["Node"], "test-node")

    def test_acquire_release(self):
        key = self.prefix + "lock"
        a = self.c.session.create(lock_delay=0)
        b = self.c.session.create(lock_delay=0)
        self.addCleanup(self.c.session.destroy, a)
        self.addCleanup(self.c.session.destroy, b)
        self.assertIs(self.c.kv.put(key, "a", acquire=a), True)
        self.assertIs(self.c.kv.put(key, "b", acquire=b), False)
        data = self.c.kv.get(key)[1]
        self.assertEqual(data["Session"], a)
        self.assertEqual(data["LockIndex"], 1)
        self.assertIs(self.c.kv.put(key, "b", release=b), False)
        self.assertIs(self.c.kv.put(key, "released", release=a), True)
        self.assertNotIn("Session", self.c.kv.get(key)[1])

    def test_acquire_with_unknown_session_raises(self):
        with self.assertRaises(consul.ConsulException) as ctx:
            self.c.kv.put(self.prefix + "lock", "v",
                          acquire="00000000-0000-0000-0000-000000000042")
        self.assertIn("invalid session", str(ctx.exception))
        self.assertIn("500", str(ctx.exception))

    def test_delete_behavior_on_destroy(self):
        key = self.prefix + "ephemeral"
        sid = self.c.session.create(behavior="delete", lock_delay=0)
        self.assertIs(self.c.kv.put(key, "here", acquire=sid), True)
        self.c.session.destroy(sid)
        self.assertIsNone(self.c.kv.get(key)[1])

    def test_lock_protocol_two_contenders(self):
        """Two clients race for a lock; exactly one wins; the loser watches the key with a
        blocking query and takes the lock once the winner's session is destroyed."""
        key = self.prefix + "leader"
        clients = [self.client() for _ in range(2)]
        sessions = [cl.session.create(name=f"contender-{i}", lock_delay=0,
                                      behavior="release") for i, cl in enumerate(clients)]
        barrier = threading.Barrier(2)
        outcome = [None, None]

        def contend(i):
            barrier.wait(5)
            outcome[i] = clients[i].kv.put(key, f"holder-{i}", acquire=sessions[i])

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        self.assertEqual(sorted(outcome), [False, True], outcome)
        winner = outcome.index(True)
        loser = 1 - winner
        index, data = clients[loser].kv.get(key)
        self.assertEqual(data["Session"], sessions[winner])
        self.assertEqual(data["Value"], f"holder-{winner}".encode())

        def wait_and_acquire():
            idx = index
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                idx, entry = clients[loser].kv.get(key, index=idx, wait="10s")
                if entry is not None and "Session" not in entry:
                    if clients[loser].kv.put(key, f"holder-{loser}", acquire=sessions[loser]):
                        return time.monotonic()
            return None

        call = BackgroundCall(wait_and_acquire)
        time.sleep(0.3)
        destroyed_at = time.monotonic()
        self.assertIs(clients[winner].session.destroy(sessions[winner]), True)
        acquired_at = call.join(30.0)
        self.assertIsNotNone(acquired_at, "the loser never acquired the lock")
        self.assertLess(acquired_at - destroyed_at, 5.0)
        data = clients[loser].kv.get(key)[1]
        self.assertEqual(data["Session"], sessions[loser])
        self.assertEqual(data["LockIndex"], 2)
        clients[loser].session.destroy(sessions[loser])

    def test_txn_through_client_transport(self):
        self.assertFalse(hasattr(self.c, "txn"), "0.7.1 has no Txn; update this test if it does")
        p = self.prefix
        ops = [{"KV": {"Verb": "set", "Key": p + "t1", "Value": base64.b64encode(b"1").decode()}},
               {"KV": {"Verb": "set", "Key": p + "t2", "Value": base64.b64encode(b"2").decode()}},
               {"KV": {"Verb": "get", "Key": p + "t1"}}]
        result = self.c.http.put(consul.base.CB.json(), "/v1/txn", data=json.dumps(ops))
        self.assertIsNone(result["Errors"])
        self.assertEqual([r["KV"]["Key"] for r in result["Results"]], [p + "t1", p + "t2", p + "t1"])
        self.assertEqual(base64.b64decode(result["Results"][2]["KV"]["Value"]), b"1")
        self.assertEqual(self.c.kv.get(p + "t2")[1]["Value"], b"2")
        failing = [{"KV": {"Verb": "set", "Key": p + "t3", "Value": base64.b64encode(b"3").decode()}},
                   {"KV": {"Verb": "check-not-exists", "Key": p + "t1"}}]
        result = self.c.http.put(consul.base.CB.json(), "/v1/txn", data=json.dumps(failing))
        self.assertIsNone(result["Results"])
        self.assertEqual(result["Errors"][0]["OpIndex"], 1)
        self.assertIsNone(self.c.kv.get(p + "t3")[1])

    def test_status(self):
        leader = self.c.status.leader()
        self.assertIsInstance(leader, str)
        self.assertRegex(leader, r"^\d+\.\d+\.\d+\.\d+:\d+$")
        peers = self.c.status.peers()
        self.assertEqual(peers, [leader])

    def test_agent_self(self):
        me = self.c.agent.self()
        self.assertEqual(me["Config"]["NodeName"], "test-node")
        self.assertEqual(me["Config"]["Datacenter"], "dc1")
        self.assertIs(me["Config"]["Server"], True)
        self.assertEqual(me["Member"]["Name"], "test-node")

    def test_client_from_environment(self):
        saved = os.environ.get("CONSUL_HTTP_ADDR")
        os.environ["CONSUL_HTTP_ADDR"] = f"127.0.0.1:{self.agent.port}"
        try:
            client = consul.Consul()
            self.addCleanup(client.http.session.close)
        finally:
            if saved is None:
                del os.environ["CONSUL_HTTP_ADDR"]
            else:
                os.environ["CONSUL_HTTP_ADDR"] = saved
        key = self.prefix + "env"
        self.assertIs(client.kv.put(key, "v"), True)
        self.assertEqual(self.c.kv.get(key)[1]["Value"], b"v")


if __name__ == "__main__":
    unittest.main()
