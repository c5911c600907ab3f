"""Puts a failing run's minimal sub-history next to what the nemesis and the servers did.

  run.py explain <workdir>

Runs proconsul-lincheck on <workdir>/history.jsonl, takes the "(line N)" operations of its
minimal failing sub-history, and prints each with the server it was sent to
(history-detail.jsonl), the faults active around them (nemesis.jsonl), and the servers'
Raft role changes in that window (s*.log, whose timestamps are wall-clock UTC).
"""

import datetime
import json
import os
import re
import subprocess


def _load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def explain(workdir, lincheck):
    out = subprocess.run([lincheck, os.path.join(workdir, "history.jsonl")],
                         capture_output=True, text=True).stdout
    section = out.split("minimal failing sub-history", 1)
    if len(section) < 2:
        print("lincheck reports no minimal failing sub-history:\n" + out[-2000:])
        return 1
    lines = [int(n) for n in re.findall(r"\(line (\d+)\)", section[1])]
    detail = _load(os.path.join(workdir, "history-detail.jsonl"))
    events = _load(os.path.join(workdir, "nemesis.jsonl"))
    ips = next((e["ips"] for e in events if e["event"] == "servers"), {})
    name_of = {ip: name for name, ip in ips.items()}
    # Offset from the history's clock to wall-clock time, from any event that has both.
    offset = next((e["wall"] - e["t"] / 1e9 for e in events if "wall" in e), 0.0)

    def wall(ns):
        return datetime.datetime.fromtimestamp(ns / 1e9 + offset, datetime.timezone.utc) \
            .strftime("%H:%M:%S.%f")[:-3]

    ops = [detail[n - 1] for n in lines]
    print("operations (times are UTC, as in the server logs):")
    for op in ops:
        end = wall(op["return"]) if op["return"] else "never"
        print(f"  {wall(op['call'])} .. {end}  p{op['process']} {op['type']} {op['key']} "
              f"value={op['value']!r} expected={op.get('expected')!r} ok={op['ok']} "
              f"mode={op.get('mode')} via {name_of.get(op.get('server'), op.get('server'))}")
    start = min(op["call"] for op in ops) - 5_000_000_000
    stop = max((op["return"] or op["call"]) for op in ops) + 2_000_000_000
    print("nemesis:")
    for e in events:
        if start <= e["t"] <= stop and e["event"] != "servers":
            extra = e.get("desc") or e.get("leader") or ""
            print(f"  {wall(e['t'])} {e['event']} {e.get('kind', '')} {extra}")
    print("raft roles:")
    lo, hi = wall(start), wall(stop)
    for name in sorted(ips):
        try:
            with open(os.path.join(workdir, f"{name}.log"), encoding="utf-8",
                      errors="replace") as f:
                for line in f:
                    stamp = line[11:23]
                    if lo <= stamp <= hi and re.search(r"(leader|follower|candidate) in term|"
                                                       r"start #|torn tail", line):
                        print(f"  {name}: {line.rstrip()[11:]}")
        except OSError:
            pass
    return 0
