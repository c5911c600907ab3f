#!/usr/bin/env python3
"""Fails when a module includes a header from a module above it (shared layering rule).

Ranks, lowest first: a module may include itself, lower modules, and generated proto/
headers; never a higher one, and production code never includes testing/ or tests/.
Run: tools/check_layers.py [repo root]
"""
import pathlib
import re
import sys

# lincheck (linearizability checking of KV histories) depends on core only; the Raft
# simulation's tests use it.
RANKS = ["core", "lincheck", "filter", "telemetry", "rpc", "state", "gossip", "consensus",
         "snapshot", "acl", "connect", "federation", "agent", "endpoints", "http", "dns",
         "daemon", "cli"]
# http and dns are peers: neither may include the other.
PEERS = {("http", "dns"), ("dns", "http")}
# Pure targets: only core, generated protos and the standard library (no I/O, threads, clocks).
PURE_DIRS = ["consensus/core", "gossip/core", "dns/wire"]
BANNED_IN_PURE = re.compile(r'#include\s*<(boost/asio|thread|filesystem|random)')
INCLUDE = re.compile(r'#include\s*"([a-z_]+)/')


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    src = root / "src"
    problems = []
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".h", ".cc") or not path.is_file():
            continue
        rel = path.relative_to(src)
        module = rel.parts[0]
        if module not in RANKS:
            continue
        is_test = "tests" in rel.parts
        text = path.read_text(errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            m = INCLUDE.match(line.strip())
            if not m:
                continue
            target = m.group(1)
            if target in ("testing", "tests") and not is_test:
                problems.append(f"{rel}:{lineno}: production code includes {target}/")
            if target not in RANKS:
                continue
            if RANKS.index(target) > RANKS.index(module) or (module, target) in PEERS:
                problems.append(f"{rel}:{lineno}: {module} includes {target}/ from above it")
        if any(str(rel).startswith(d + "/") for d in PURE_DIRS):
            for lineno, line in enumerate(text.splitlines(), 1):
                if BANNED_IN_PURE.match(line.strip()):
                    problems.append(f"{rel}:{lineno}: pure target includes {line.strip()}")
    for p in problems:
        print(p)
    print(f"check_layers: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
