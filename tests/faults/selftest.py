"""Self-tests of the bed's own pieces that need no namespaces: the checks and the WAL damage.

Run by `run.py smoke` before any cluster starts (and alone with `run.py selftest`), so a
broken recorder or check fails in a second instead of hiding behind a green fault run.
"""

import os
import random
import tempfile
import unittest

import bed
import checks


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def op(process, type_, value, call, ret, ok=True, expected=None, mode=None, key="k"):
    o = {"process": process, "type": type_, "key": key, "value": value, "ok": ok,
         "call": call, "return": ret}
    if type_ == "cas":
        o["expected"] = expected
    if type_ == "read":
        o["mode"] = mode or "default"
        o["index"] = 1
    return o


class LostWritesTest(unittest.TestCase):
    def test_final_value_is_fine(self):
        h = [op(0, "write", "a", 0, 10), op(1, "write", "b", 20, 30)]
        self.assertEqual(checks.lost_writes(h, {"k": "b"}), [])

    def test_overwritten_by_concurrent_write_is_fine(self):
        h = [op(0, "write", "a", 0, 10), op(1, "write", "b", 5, None, ok="unknown")]
        self.assertEqual(checks.lost_writes(h, {"k": "b"}), [])

    def test_last_acknowledged_write_missing_is_lost(self):
        h = [op(0, "write", "a", 0, 10), op(1, "write", "b", 20, 30)]
        problems = checks.lost_writes(h, {"k": "a"})
        self.assertEqual(len(problems), 1)
        self.assertIn("'b'", problems[0])

    def test_phantom_final_value(self):
        h = [op(0, "write", "a", 0, 10)]
        self.assertEqual(len(checks.lost_writes(h, {"k": "zzz"})), 2)

    def test_failed_cas_is_not_a_write(self):
        h = [op(0, "write", "a", 0, 10), op(1, "cas", "b", 20, 30, ok=False, expected="x")]
        self.assertEqual(checks.lost_writes(h, {"k": "a"}), [])


class LockExclusionTest(unittest.TestCase):
    def lock(self, session, kind, call, ret, ok=True):
        return {"worker": 0, "session": session, "key": "l", "op": kind, "ok": ok,
                "call": call, "return": ret}

    def test_handover_is_fine(self):
        ops = [self.lock("A", "acquire", 0, 10), self.lock("A", "release", 20, 30),
               self.lock("B", "acquire", 25, 40), self.lock("B", "release", 50, 60)]
        self.assertEqual(checks.lock_exclusion(ops), [])

    def test_two_holders_is_a_violation(self):
        ops = [self.lock("A", "acquire", 0, 10), self.lock("B", "acquire", 12, 15),
               self.lock("A", "release", 20, 30)]
        self.assertEqual(len(checks.lock_exclusion(ops)), 1)

    def test_unknown_acquire_is_not_a_holder(self):
        ops = [self.lock("A", "acquire", 0, None, ok="unknown"),
               self.lock("B", "acquire", 12, 15), self.lock("B", "release", 20, 30)]
        self.assertEqual(checks.lock_exclusion(ops), [])


class BruteForceTest(unittest.TestCase):
    def test_linearizable(self):
        h = [op(0, "write", "a", 0, 10), op(1, "read", "a", 5, 15),
             op(2, "cas", "b", 20, 30, expected="a"), op(0, "read", "b", 31, 40)]
        self.assertTrue(checks.brute_force_linearizable(h, "k"))

    def test_stale_read_after_write_is_not(self):
        h = [op(0, "write", "a", 0, 10), op(1, "read", None, 20, 30, mode="consistent")]
        self.assertFalse(checks.brute_force_linearizable(h, "k"))

    def test_stale_mode_reads_are_skipped(self):
        h = [op(0, "write", "a", 0, 10), op(1, "read", None, 20, 30, mode="stale")]
        self.assertTrue(checks.brute_force_linearizable(h, "k"))

    def test_unknown_write_may_or_may_not_happen(self):
        h = [op(0, "write", "a", 0, None, ok="unknown"), op(1, "read", None, 20, 30),
             op(1, "read", "a", 40, 50)]
        self.assertTrue(checks.brute_force_linearizable(h, "k"))

    def test_failed_cas_must_not_match(self):
        h = [op(0, "write", "a", 0, 10), op(1, "cas", "b", 20, 30, ok=False, expected="a")]
        self.assertFalse(checks.brute_force_linearizable(h, "k"))


class WalDamageTest(unittest.TestCase):
    def segment(self, root, records):
        wal = os.path.join(root, "raft", "wal")
        os.makedirs(wal)
        path = os.path.join(wal, "0000000000000001-0000000000000001.wal")
        with open(path, "wb") as f:
            for payload in records:
                f.write(b"\0\0\0\0" + len(payload).to_bytes(4, "little") + b"\x02" + payload)
        return path

    def test_tail_damage_only_appends(self):
        with tempfile.TemporaryDirectory() as root:
            path = self.segment(root, [b"x" * 30, b"y" * 40])
            before = _read(path)
            for how in ("garbage", "zeros", "half-frame", "bad-crc"):
                bed.damage_wal_tail(root, how, 17, random.Random(1))
                after = _read(path)
                self.assertTrue(after.startswith(before), how)
                self.assertEqual(bed.wal_frames(path)[:2], [(0, 39), (39, 49)])

    def test_tail_damage_lands_after_the_records_of_a_preallocated_segment(self):
        with tempfile.TemporaryDirectory() as root:
            path = self.segment(root, [b"x" * 30, b"y" * 40])
            with open(path, "ab") as f:
                f.write(bytes(4096))  # the unused, preallocated end
            before = _read(path)
            bed.damage_wal_tail(root, "garbage", 17, random.Random(1))
            after = _read(path)
            self.assertEqual(len(after), len(before))
            self.assertEqual(after[:88], before[:88])
            self.assertNotEqual(after[88:88 + 17], bytes(17))
            self.assertEqual(after[88 + 17:], bytes(4096 - 17))

    def test_mid_corruption_hits_a_record_with_records_after_it(self):
        with tempfile.TemporaryDirectory() as root:
            path = self.segment(root, [b"h" * 10, b"a" * 20, b"b" * 20])
            before = _read(path)
            self.assertIsNotNone(bed.corrupt_wal_middle(root))
            after = _read(path)
            diff = [i for i in range(len(before)) if before[i] != after[i]]
            self.assertEqual(len(diff), 1)
            self.assertTrue(19 + 9 <= diff[0] < 19 + 29)

    def test_plan_is_a_function_of_the_seed(self):
        self.assertEqual(bed.plan(7, 60, 3, bed.FAULT_KINDS), bed.plan(7, 60, 3, bed.FAULT_KINDS))
        self.assertNotEqual(bed.plan(7, 60, 3, bed.FAULT_KINDS),
                            bed.plan(8, 60, 3, bed.FAULT_KINDS))


def run():
    suite = unittest.defaultTestLoader.loadTestsFromName("selftest")
    result = unittest.TextTestRunner(verbosity=0).run(suite)
    return result.wasSuccessful()


if __name__ == "__main__":
    unittest.main()
