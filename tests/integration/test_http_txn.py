"""/v1/txn: atomic KV transactions, Consul's verbs, result shapes, rollback and limits.

Facts from Consul's api-docs/txn and agent/txn_endpoint.go + state/txn.go: a request is a JSON
array of {"KV": {...}} operations; success is 200 {"Results":[{"KV":entry}...],"Errors":null};
any failing op rolls the whole transaction back and answers 409
{"Results":null,"Errors":[{"OpIndex":i,"What":"..."}]}. Write verbs return the entry with its
Value blanked; get/get-tree return values; delete verbs and check-not-exists return nothing.
"""

import time
import unittest

from proconsul import AgentTestCase, BackgroundCall, b64, unb64


def kv(verb, key, value=None, **extra):
    op = {"Verb": verb, "Key": key}
    if value is not None:
        op["Value"] = b64(value)
    op.update(extra)
    return {"KV": op}


class TxnTest(AgentTestCase):

    def txn(self, ops, status=None):
        resp = self.agent.put("/v1/txn", body=ops)
        if status is not None:
            self.assertStatus(resp, status)
        return resp

    def assertConflict(self, resp, op_index, key_in_what=None):
        self.assertStatus(resp, 409)
        body = resp.json()
        self.assertIsNone(body.get("Results"), body)
        errors = body.get("Errors")
        self.assertIsInstance(errors, list, body)
        self.assertTrue(errors, body)
        for err in errors:
            self.assertEqual(set(err), {"OpIndex", "What"}, err)
        failing = [e for e in errors if e["OpIndex"] == op_index]
        self.assertTrue(failing, f"no error for op {op_index}: {errors}")
        if key_in_what is not None:
            self.assertIn(key_in_what, failing[0]["What"])

    def test_empty_key_is_refused_before_anything_applies(self):
        key = self.prefix + "kept"
        resp = self.txn([kv("set", key, b"1"), kv("set", "", b"x")])
        self.assertConflict(resp, 1, "Must provide key")
        self.assertEqual(self.agent.get(f"/v1/kv/{key}").status, 404)

    def test_lock_inside_lock_delay_is_refused(self):
        key = self.prefix + "delayed"
        holder = self.agent.session_create({"LockDelay": "10s"})
        other = self.agent.session_create({"LockDelay": "0s"})
        self.addCleanup(self.agent.put, f"/v1/session/destroy/{other}")
        self.assertEqual(self.agent.put(f"/v1/kv/{key}?acquire={holder}", body=b"v").json(), True)
        self.assertEqual(self.agent.put(f"/v1/session/destroy/{holder}").json(), True)
        resp = self.txn([kv("lock", key, b"v", Session=other)])
        self.assertConflict(resp, 0)
        self.assertEqual(resp.json()["Errors"][0]["What"],
                         f'failed to lock key "{key}" due to lock delay')

    def test_set_returns_entries_without_values(self):
        a, b = self.prefix + "a", self.prefix + "b"
        resp = self.txn([kv("set", a, b"1"), kv("set", b, b"2", Flags=7)], 200)
        self.assertIn("application/json", resp.header("Content-Type", ""))
        body = resp.json()
        self.assertIsNone(body["Errors"])
        results = body["Results"]
        self.assertEqual(len(results), 2)
        ra, rb = results[0]["KV"], results[1]["KV"]
        self.assertEqual((ra["Key"], rb["Key"]), (a, b))
        self.assertIsNone(ra["Value"])
        self.assertIsNone(rb["Value"])
        self.assertEqual(rb["Flags"], 7)
        # One transaction, one Raft index for every write in it.
        self.assertEqual(ra["ModifyIndex"], rb["ModifyIndex"])
        self.assertEqual(ra["CreateIndex"], ra["ModifyIndex"])
        self.assertEqual(unb64(self.agent.kv_entry(a)["Value"]), b"1")
        entry_b = self.agent.kv_entry(b)
        self.assertEqual(unb64(entry_b["Value"]), b"2")
        self.assertEqual(entry_b["Flags"], 7)
        self.assertEqual(entry_b["ModifyIndex"], rb["ModifyIndex"])

    def test_get_and_get_tree_return_values(self):
        p = self.prefix
        self.agent.kv_put(p + "x/1", b"one")
        self.agent.kv_put(p + "x/2", b"two")
        self.agent.kv_put(p + "y", b"other")
        resp = self.txn([kv("get", p + "y"), kv("get-tree", p + "x/")], 200)
        # A read-only transaction is served like a read: leader headers are set.
        self.assertEqual(resp.header("X-Consul-KnownLeader"), "true")
        self.assertIsNotNone(resp.header("X-Consul-LastContact"))
        results = resp.json()["Results"]
        self.assertEqual([r["KV"]["Key"] for r in results], [p + "y", p + "x/1", p + "x/2"])
        self.assertEqual([unb64(r["KV"]["Value"]) for r in results], [b"other", b"one", b"two"])

    def test_ops_see_earlier_ops_in_the_same_transaction(self):
        key = self.prefix + "k"
        resp = self.txn([kv("set", key, b"fresh"), kv("get", key),
                         kv("delete", key), kv("check-not-exists", key),
                         kv("set", key, b"again")], 200)
        results = resp.json()["Results"]
        self.assertEqual(unb64(results[1]["KV"]["Value"]), b"fresh")
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), b"again")

    def test_get_missing_key_is_conflict(self):
        missing = self.prefix + "missing"
        resp = self.txn([kv("get", missing)])
        self.assertConflict(resp, 0, missing)

    def test_failure_rolls_back_earlier_ops(self):
        p = self.prefix
        self.agent.kv_put(p + "existing", b"old")
        resp = self.txn([
            kv("set", p + "new", b"n"),
            kv("set", p + "existing", b"changed"),
            kv("delete", p + "existing"),
            kv("cas", p + "existing", b"x", Index=999999999),
        ])
        self.assertConflict(resp, 3, p + "existing")
        self.assertIsNone(self.agent.kv_entry(p + "new"))
        self.assertEqual(unb64(self.agent.kv_entry(p + "existing")["Value"]), b"old")

    def test_cas(self):
        key = self.prefix + "k"
        # Index 0: create only if absent.
        self.txn([kv("cas", key, b"v1", Index=0)], 200)
        self.assertConflict(self.txn([kv("cas", key, b"v2", Index=0)]), 0, key)
        idx = self.agent.kv_entry(key)["ModifyIndex"]
        self.assertConflict(self.txn([kv("cas", key, b"v2", Index=idx + 1000)]), 0, key)
        resp = self.txn([kv("cas", key, b"v2", Index=idx)], 200)
        self.assertGreater(resp.json()["Results"][0]["KV"]["ModifyIndex"], idx)
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), b"v2")

    def test_check_index(self):
        key = self.prefix + "k"
        self.agent.kv_put(key, b"v")
        idx = self.agent.kv_entry(key)["ModifyIndex"]
        other = self.prefix + "other"
        resp = self.txn([kv("check-index", key, Index=idx), kv("set", other, b"o")], 200)
        self.assertEqual(resp.json()["Results"][0]["KV"]["Key"], key)
        self.assertConflict(
            self.txn([kv("set", other, b"changed"), kv("check-index", key, Index=idx + 1)]),
            1, key)
        self.assertEqual(unb64(self.agent.kv_entry(other)["Value"]), b"o")

    def test_check_not_exists(self):
        key, absent = self.prefix + "k", self.prefix + "absent"
        self.agent.kv_put(key, b"v")
        resp = self.txn([kv("check-not-exists", absent), kv("set", absent, b"now")], 200)
        # check-not-exists yields no result entry; only the set does.
        results = resp.json()["Results"]
        self.assertEqual([r["KV"]["Key"] for r in results], [absent])
        self.assertConflict(self.txn([kv("check-not-exists", key)]), 0, key)

    def test_delete_delete_tree_delete_cas(self):
        p = self.prefix
        for k in ("a", "tree/1", "tree/2", "c"):
            self.agent.kv_put(p + k, b"v")
        idx_c = self.agent.kv_entry(p + "c")["ModifyIndex"]
        self.assertConflict(self.txn([kv("delete-cas", p + "c", Index=idx_c + 1000)]), 0,
                            p + "c")
        resp = self.txn([kv("delete", p + "a"), kv("delete-tree", p + "tree/"),
                         kv("delete-cas", p + "c", Index=idx_c)], 200)
        # Delete verbs produce no result entries.
        self.assertIn(resp.json()["Results"], ([], None))
        for k in ("a", "tree/1", "tree/2", "c"):
            self.assertIsNone(self.agent.kv_entry(p + k), k)

    def test_lock_unlock_check_session(self):
        key = self.prefix + "lock"
        a = self.agent.session_create({"LockDelay": "0s"})
        b = self.agent.session_create({"LockDelay": "0s"})
        self.addCleanup(self.agent.session_destroy, a)
        self.addCleanup(self.agent.session_destroy, b)
        resp = self.txn([kv("lock", key, b"held", Session=a)], 200)
        result = resp.json()["Results"][0]["KV"]
        self.assertEqual(result["Session"], a)
        self.assertEqual(result["LockIndex"], 1)
        self.txn([kv("check-session", key, Session=a)], 200)
        self.assertConflict(self.txn([kv("check-session", key, Session=b)]), 0, key)
        self.assertConflict(self.txn([kv("lock", key, b"mine", Session=b)]), 0, key)
        self.assertConflict(self.txn([kv("unlock", key, b"x", Session=b)]), 0, key)
        self.txn([kv("unlock", key, b"free", Session=a)], 200)
        entry = self.agent.kv_entry(key)
        self.assertNotIn("Session", entry)
        self.assertEqual(unb64(entry["Value"]), b"free")

    def test_lock_with_unknown_session_is_conflict(self):
        key = self.prefix + "lock"
        resp = self.txn([kv("lock", key, b"v", Session="00000000-0000-0000-0000-00000000dead")])
        self.assertConflict(resp, 0)
        self.assertIn("invalid session", resp.json()["Errors"][0]["What"])
        self.assertIsNone(self.agent.kv_entry(key))

    def test_null_value_sets_empty(self):
        key = self.prefix + "k"
        self.txn([{"KV": {"Verb": "set", "Key": key, "Value": None}}], 200)
        self.assertEqual(self.agent.kv_get(key, {"raw": None}).body, b"")

    def test_keys_are_case_insensitive(self):
        key = self.prefix + "k"
        self.txn([{"kv": {"verb": "set", "key": key, "value": b64(b"lower")}}], 200)
        self.assertEqual(unb64(self.agent.kv_entry(key)["Value"]), b"lower")

    def test_max_ops_accepted_and_too_many_is_413(self):
        p = self.prefix
        # 64 is Consul's historical limit: always accepted.
        self.txn([kv("set", p + f"ok{i}", b"v") for i in range(64)], 200)
        self.assertIsNotNone(self.agent.kv_entry(p + "ok63"))
        resp = self.txn([kv("set", p + f"no{i}", b"v") for i in range(200)])
        self.assertStatus(resp, 413)
        self.assertIn("too many operations", resp.text)
        self.assertStatus(self.agent.kv_get(p + "no", {"recurse": None}), 404)

    def test_body_too_large_is_413(self):
        key = self.prefix + "big"
        # 700 KiB of value is ~930 KiB of base64: past the 512 KiB request limit.
        resp = self.txn([kv("set", key, b"z" * (700 * 1024))])
        self.assertStatus(resp, 413)
        self.assertIsNone(self.agent.kv_entry(key))

    def test_malformed_json_is_400(self):
        key = self.prefix + "k"
        for body in (b'[{"KV": {"Verb": "set", "Key": "' + key.encode() + b'"',
                     b"not json", b"{}"):
            resp = self.agent.put("/v1/txn", body=body)
            self.assertStatus(resp, 400, f"body {body!r}")
            self.assertTrue(resp.text.strip())
        self.assertIsNone(self.agent.kv_entry(key))

    def test_wrong_types_are_400(self):
        key = self.prefix + "k"
        bad_ops = [
            [{"KV": {"Verb": "set", "Key": {"nested": 1}, "Value": b64(b"v")}}],
            [{"KV": {"Verb": "set", "Key": key, "Value": 12345}}],
            [{"KV": {"Verb": "set", "Key": key, "Value": "%%%not-base64%%%"}}],
            [{"KV": {"Verb": "set", "Key": key, "Flags": "seven"}}],
            [{"KV": {"Verb": "cas", "Key": key, "Index": [1]}}],
        ]
        for ops in bad_ops:
            resp = self.txn(ops)
            self.assertStatus(resp, 400, f"ops {ops!r}")
        self.assertIsNone(self.agent.kv_entry(key))

    def test_unknown_verb_fails_and_writes_nothing(self):
        key = self.prefix + "k"
        resp = self.txn([kv("set", key, b"v"), kv("frobnicate", key)])
        self.assertIn(resp.status, (400, 409), resp)
        self.assertIsNone(self.agent.kv_entry(key))

    def test_txn_writes_wake_kv_watch(self):
        key = self.prefix + "w"
        self.agent.kv_put(key, b"0")
        idx = self.agent.kv_get(key).index
        call = BackgroundCall(self.agent.kv_get, key, {"index": idx, "wait": "30s"})
        time.sleep(0.3)
        self.txn([kv("set", key, b"1")], 200)
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertEqual(unb64(resp.json()[0]["Value"]), b"1")

    def test_method_must_be_put(self):
        resp = self.agent.get("/v1/txn")
        self.assertStatus(resp, 405)


if __name__ == "__main__":
    unittest.main()
