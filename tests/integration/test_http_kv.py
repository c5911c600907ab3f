"""/v1/kv against Consul's documented behaviour: reads, writes, CAS, locks, limits, blocking.

Each fact asserted here is Consul's (api-docs/kv, api-docs/features/blocking and
agent/kvs_endpoint.go); where Consul's behaviour is surprising the comment says so.
"""

import time
import unittest

from proconsul import (KV_VALUE_SIZE_MAX, AgentTestCase, BackgroundCall, kv_path,
                       timed, unb64, wait_until)

ENTRY_FIELDS = {"LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"}


class KVReadWriteTest(AgentTestCase):

    def test_put_returns_true_and_get_returns_entry(self):
        key = self.prefix + "k"
        resp = self.agent.kv_put(key, b"hello")
        self.assertJSON(resp, True)
        resp = self.agent.kv_get(key)
        self.assertStatus(resp, 200)
        self.assertIn("application/json", resp.header("Content-Type", ""))
        entries = resp.json()
        self.assertIsInstance(entries, list)
        self.assertEqual(len(entries), 1)
        entry = entries[0]
        self.assertTrue(ENTRY_FIELDS <= set(entry), entry)
        # Session appears only while the key is locked (omitempty in Consul's DirEntry).
        self.assertNotIn("Session", entry)
        self.assertEqual(entry["Key"], key)
        self.assertEqual(unb64(entry["Value"]), b"hello")
        self.assertEqual(entry["Flags"], 0)
        self.assertEqual(entry["LockIndex"], 0)
        self.assertGreater(entry["CreateIndex"], 0)
        self.assertEqual(entry["CreateIndex"], entry["ModifyIndex"])
        # A single-key read reports an index at least as new as the entry.
        self.assertGreaterEqual(resp.index, entry["ModifyIndex"])

    def test_update_keeps_create_index_and_advances_modify_index(self):
        key = self.prefix + "k"
        self.assertJSON(self.agent.kv_put(key, b"v1"), True)
        first = self.agent.kv_entry(key)
        self.assertJSON(self.agent.kv_put(key, b"v2"), True)
        second = self.agent.kv_entry(key)
        self.assertEqual(second["CreateIndex"], first["CreateIndex"])
        self.assertGreater(second["ModifyIndex"], first["ModifyIndex"])
        self.assertEqual(unb64(second["Value"]), b"v2")

    def test_missing_key_is_404_with_index(self):
        resp = self.agent.kv_get(self.prefix + "missing")
        self.assertStatus(resp, 404)
        self.assertGreaterEqual(resp.index, 1)
        self.assertEqual(resp.header("X-Consul-KnownLeader"), "true")

    def test_missing_key_raw_and_recurse_and_keys_are_404(self):
        missing = self.prefix + "nothing-here"
        self.assertStatus(self.agent.kv_get(missing, {"raw": None}), 404)
        self.assertStatus(self.agent.kv_get(missing, {"recurse": None}), 404)
        resp = self.agent.kv_get(missing, {"keys": None})
        self.assertStatus(resp, 404)
        self.assertGreaterEqual(resp.index, 1)

    def test_binary_value_round_trips(self):
        key = self.prefix + "bin"
        value = bytes(range(256)) * 4
        self.assertJSON(self.agent.kv_put(key, value), True)
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), value)
        raw = self.agent.kv_get(key, {"raw": None})
        self.assertStatus(raw, 200)
        self.assertEqual(raw.body, value)

    def test_raw_returns_value_bytes_only(self):
        key = self.prefix + "raw"
        self.agent.kv_put(key, b'{"not":"json-wrapped"}')
        resp = self.agent.kv_get(key, {"raw": None})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, b'{"not":"json-wrapped"}')
        self.assertGreaterEqual(resp.index, 1)
        # ?raw=true and ?raw=1 are the same flag.
        self.assertEqual(self.agent.kv_get(key, {"raw": "true"}).body, resp.body)
        self.assertEqual(self.agent.kv_get(key, {"raw": "1"}).body, resp.body)

    def test_raw_is_ignored_with_recurse(self):
        key = self.prefix + "r"
        self.agent.kv_put(key, b"v")
        resp = self.agent.kv_get(self.prefix, {"recurse": None, "raw": None})
        self.assertStatus(resp, 200)
        self.assertEqual([e["Key"] for e in resp.json()], [key])

    def test_empty_value(self):
        key = self.prefix + "empty"
        self.assertJSON(self.agent.kv_put(key, b""), True)
        entry = self.agent.kv_entry(key)
        # Consul renders an empty value as null (a nil []byte after the RPC round trip).
        self.assertIsNone(entry["Value"], entry)
        raw = self.agent.kv_get(key, {"raw": None})
        self.assertStatus(raw, 200)
        self.assertEqual(raw.body, b"")

    def test_flags(self):
        key = self.prefix + "flags"
        self.assertJSON(self.agent.kv_put(key, b"x", {"flags": 42}), True)
        self.assertEqual(self.agent.kv_entry(key)["Flags"], 42)
        top = 2**64 - 1
        self.assertJSON(self.agent.kv_put(key, b"x", {"flags": top}), True)
        self.assertEqual(self.agent.kv_entry(key)["Flags"], top)
        # A PUT without ?flags resets them to 0 (Consul writes the whole entry).
        self.assertJSON(self.agent.kv_put(key, b"y"), True)
        self.assertEqual(self.agent.kv_entry(key)["Flags"], 0)

    def test_bad_flags_rejected_and_nothing_written(self):
        key = self.prefix + "badflags"
        for bad in ("abc", "-1", str(2**64)):
            resp = self.agent.kv_put(key, b"x", {"flags": bad})
            # Consul returns the strconv error from the handler: 500 (we also accept 400).
            self.assertIn(resp.status, (400, 500), f"flags={bad}: {resp!r}")
        self.assertIsNone(self.agent.kv_entry(key))

    def test_recurse_lists_prefix_sorted(self):
        p = self.prefix
        for k in ("b", "a", "c/d", "c/e"):
            self.agent.kv_put(p + k, k.encode())
        self.agent.kv_put(self.prefix[:-1] + "-sibling", b"outside")
        for flag in (None, "true", "1"):
            resp = self.agent.kv_get(p, {"recurse": flag})
            self.assertStatus(resp, 200)
            entries = resp.json()
            self.assertEqual([e["Key"] for e in entries],
                             [p + "a", p + "b", p + "c/d", p + "c/e"])
            self.assertEqual([unb64(e["Value"]) for e in entries],
                             [b"a", b"b", b"c/d", b"c/e"])
            # The index of a recursive read is the newest ModifyIndex under the prefix (or newer).
            self.assertGreaterEqual(resp.index, max(e["ModifyIndex"] for e in entries))

    def test_recurse_on_key_prefix_without_slash(self):
        p = self.prefix
        self.agent.kv_put(p + "foo", b"1")
        self.agent.kv_put(p + "foobar", b"2")
        self.agent.kv_put(p + "fo", b"3")
        entries = self.agent.kv_get(p + "foo", {"recurse": None}).json()
        self.assertEqual([e["Key"] for e in entries], [p + "foo", p + "foobar"])

    def test_keys_lists_key_names(self):
        p = self.prefix
        for k in ("web/bar", "web/foo", "web/subdir/x", "web/subdir/y", "other"):
            self.agent.kv_put(p + k, b"v")
        resp = self.agent.kv_get(p + "web/", {"keys": None})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(),
                         [p + "web/bar", p + "web/foo", p + "web/subdir/x", p + "web/subdir/y"])
        self.assertGreaterEqual(resp.index, 1)
        # Flags count as true whatever their value: python-consul sends keys=True.
        self.assertEqual(self.agent.kv_get(p + "web/", {"keys": "True"}).json(), resp.json())

    def test_keys_with_separator(self):
        p = self.prefix
        for k in ("web/bar", "web/foo", "web/subdir/x", "web/subdir/y", "web2"):
            self.agent.kv_put(p + k, b"v")
        resp = self.agent.kv_get(p + "web/", {"keys": None, "separator": "/"})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(), [p + "web/bar", p + "web/foo", p + "web/subdir/"])
        # From the parent: web/ is collapsed, web2 has no separator after the prefix.
        resp = self.agent.kv_get(p, {"keys": None, "separator": "/"})
        self.assertEqual(resp.json(), [p + "web/", p + "web2"])

    def test_delete_single_key(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        self.assertJSON(self.agent.kv_delete(key), True)
        self.assertStatus(self.agent.kv_get(key), 404)
        # Deleting a missing key still answers true.
        self.assertJSON(self.agent.kv_delete(key), True)

    def test_delete_is_not_recursive_by_default(self):
        p = self.prefix
        self.agent.kv_put(p + "dir", b"a")
        self.agent.kv_put(p + "dir/child", b"b")
        self.assertJSON(self.agent.kv_delete(p + "dir"), True)
        self.assertIsNone(self.agent.kv_entry(p + "dir"))
        self.assertIsNotNone(self.agent.kv_entry(p + "dir/child"))

    def test_delete_recurse(self):
        p = self.prefix
        for k in ("x/a", "x/b", "x/c/d", "y"):
            self.agent.kv_put(p + k, b"v")
        self.assertJSON(self.agent.kv_delete(p + "x/", {"recurse": None}), True)
        self.assertStatus(self.agent.kv_get(p + "x/", {"recurse": None}), 404)
        self.assertIsNotNone(self.agent.kv_entry(p + "y"))

    def test_missing_key_name(self):
        # Consul: "Missing key name" for a PUT to /v1/kv/ and a non-recursive GET of it.
        resp = self.agent.put("/v1/kv/", body=b"x")
        self.assertStatus(resp, 400)
        self.assertIn("Missing key name", resp.text)
        resp = self.agent.get("/v1/kv/")
        self.assertStatus(resp, 400)

    def test_keys_at_root_is_a_list(self):
        self.agent.kv_put(self.prefix + "k", b"v")
        resp = self.agent.get("/v1/kv/?keys")
        self.assertStatus(resp, 200)
        self.assertIn(self.prefix + "k", resp.json())

    def test_recurse_at_root_lists_everything(self):
        self.agent.kv_put(self.prefix + "k", b"v")
        resp = self.agent.get("/v1/kv/?recurse")
        self.assertStatus(resp, 200)
        self.assertIn(self.prefix + "k", [e["Key"] for e in resp.json()])

    def test_key_with_url_escapes(self):
        # Comma and dot are legal key characters that a client percent-encodes.
        key = self.prefix + "a,b-c_d.e/f"
        self.assertJSON(self.agent.kv_put(key, b"v"), True)
        self.assertEqual(self.agent.kv_entry(key)["Key"], key)


class KVCasTest(AgentTestCase):

    def test_cas_zero_creates_only_if_absent(self):
        key = self.prefix + "k"
        self.assertJSON(self.agent.kv_put(key, b"first", {"cas": 0}), True)
        self.assertJSON(self.agent.kv_put(key, b"second", {"cas": 0}), False)
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), b"first")

    def test_cas_with_modify_index(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        idx = self.agent.kv_entry(key)["ModifyIndex"]
        self.assertJSON(self.agent.kv_put(key, b"stale", {"cas": idx + 1000}), False)
        self.assertJSON(self.agent.kv_put(key, b"stale", {"cas": idx - 1}), False)
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), b"v1")
        self.assertJSON(self.agent.kv_put(key, b"v2", {"cas": idx}), True)
        entry = self.agent.kv_entry(key)
        self.assertEqual(unb64(entry["Value"]), b"v2")
        self.assertGreater(entry["ModifyIndex"], idx)
        # The old index is now stale.
        self.assertJSON(self.agent.kv_put(key, b"v3", {"cas": idx}), False)

    def test_cas_nonzero_on_missing_key_fails(self):
        key = self.prefix + "absent"
        self.assertJSON(self.agent.kv_put(key, b"v", {"cas": 5}), False)
        self.assertIsNone(self.agent.kv_entry(key))

    def test_delete_cas(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        idx = self.agent.kv_entry(key)["ModifyIndex"]
        self.assertJSON(self.agent.kv_delete(key, {"cas": idx + 1000}), False)
        self.assertIsNotNone(self.agent.kv_entry(key))
        # Unlike PUT, a delete with cas=0 never deletes.
        self.assertJSON(self.agent.kv_delete(key, {"cas": 0}), False)
        self.assertIsNotNone(self.agent.kv_entry(key))
        self.assertJSON(self.agent.kv_delete(key, {"cas": idx}), True)
        self.assertIsNone(self.agent.kv_entry(key))

    def test_bad_cas_rejected_and_nothing_written(self):
        key = self.prefix + "k"
        resp = self.agent.kv_put(key, b"v", {"cas": "notanumber"})
        self.assertIn(resp.status, (400, 500), resp)
        self.assertIsNone(self.agent.kv_entry(key))

    def test_conflicting_flags_are_400(self):
        key = self.prefix + "k"
        sid = self.agent.session_create({"LockDelay": "0s"})
        self.addCleanup(self.agent.session_destroy, sid)
        resp = self.agent.kv_put(key, b"v", {"cas": 0, "acquire": sid})
        self.assertStatus(resp, 400)
        # Consul quotes the parameters as Go's url.Values.Encode writes them: sorted by key.
        self.assertEqual(resp.text, f"Conflicting flags: acquire={sid}&cas=0\n")
        self.assertIsNone(self.agent.kv_entry(key))
        self.agent.kv_put(key, b"v")
        resp = self.agent.kv_delete(key, {"recurse": None, "cas": 1})
        self.assertStatus(resp, 400)
        self.assertIsNotNone(self.agent.kv_entry(key))


class KVLimitsTest(AgentTestCase):

    def test_value_at_limit_is_accepted(self):
        key = self.prefix + "max"
        value = b"m" * KV_VALUE_SIZE_MAX
        self.assertJSON(self.agent.kv_put(key, value), True)
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, value)

    def test_value_over_limit_is_413_and_nothing_written(self):
        key = self.prefix + "big"
        resp = self.agent.kv_put(key, b"x" * (KV_VALUE_SIZE_MAX + 1))
        self.assertStatus(resp, 413)
        self.assertTrue(resp.text.strip(), "413 should say why")
        self.assertIsNone(self.agent.kv_entry(key))

    def test_over_limit_does_not_overwrite_existing_value(self):
        key = self.prefix + "keep"
        self.agent.kv_put(key, b"original")
        self.assertStatus(self.agent.kv_put(key, b"x" * (KV_VALUE_SIZE_MAX + 100)), 413)
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), b"original")

    def test_huge_body_is_413_and_agent_survives(self):
        key = self.prefix + "huge"
        resp = self.agent.kv_put(key, b"h" * (4 * 1024 * 1024))
        self.assertStatus(resp, 413)
        self.assertIsNone(self.agent.kv_entry(key))
        self.assertJSON(self.agent.kv_put(self.prefix + "after", b"ok"), True)


class KVLockTest(AgentTestCase):

    def session(self, **fields):
        body = {"LockDelay": "0s"}
        body.update(fields)
        sid = self.agent.session_create(body)
        self.addCleanup(self.agent.session_destroy, sid)
        return sid

    def test_acquire_sets_session_and_lock_index(self):
        key = self.prefix + "lock"
        sid = self.session()
        self.assertJSON(self.agent.kv_put(key, b"held", {"acquire": sid}), True)
        entry = self.agent.kv_entry(key)
        self.assertEqual(entry["Session"], sid)
        self.assertEqual(entry["LockIndex"], 1)
        self.assertEqual(unb64(entry["Value"]), b"held")

    def test_reacquire_by_holder_keeps_lock_index(self):
        key = self.prefix + "lock"
        sid = self.session()
        self.agent.kv_put(key, b"a", {"acquire": sid})
        self.assertJSON(self.agent.kv_put(key, b"b", {"acquire": sid}), True)
        entry = self.agent.kv_entry(key)
        self.assertEqual(entry["LockIndex"], 1)
        self.assertEqual(unb64(entry["Value"]), b"b")

    def test_plain_put_on_held_key_keeps_holder_and_resets_lock_index(self):
        # Consul's kvsSetTxn keeps the session but takes LockIndex from the request (none).
        key = self.prefix + "lock"
        sid = self.session()
        self.agent.kv_put(key, b"a", {"acquire": sid})
        self.assertJSON(self.agent.kv_put(key, b"b"), True)
        entry = self.agent.kv_entry(key)
        self.assertEqual(entry["Session"], sid)
        self.assertEqual(entry["LockIndex"], 0)
        self.assertEqual(unb64(entry["Value"]), b"b")

    def test_second_session_cannot_acquire_held_lock(self):
        key = self.prefix + "lock"
        a, b = self.session(), self.session()
        self.assertJSON(self.agent.kv_put(key, b"a", {"acquire": a}), True)
        self.assertJSON(self.agent.kv_put(key, b"b", {"acquire": b}), False)
        entry = self.agent.kv_entry(key)
        self.assertEqual(entry["Session"], a)
        self.assertEqual(unb64(entry["Value"]), b"a")

    def test_release(self):
        key = self.prefix + "lock"
        a, b = self.session(), self.session()
        self.agent.kv_put(key, b"a", {"acquire": a})
        # Only the holder may release.
        self.assertJSON(self.agent.kv_put(key, b"x", {"release": b}), False)
        self.assertEqual(self.agent.kv_entry(key)["Session"], a)
        self.assertJSON(self.agent.kv_put(key, b"released", {"release": a}), True)
        entry = self.agent.kv_entry(key)
        self.assertNotIn("Session", entry)
        self.assertEqual(entry["LockIndex"], 1)
        self.assertEqual(unb64(entry["Value"]), b"released")
        # Explicit release sets no lock-delay: b acquires at once, LockIndex counts it.
        self.assertJSON(self.agent.kv_put(key, b"b", {"acquire": b}), True)
        self.assertEqual(self.agent.kv_entry(key)["LockIndex"], 2)

    def test_plain_put_on_locked_key_keeps_lock(self):
        key = self.prefix + "lock"
        sid = self.session()
        self.agent.kv_put(key, b"a", {"acquire": sid})
        self.assertJSON(self.agent.kv_put(key, b"overwrite"), True)
        entry = self.agent.kv_entry(key)
        self.assertEqual(entry["Session"], sid)
        self.assertEqual(unb64(entry["Value"]), b"overwrite")

    def test_delete_of_locked_key_is_allowed(self):
        # Locks are advisory: a plain DELETE removes a locked key.
        key = self.prefix + "lock"
        sid = self.session()
        self.agent.kv_put(key, b"a", {"acquire": sid})
        self.assertJSON(self.agent.kv_delete(key), True)
        self.assertIsNone(self.agent.kv_entry(key))

    def test_acquire_with_unknown_session_is_500(self):
        key = self.prefix + "lock"
        bogus = "00000000-0000-0000-0000-000000000001"
        resp = self.agent.kv_put(key, b"v", {"acquire": bogus})
        self.assertStatus(resp, 500)
        self.assertIn(f'invalid session "{bogus}"', resp.text)
        self.assertIsNone(self.agent.kv_entry(key))

    def test_destroy_with_release_behavior_releases_and_keeps_value(self):
        key = self.prefix + "lock"
        sid = self.agent.session_create({"LockDelay": "0s", "Behavior": "release"})
        self.agent.kv_put(key, b"kept", {"acquire": sid})
        self.assertJSON(self.agent.put(f"/v1/session/destroy/{sid}"), True)
        entry = self.agent.kv_entry(key)
        self.assertIsNotNone(entry)
        self.assertNotIn("Session", entry)
        self.assertEqual(unb64(entry["Value"]), b"kept")

    def test_destroy_with_delete_behavior_deletes_key(self):
        key = self.prefix + "lock"
        other = self.prefix + "unlocked"
        sid = self.agent.session_create({"LockDelay": "0s", "Behavior": "delete"})
        self.agent.kv_put(key, b"gone", {"acquire": sid})
        self.agent.kv_put(other, b"stays")
        self.assertJSON(self.agent.put(f"/v1/session/destroy/{sid}"), True)
        self.assertIsNone(self.agent.kv_entry(key))
        self.assertIsNotNone(self.agent.kv_entry(other))

    def test_lock_delay_blocks_acquire_after_invalidation(self):
        key = self.prefix + "lock"
        holder = self.agent.session_create({"LockDelay": "1s"})
        waiter = self.session()
        self.assertJSON(self.agent.kv_put(key, b"h", {"acquire": holder}), True)
        destroyed_at = time.monotonic()
        self.agent.session_destroy(holder)
        # Within the lock-delay window the acquire is refused (false, not an error).
        self.assertJSON(self.agent.kv_put(key, b"w", {"acquire": waiter}), False)
        acquired_at = wait_until(
            lambda: self.agent.kv_put(key, b"w", {"acquire": waiter}).json() is True
            and time.monotonic(), timeout_s=6.0, interval_s=0.1,
            message="acquire after the 1s lock delay")
        self.assertGreaterEqual(acquired_at - destroyed_at, 0.9)
        self.assertEqual(self.agent.kv_entry(key)["Session"], waiter)

    def test_zero_lock_delay_allows_immediate_acquire(self):
        key = self.prefix + "lock"
        holder = self.agent.session_create({"LockDelay": "0s"})
        waiter = self.session()
        self.agent.kv_put(key, b"h", {"acquire": holder})
        self.agent.session_destroy(holder)
        self.assertJSON(self.agent.kv_put(key, b"w", {"acquire": waiter}), True)

    def test_default_lock_delay_is_15s(self):
        key = self.prefix + "lock"
        holder = self.agent.session_create()  # Consul's default LockDelay: 15s
        waiter = self.session()
        self.agent.kv_put(key, b"h", {"acquire": holder})
        self.agent.session_destroy(holder)
        # Still refused a couple of seconds later: far inside 15 s.
        time.sleep(2.0)
        self.assertJSON(self.agent.kv_put(key, b"w", {"acquire": waiter}), False)


class KVBlockingTest(AgentTestCase):
    """Blocking queries: ?index=N&wait=D parks until what was read changes past N."""

    def blocking_get(self, key, index, wait, params=None, timeout=60.0):
        q = {"index": index, "wait": wait}
        q.update(params or {})
        return self.agent.kv_get(key, q, timeout=timeout)

    def test_write_to_key_wakes_watch(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        first = self.agent.kv_get(key)
        call = BackgroundCall(self.blocking_get, key, first.index, "30s")
        time.sleep(0.3)
        self.assertFalse(call.done(), "blocking query returned before any write")
        self.agent.kv_put(key, b"v2")
        resp = call.join(20.0)
        self.assertStatus(resp, 200)
        self.assertLess(call.elapsed, 10.0, "watch should wake on the write, not at wait")
        self.assertGreater(resp.index, first.index)
        self.assertEqual(unb64(resp.json()[0]["Value"]), b"v2")

    def test_wait_expires_with_same_index_when_nothing_changes(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        first = self.agent.kv_get(key)
        elapsed, resp = timed(self.blocking_get, key, first.index, "1s")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.index, first.index)
        # Consul adds up to wait/16 of jitter; allow scheduling slack on a busy machine.
        self.assertGreaterEqual(elapsed, 0.95)
        self.assertLess(elapsed, 1.0 + 1.0 / 16 + 3.0)

    def test_write_to_other_key_does_not_wake_watch(self):
        key, other = self.prefix + "watched", self.prefix + "watchedX"
        self.agent.kv_put(key, b"v1")
        first = self.agent.kv_get(key)
        call = BackgroundCall(self.blocking_get, key, first.index, "2s")
        time.sleep(0.2)
        for i in range(5):
            self.agent.kv_put(other, str(i).encode())
        resp = call.join(20.0)
        self.assertGreaterEqual(call.elapsed, 1.9,
                                "a write to another key woke the watch early")
        self.assertStatus(resp, 200)
        entry = resp.json()[0]
        self.assertEqual(entry["ModifyIndex"], first.json()[0]["ModifyIndex"])
        self.assertEqual(unb64(entry["Value"]), b"v1")

    def test_write_outside_prefix_does_not_wake_recursive_watch(self):
        p = self.prefix
        self.agent.kv_put(p + "in/a", b"1")
        first = self.agent.kv_get(p + "in/", {"recurse": None})
        call = BackgroundCall(self.blocking_get, p + "in/", first.index, "2s",
                              {"recurse": None})
        time.sleep(0.2)
        self.agent.kv_put(p + "out/a", b"x")
        self.agent.kv_put(p + "in", b"not under in/")
        resp = call.join(20.0)
        self.assertGreaterEqual(call.elapsed, 1.9)
        self.assertEqual([e["Key"] for e in resp.json()], [p + "in/a"])

    def test_write_inside_prefix_wakes_recursive_watch(self):
        p = self.prefix
        self.agent.kv_put(p + "in/a", b"1")
        first = self.agent.kv_get(p + "in/", {"recurse": None})
        call = BackgroundCall(self.blocking_get, p + "in/", first.index, "30s",
                              {"recurse": None})
        time.sleep(0.3)
        self.agent.kv_put(p + "in/deep/b", b"2")
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertGreater(resp.index, first.index)
        self.assertEqual([e["Key"] for e in resp.json()], [p + "in/a", p + "in/deep/b"])

    def test_keys_watch_wakes_on_new_key(self):
        p = self.prefix
        self.agent.kv_put(p + "a", b"1")
        first = self.agent.kv_get(p, {"keys": None})
        call = BackgroundCall(self.blocking_get, p, first.index, "30s", {"keys": None})
        time.sleep(0.3)
        self.agent.kv_put(p + "b", b"2")
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertEqual(resp.json(), [p + "a", p + "b"])

    def test_delete_wakes_watch_and_index_moves_forward(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        first = self.agent.kv_get(key)
        call = BackgroundCall(self.blocking_get, key, first.index, "30s")
        time.sleep(0.3)
        self.agent.kv_delete(key)
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertStatus(resp, 404)
        self.assertGreater(resp.index, first.index)

    def test_delete_in_prefix_wakes_recursive_watch_with_newer_index(self):
        p = self.prefix
        self.agent.kv_put(p + "a", b"1")
        self.agent.kv_put(p + "b", b"2")
        first = self.agent.kv_get(p, {"recurse": None})
        call = BackgroundCall(self.blocking_get, p, first.index, "30s", {"recurse": None})
        time.sleep(0.3)
        self.agent.kv_delete(p + "b")
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertStatus(resp, 200)
        # The remaining key is older than the delete, yet the index must move past it
        # (Consul keeps tombstones for exactly this), or clients would spin or stall.
        self.assertGreater(resp.index, first.index)
        self.assertEqual([e["Key"] for e in resp.json()], [p + "a"])

    def test_watch_on_missing_key_wakes_on_create(self):
        key = self.prefix + "later"
        first = self.agent.kv_get(key)
        self.assertStatus(first, 404)
        call = BackgroundCall(self.blocking_get, key, first.index, "30s")
        time.sleep(0.3)
        self.agent.kv_put(key, b"now")
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertStatus(resp, 200)
        self.assertEqual(unb64(resp.json()[0]["Value"]), b"now")

    def test_stale_index_returns_immediately(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        old = self.agent.kv_get(key).index
        self.agent.kv_put(key, b"v2")
        elapsed, resp = timed(self.blocking_get, key, old, "30s")
        self.assertLess(elapsed, 5.0)
        self.assertGreater(resp.index, old)

    def test_index_ahead_of_server_blocks_until_wait(self):
        # Consul returns only once the index passes the one asked for, or at the wait.
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        ahead = self.agent.kv_get(key).index + 1000
        elapsed, resp = timed(self.blocking_get, key, ahead, "1s")
        self.assertStatus(resp, 200)
        self.assertGreaterEqual(elapsed, 0.95)
        self.assertLess(elapsed, 5.0)

    def test_keys_with_separator_watch_ignores_other_prefixes(self):
        p = self.prefix
        self.agent.kv_put(p + "dir/a", b"1")
        first = self.agent.kv_get(p + "dir/", {"keys": None, "separator": "/"})
        call = BackgroundCall(self.blocking_get, p + "dir/", first.index, "2s",
                              {"keys": None, "separator": "/"})
        time.sleep(0.2)
        self.agent.kv_put(p + "dirx/b", b"2")
        resp = call.join(20.0)
        self.assertGreaterEqual(call.elapsed, 1.9)
        self.assertEqual(resp.json(), [p + "dir/a"])
        call = BackgroundCall(self.blocking_get, p + "dir/", first.index, "30s",
                              {"keys": None, "separator": "/"})
        time.sleep(0.2)
        self.agent.kv_put(p + "dir/sub/c", b"3")
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertEqual(resp.json(), [p + "dir/a", p + "dir/sub/"])

    def test_index_zero_does_not_block(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        elapsed, resp = timed(self.blocking_get, key, 0, "30s")
        self.assertStatus(resp, 200)
        self.assertLess(elapsed, 5.0)

    def test_wait_without_index_does_not_block(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        elapsed, resp = timed(self.agent.kv_get, key, {"wait": "30s"})
        self.assertStatus(resp, 200)
        self.assertLess(elapsed, 5.0)

    def test_index_never_goes_backwards(self):
        # Per query (the same key, or the same prefix), across writes and deletes.
        p = self.prefix
        series = {}

        def read(name, key, params=None):
            series.setdefault(name, []).append(self.agent.kv_get(key, params).index)

        for i in range(12):
            key = p + f"k{i % 3}"
            self.agent.kv_put(key, str(i).encode())
            if i % 4 == 3:
                self.agent.kv_delete(key)
            for k in range(3):
                read(f"key k{k}", p + f"k{k}")
            read("recurse", p, {"recurse": None})
            read("keys", p, {"keys": None})
        for name, indexes in series.items():
            self.assertEqual(indexes, sorted(indexes), f"{name}: index went backwards")
        self.assertGreater(series["recurse"][-1], series["recurse"][0])

    def test_go_duration_syntax_for_wait(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v1")
        idx = self.agent.kv_get(key).index
        for wait, low, high in (("0.5s", 0.45, 4.0), ("500ms", 0.45, 4.0),
                                ("0.001s", 0.0, 3.0), ("1.0s", 0.95, 4.5)):
            elapsed, resp = timed(self.blocking_get, key, idx, wait)
            self.assertStatus(resp, 200, f"wait={wait}")
            self.assertGreaterEqual(elapsed, low, f"wait={wait}")
            self.assertLess(elapsed, high, f"wait={wait}")
        # Long forms that a write cuts short: 120000ms and 2m.
        for wait in ("120000ms", "2m", "10.0s"):
            idx = self.agent.kv_get(key).index
            call = BackgroundCall(self.blocking_get, key, idx, wait)
            time.sleep(0.2)
            self.agent.kv_put(key, wait.encode())
            resp = call.join(20.0)
            self.assertStatus(resp, 200, f"wait={wait}")
            self.assertEqual(unb64(resp.json()[0]["Value"]), wait.encode())

    def test_bad_wait_and_bad_index_are_400(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        resp = self.agent.kv_get(key, {"index": 1, "wait": "10"})
        self.assertStatus(resp, 400)
        self.assertIn("Invalid wait time", resp.text)
        resp = self.agent.kv_get(key, {"index": 1, "wait": "soon"})
        self.assertStatus(resp, 400)
        self.assertIn("Invalid wait time", resp.text)
        for bad in ("abc", "-1", "1.5"):
            resp = self.agent.kv_get(key, {"index": bad})
            self.assertStatus(resp, 400, f"index={bad}")
            self.assertIn("Invalid index", resp.text)

    def test_many_parked_watches_wake_only_where_written(self):
        p = self.prefix
        keys = [p + f"w{i}" for i in range(20)]
        for k in keys:
            self.agent.kv_put(k, b"0")
        indexes = {k: self.agent.kv_get(k).index for k in keys}
        calls = {k: BackgroundCall(self.blocking_get, k, indexes[k], "3s") for k in keys}
        time.sleep(0.5)
        woken = keys[::5]
        for k in woken:
            self.agent.kv_put(k, b"1")
        for k, call in calls.items():
            resp = call.join(30.0)
            value = unb64(resp.json()[0]["Value"])
            if k in woken:
                self.assertEqual(value, b"1", k)
                self.assertLess(call.elapsed, 2.9, f"{k} should have woken on its write")
            else:
                self.assertEqual(value, b"0", k)
                self.assertGreaterEqual(call.elapsed, 2.9, f"{k} woke without a write")


    def test_hundreds_of_parked_watches_wake_together(self):
        p = self.prefix
        self.agent.kv_put(p + "seed", b"0")
        idx = self.agent.kv_get(p, {"recurse": None}).index
        calls = [BackgroundCall(self.blocking_get, p, idx, "60s", {"recurse": None},
                                timeout=90.0) for _ in range(200)]
        time.sleep(1.0)
        self.assertFalse(any(c.done() for c in calls), "a watch returned before the write")
        written_at = time.monotonic()
        self.agent.kv_put(p + "wake", b"1")
        for call in calls:
            resp = call.join(60.0)
            self.assertStatus(resp, 200)
            self.assertGreater(resp.index, idx)
            self.assertEqual(len(resp.json()), 2)
        slowest = max(c.finished for c in calls) - written_at
        self.assertLess(slowest, 10.0, "200 parked watches took too long to wake")


class KVConsistencyFlagsTest(AgentTestCase):

    def test_stale_and_consistent_flags(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        for params in ({"stale": None}, {"stale": "1"}, {"stale": "true"},
                       {"consistent": None}, {"consistent": "1"}):
            resp = self.agent.kv_get(key, params)
            self.assertStatus(resp, 200, str(params))
            self.assertEqual(unb64(resp.json()[0]["Value"]), b"v")
            self.assertIsNotNone(resp.header("X-Consul-KnownLeader"))
            self.assertIsNotNone(resp.header("X-Consul-LastContact"))

    def test_stale_with_consistent_is_400(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        resp = self.agent.kv_get(key, {"stale": None, "consistent": None})
        self.assertStatus(resp, 400)
        self.assertIn("Cannot specify ?stale with ?consistent, conflicting semantics.",
                      resp.text)

    def test_read_headers(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        resp = self.agent.kv_get(key)
        self.assertGreaterEqual(resp.index, 1)
        self.assertEqual(resp.header("X-Consul-KnownLeader"), "true")
        self.assertEqual(resp.header("X-Consul-LastContact"), "0")
        self.assertIsNotNone(resp.header("X-Consul-Default-ACL-Policy"))

    def test_method_not_allowed(self):
        resp = self.agent.request("POST", kv_path(self.prefix + "k"), body=b"v")
        self.assertStatus(resp, 405)
        self.assertIsNone(self.agent.kv_entry(self.prefix + "k"))


if __name__ == "__main__":
    unittest.main()
