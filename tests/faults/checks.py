"""Checks the fault bed runs itself, next to the linearizability checker.

- lost_writes: every acknowledged write or cas is the final value of its key, or some other
  write to that key may have been ordered after it (one that did not finish before it
  began). Otherwise an acknowledged write was lost.
- phantom final values: a key's final value must be a value some non-failed write wrote.
- lock_exclusion: two sessions never both hold a lock (see lock_exclusion's docstring).
- brute_force_linearizable: a tiny exhaustive check of a single-key register history, only
  to test the recorder on short histories. It is NOT the checker (proconsul-lincheck is).
"""

import json


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _writes(history):
    return [op for op in history if op["type"] in ("write", "cas") and op["ok"] is not False]


def lost_writes(history, final):
    """final: key -> value (None = absent) from a ?consistent read after healing.

    Returns a list of problems (strings); empty means none lost.
    """
    problems = []
    by_key = {}
    for op in _writes(history):
        by_key.setdefault(op["key"], []).append(op)
    for key, value in final.items():
        ops = by_key.get(key, [])
        if value is not None and not any(op["value"] == value for op in ops):
            problems.append(f"{key}: final value {value!r} was never written by any client")
        for op in ops:
            if op["ok"] is not True or op["value"] == value:
                continue
            # Could another write have been ordered after op? Only one that had not
            # returned before op was invoked.
            later = [o for o in ops if o is not op and
                     (o["return"] is None or o["return"] > op["call"])]
            if not later:
                problems.append(f"{key}: acknowledged {op['type']} of {op['value']!r} "
                                f"(call {op['call']}, return {op['return']}) is lost: final "
                                f"value is {value!r} and no other write could follow it")
    return problems


def lock_exclusion(lock_ops):
    """Two sessions must never both hold a lock key.

    Session S certainly holds key K from the return of its successful acquire until the call
    of its next release of K (sessions here have no TTL and are never destroyed, so nothing
    else releases them). Another session's acquire that succeeded, and that was invoked and
    returned entirely inside that window, took the lock while S held it: a violation. Unknown
    outcomes only widen windows, so they are left out; that keeps the check sound.
    """
    held = {}  # (session, key) -> return time of the successful acquire
    windows = []  # (key, session, start, end)
    for op in sorted(lock_ops, key=lambda o: o["call"]):
        slot = (op["session"], op["key"])
        if op["op"] == "acquire" and op["ok"] is True:
            held[slot] = op["return"]
        elif op["op"] == "release" and slot in held:
            windows.append((op["key"], op["session"], held.pop(slot), op["call"]))
    for slot, start in held.items():
        windows.append((slot[1], slot[0], start, float("inf")))
    problems = []
    for op in lock_ops:
        if op["op"] != "acquire" or op["ok"] is not True:
            continue
        for key, session, start, end in windows:
            if key == op["key"] and session != op["session"] and \
                    start < op["call"] and op["return"] < end:
                problems.append(f"lock {key}: session {op['session']} acquired it "
                                f"(call {op['call']}, return {op['return']}) while session "
                                f"{session} held it ({start} .. {end})")
    return problems


def brute_force_linearizable(history, key, limit=14):
    """Exhaustive search over one key's non-stale operations; None if too long to try."""
    ops = [op for op in history if op["key"] == key and op.get("mode") != "stale"]
    if len(ops) > limit:
        return None
    inf = float("inf")

    def ret(op):
        return inf if op["return"] is None else op["return"]

    def step(state, op):
        if op["type"] == "read":
            return (True, state) if op["value"] == state else (False, state)
        if op["type"] == "write":
            return True, op["value"]
        matches = op["expected"] == state
        if op["ok"] is False:
            return (not matches), state
        if op["ok"] is True:
            return matches, (op["value"] if matches else state)
        return True, (op["value"] if matches else state)  # unknown: either

    def search(remaining, state):
        if not remaining:
            return True
        earliest = min(ret(op) for op in remaining)
        for op in remaining:
            if op["call"] > earliest:
                continue
            rest = [o for o in remaining if o is not op]
            legal, new_state = step(state, op)
            if legal and search(rest, new_state):
                return True
            if op["ok"] == "unknown" and search(rest, state):
                return True  # an unknown op may never have taken effect
        return False

    return search(ops, None)
