"""/v1/session: create, info, list, node, renew, destroy, TTL expiry and invalidation.

Facts from Consul's api-docs/session and agent/session_endpoint.go (HTTP) +
agent/consul/session_endpoint.go (server): defaults Node=<agent node>, LockDelay=15s,
Behavior=release, checks=[serfHealth]; LockDelay numbers under 1000 are seconds; TTL must be
0 or within [10s, 24h] ("Invalid Session TTL '<ns>', must be between [10s=24h0m0s]", 500);
sessions expire somewhere in [TTL, 2*TTL]; renew of an unknown session is 404
"Session id '<id>' not found"; info of an unknown session is [] (never null).
"""

import re
import time
import unittest

from proconsul import AgentTestCase, BackgroundCall, go_duration_s, unb64, wait_until

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NS = 1_000_000_000


class SessionTest(AgentTestCase):

    def create(self, body=None):
        sid = self.agent.session_create(body)
        self.addCleanup(self.agent.put, f"/v1/session/destroy/{sid}")
        return sid

    def info(self, sid):
        resp = self.agent.get(f"/v1/session/info/{sid}")
        self.assertStatus(resp, 200)
        sessions = resp.json()
        self.assertIsInstance(sessions, list)
        return sessions[0] if sessions else None

    def test_create_defaults(self):
        resp = self.agent.put("/v1/session/create")
        self.assertStatus(resp, 200)
        body = resp.json()
        self.assertEqual(set(body), {"ID"})
        sid = body["ID"]
        self.addCleanup(self.agent.put, f"/v1/session/destroy/{sid}")
        self.assertRegex(sid, UUID_RE)
        s = self.info(sid)
        self.assertEqual(s["ID"], sid)
        self.assertEqual(s["Node"], "test-node")
        self.assertEqual(s["LockDelay"], 15 * NS)
        self.assertEqual(s["Behavior"], "release")
        self.assertEqual(s.get("TTL", ""), "")
        self.assertEqual(s.get("Name", ""), "")
        checks = (s.get("NodeChecks") or []) + (s.get("Checks") or [])
        self.assertIn("serfHealth", checks)
        self.assertGreater(s["CreateIndex"], 0)
        self.assertGreaterEqual(s["ModifyIndex"], s["CreateIndex"])

    def test_create_with_fields(self):
        sid = self.create({"Name": "my-lock", "LockDelay": "1s", "Behavior": "delete",
                           "TTL": "30s"})
        s = self.info(sid)
        self.assertEqual(s["Name"], "my-lock")
        self.assertEqual(s["LockDelay"], 1 * NS)
        self.assertEqual(s["Behavior"], "delete")
        self.assertEqual(go_duration_s(s["TTL"]), 30.0)

    def test_ids_are_unique(self):
        ids = {self.create() for _ in range(20)}
        self.assertEqual(len(ids), 20)

    def test_lock_delay_spellings_and_units(self):
        cases = [
            ({"LockDelay": "2s"}, 2 * NS),
            ({"lockdelay": "2s"}, 2 * NS),
            ({"LOCKDELAY": "2s"}, 2 * NS),
            # snake_case is our documented extension (Consul's decoder ignores it).
            ({"lock_delay": "2s"}, 2 * NS),
            ({"LockDelay": "1.5s"}, 1_500_000_000),
            ({"LockDelay": "1500ms"}, 1_500_000_000),
            ({"LockDelay": "0s"}, 0),
            # Consul treats numbers below 1000 as seconds, larger ones as nanoseconds.
            ({"LockDelay": 5}, 5 * NS),
            ({"LockDelay": 0}, 0),
            ({"LockDelay": 3 * NS}, 3 * NS),
        ]
        for body, want in cases:
            s = self.info(self.create(body))
            self.assertEqual(s["LockDelay"], want, f"body {body}")

    def test_other_fields_case_insensitive_and_snake_case(self):
        s = self.info(self.create({"name": "lower", "behavior": "delete", "ttl": "10s"}))
        self.assertEqual((s["Name"], s["Behavior"]), ("lower", "delete"))
        self.assertEqual(go_duration_s(s["TTL"]), 10.0)
        s = self.info(self.create({"NAME": "upper", "node_checks": [], "TTL": "10.0s"}))
        self.assertEqual(s["Name"], "upper")
        self.assertEqual(go_duration_s(s["TTL"]), 10.0)

    def test_ttl_bounds(self):
        for ttl in ("10s", "24h", "86400s", "1440m", "0s", "600000ms"):
            self.create({"TTL": ttl})
        for ttl, nanos in (("9s", 9 * NS), ("9.999s", 9_999_000_000),
                           ("24h0m1s", 86401 * NS), ("25h", 25 * 3600 * NS)):
            resp = self.agent.put("/v1/session/create", body={"TTL": ttl})
            self.assertStatus(resp, 500, f"TTL {ttl}")
            self.assertIn(f"Invalid Session TTL '{nanos}', must be between [10s=24h0m0s]",
                          resp.text)

    def test_invalid_ttl_and_behavior(self):
        resp = self.agent.put("/v1/session/create", body={"TTL": "soon"})
        self.assertStatus(resp, 500)
        self.assertIn("Session TTL 'soon' invalid", resp.text)
        resp = self.agent.put("/v1/session/create", body={"Behavior": "explode"})
        self.assertStatus(resp, 500)
        self.assertIn("Invalid Behavior setting 'explode'", resp.text)

    def test_unknown_node_is_rejected(self):
        # Consul's state store refuses a session on a node it has no registration for.
        resp = self.agent.put("/v1/session/create", body={"Node": "ghost-node"})
        self.assertStatus(resp, 500)
        self.assertIn("Missing node registration", resp.text)
        self.assertEqual(self.agent.get("/v1/session/node/ghost-node").json(), [])

    def test_unknown_check_is_rejected(self):
        resp = self.agent.put("/v1/session/create", body={"NodeChecks": ["no-such-check"]})
        self.assertStatus(resp, 500)
        self.assertIn("Missing check 'no-such-check' registration", resp.text)

    def test_check_defaults_follow_consul(self):
        # Consul starts NodeChecks and the legacy Checks at [serfHealth]: an explicit empty list
        # in either empties the checks; legacy entries join NodeChecks.
        cases = [({}, ["serfHealth"]),
                 ({"Checks": []}, None),
                 ({"NodeChecks": []}, None),
                 ({"Checks": ["serfHealth"]}, ["serfHealth"]),
                 ({"NodeChecks": ["serfHealth"], "Checks": []}, None)]
        for body, want in cases:
            with self.subTest(body=body):
                got = self.info(self.create(body))["NodeChecks"]
                self.assertEqual(got, want)
        # A legacy check joins serfHealth, and must exist like any other.
        resp = self.agent.put("/v1/session/create", body={"Checks": ["web-check"]})
        self.assertStatus(resp, 500)
        self.assertIn("Missing check 'web-check' registration", resp.text)

    def test_empty_node_and_null_lock_delay(self):
        resp = self.agent.put("/v1/session/create", body={"Node": ""})
        self.assertStatus(resp, 500)
        self.assertIn("Must provide Node", resp.text)
        # null leaves Consul's 15 s default in place.
        self.assertEqual(self.info(self.create({"LockDelay": None}))["LockDelay"], 15 * 10**9)

    def test_bad_bodies_are_400_and_create_nothing(self):
        before = self.agent.get("/v1/session/list").json()
        for body in (b"{", b'{"Name": "x",}', b"[1, 2", b'{"LockDelay": "nonsense"}',
                     b'{"Name": {"nested": true}}', b'{"LockDelay": {"a": 1}}'):
            resp = self.agent.put("/v1/session/create", body=body)
            self.assertStatus(resp, 400, f"body {body!r}")
            self.assertTrue(resp.text.strip(), "400 should say why")
        after = self.agent.get("/v1/session/list").json()
        self.assertEqual(sorted(s["ID"] for s in after), sorted(s["ID"] for s in before))

    def test_create_requires_put(self):
        self.assertStatus(self.agent.get("/v1/session/create"), 405)

    def test_info_unknown_is_empty_list(self):
        resp = self.agent.get("/v1/session/info/00000000-0000-0000-0000-000000000000")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(), [])
        self.assertGreaterEqual(resp.index, 1)

    def test_destroy(self):
        sid = self.agent.session_create()
        resp = self.agent.put(f"/v1/session/destroy/{sid}")
        self.assertJSON(resp, True)
        self.assertIsNone(self.info(sid))
        self.assertNotIn(sid, [s["ID"] for s in self.agent.get("/v1/session/list").json()])
        # Destroying an unknown (or already destroyed) session still answers true.
        self.assertJSON(self.agent.put(f"/v1/session/destroy/{sid}"), True)

    def test_list_and_node(self):
        a = self.create({"Name": "a"})
        b = self.create({"Name": "b"})
        resp = self.agent.get("/v1/session/list")
        self.assertStatus(resp, 200)
        self.assertGreaterEqual(resp.index, 1)
        listed = {s["ID"]: s for s in resp.json()}
        self.assertIn(a, listed)
        self.assertIn(b, listed)
        self.assertEqual(listed[a]["Name"], "a")
        resp = self.agent.get("/v1/session/node/test-node")
        self.assertStatus(resp, 200)
        self.assertGreaterEqual(resp.index, 1)
        on_node = [s["ID"] for s in resp.json()]
        self.assertIn(a, on_node)
        self.assertIn(b, on_node)
        resp = self.agent.get("/v1/session/node/no-such-node")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json(), [])

    def test_renew(self):
        sid = self.create({"TTL": "15s", "Name": "renew-me"})
        resp = self.agent.put(f"/v1/session/renew/{sid}")
        self.assertStatus(resp, 200)
        renewed = resp.json()
        self.assertIsInstance(renewed, list)
        self.assertEqual(len(renewed), 1)
        self.assertEqual(renewed[0]["ID"], sid)
        self.assertEqual(renewed[0]["Name"], "renew-me")
        self.assertEqual(go_duration_s(renewed[0]["TTL"]), 15.0)
        # Renewing a session without a TTL is allowed too.
        plain = self.create()
        self.assertStatus(self.agent.put(f"/v1/session/renew/{plain}"), 200)

    def test_renew_unknown_is_404(self):
        bogus = "00000000-0000-0000-0000-00000000beef"
        resp = self.agent.put(f"/v1/session/renew/{bogus}")
        self.assertStatus(resp, 404)
        self.assertIn(f"Session id '{bogus}' not found", resp.text)

    def test_session_list_blocking_query_wakes_on_create(self):
        first = self.agent.get("/v1/session/list")
        call = BackgroundCall(self.agent.get,
                              f"/v1/session/list?index={first.index}&wait=30s")
        time.sleep(0.3)
        sid = self.create({"Name": "wake"})
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertGreater(resp.index, first.index)
        self.assertIn(sid, [s["ID"] for s in resp.json()])

    def test_session_info_blocking_query_wakes_on_destroy(self):
        sid = self.agent.session_create()
        first = self.agent.get(f"/v1/session/info/{sid}")
        call = BackgroundCall(self.agent.get,
                              f"/v1/session/info/{sid}?index={first.index}&wait=30s")
        time.sleep(0.3)
        self.agent.session_destroy(sid)
        resp = call.join(20.0)
        self.assertLess(call.elapsed, 10.0)
        self.assertEqual(resp.json(), [])


class SessionTTLExpiryTest(AgentTestCase):
    """One long test (~10-20 s): TTL expiry, renew keeping a session alive, and both
    invalidation behaviours acting on held locks."""

    def test_ttl_expiry_invalidates_and_renew_keeps_alive(self):
        p = self.prefix
        created = time.monotonic()
        # Lock-delay applies to invalidation by TTL too: 3 s here, checked below.
        expiring_release = self.agent.session_create(
            {"TTL": "10s", "LockDelay": "3s", "Behavior": "release"})
        expiring_delete = self.agent.session_create(
            {"TTL": "10s", "LockDelay": "0s", "Behavior": "delete"})
        renewed = self.agent.session_create({"TTL": "10s", "LockDelay": "0s"})
        self.addCleanup(self.agent.put, f"/v1/session/destroy/{renewed}")
        self.assertJSON(self.agent.kv_put(p + "rel", b"keep", {"acquire": expiring_release}),
                        True)
        self.assertJSON(self.agent.kv_put(p + "del", b"drop", {"acquire": expiring_delete}),
                        True)
        self.assertJSON(self.agent.kv_put(p + "ren", b"mine", {"acquire": renewed}), True)

        def alive(sid):
            return bool(self.agent.get(f"/v1/session/info/{sid}").json())

        last_renew = 0.0
        expired_at = None
        deadline = created + 2 * 10 + 6.0  # 2x TTL, plus slack for a loaded machine
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now - last_renew >= 2.0:
                resp = self.agent.put(f"/v1/session/renew/{renewed}")
                self.assertStatus(resp, 200, "renewed session must stay alive")
                last_renew = now
            if not alive(expiring_release) and not alive(expiring_delete):
                expired_at = time.monotonic()
                break
            time.sleep(0.1)
        self.assertIsNotNone(expired_at, "TTL sessions were not invalidated within 2x TTL")
        self.assertGreaterEqual(expired_at - created, 9.5,
                                "a session must not expire before its TTL")
        self.assertTrue(alive(renewed), "a session renewed every 2 s expired")

        newcomer = self.agent.session_create({"LockDelay": "0s"})
        self.addCleanup(self.agent.put, f"/v1/session/destroy/{newcomer}")
        self.assertJSON(self.agent.kv_put(p + "rel", b"early", {"acquire": newcomer}), False)
        rel = self.agent.kv_entry(p + "rel")
        self.assertIsNotNone(rel, "release behaviour must keep the key")
        self.assertNotIn("Session", rel)
        self.assertEqual(unb64(rel["Value"]), b"keep")
        self.assertIsNone(self.agent.kv_entry(p + "del"), "delete behaviour must delete")
        self.assertEqual(self.agent.kv_entry(p + "ren")["Session"], renewed)
        listed = [s["ID"] for s in self.agent.get("/v1/session/list").json()]
        self.assertNotIn(expiring_release, listed)
        self.assertNotIn(expiring_delete, listed)
        self.assertStatus(self.agent.put(f"/v1/session/renew/{expiring_release}"), 404)
        # Once the 3 s lock-delay has passed, the key can be acquired again.
        wait_until(lambda: self.agent.kv_put(p + "rel", b"late", {"acquire": newcomer}).json(),
                   timeout_s=8.0, interval_s=0.2, message="acquire after the lock delay")
        self.assertEqual(self.agent.kv_entry(p + "rel")["Session"], newcomer)


if __name__ == "__main__":
    unittest.main()
