#!/usr/bin/python3
"""The two-region bed from the command line.

  regions.py cleanup                remove namespaces left by killed runs (of this bed and of
                                    the fault bed: both use the pcf- prefix and owner records)
  regions.py up [--servers N] [--clients N] [--delay-ms D] [--loss P]
                                    bring the bed up, print its hosts, hold until Ctrl-C
  regions.py bench --trials N --out FILE [--reads N]
                                    the cross-region benchmark (bench/region_failover.sh)

Environment: PROCONSUL_BIN (the proconsul binary; build/proconsul by default).
"""

import argparse
import math
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import failover  # noqa: E402
import regionbed  # noqa: E402
import regionnet  # noqa: E402
from regionnet import EAST, WEST  # noqa: E402


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def pct(values, p):
    """Nearest-rank percentile: with fewer than 100 values, p99 is the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100.0 * len(ordered)) - 1)]


def summary(name, values_s, unit_ms=True):
    scale, digits = (1000.0, 1) if unit_ms else (1.0, 3)
    return {f"{name}_n": len(values_s),
            f"{name}_median": round(statistics.median(values_s) * scale, digits),
            f"{name}_p99": round(pct(values_s, 99) * scale, digits),
            f"{name}_max": round(max(values_s) * scale, digits)}


def read_latencies(bed, path, reads):
    who = bed.clients[WEST][0]
    bed.get(who, path)  # warm the connection pools on the way
    out = []
    for _ in range(reads):
        resp = bed.get(who, path)
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp}")
        out.append(resp.elapsed_s)
    return out


def wait_passing(bed, settle_s):
    """Until A passes everywhere in us-west-2, then settle_s plus a random fraction of the
    1 s check interval: the kill lands at a random phase of the checks, as a real failure
    would, instead of at the phase the last restart left them in."""
    want = len(bed.region(WEST).clients)
    bed.wait(lambda: bed.passing(WEST, "A") == want, 60, "A passing in us-west-2")
    time.sleep(settle_s + random.uniform(0.0, 1.0))


def collect(series, result, n):
    for phase, by_how in result.items():
        for how, took in by_how.items():
            if took is None:
                raise RuntimeError(f"trial {n + 1}: {phase} over {how} not seen within 60 s")
            series[f"{phase}_{how}"].append(took)


def record(results, series):
    for name, values in series.items():
        results.update(summary(f"{name}_s", values, unit_ms=False))
        results[f"{name}_s_all"] = " ".join(f"{v:.3f}" for v in values)


def bench(args):
    results = {"delay_ms_each_way": args.delay_ms, "servers_per_region": args.servers,
               "clients_per_region": args.clients, "check_interval": regionbed.CHECK_INTERVAL}
    workdir = tempfile.mkdtemp(prefix="pc-regions-bench-")
    bed = regionbed.Bed(workdir, servers=args.servers, clients=args.clients,
                        delay_ms=args.delay_ms)
    try:
        bed.start(wait_s=240.0)
        west = bed.clients[WEST][0]
        # ?dc= forwarded reads beside local reads, from a us-west-2 client's agent.
        for dc in (WEST, EAST):
            put = bed.put(bed.clients[dc][0], "/v1/kv/bench/key", "x" * 64)
            if put.status != 200:
                raise RuntimeError(f"PUT in {dc}: {put}")
        results.update(summary("local_read_ms", read_latencies(bed, "/v1/kv/bench/key",
                                                               args.reads)))
        probe = bed.get(west, f"/v1/kv/bench/key?dc={EAST}")
        if regionbed.missing_feature(probe):
            results["forwarded_read"] = f"skipped: ?dc= answers {probe.status} {probe.text!r}"
        else:
            results.update(summary("forwarded_read_ms", read_latencies(
                bed, f"/v1/kv/bench/key?dc={EAST}", args.reads)))
            results.update(summary("forwarded_stale_read_ms", read_latencies(
                bed, f"/v1/kv/bench/key?dc={EAST}&stale", args.reads)))
        # The local half of a failover (check, sync, catalog, DNS): measurable on any build.
        series = {"detect_http": [], "detect_dns": [], "restore_http": [], "restore_dns": []}
        for n in range(args.trials):
            wait_passing(bed, args.settle_s)
            result = failover.detection_trial(bed, west, timeout_s=60.0)
            print(f"detection trial {n + 1}: {result}", file=sys.stderr, flush=True)
            collect(series, result, n)
        record(results, series)
        # Failover trials.
        created = failover.create_query(bed, west)
        if regionbed.missing_feature(created):
            results["failover"] = (f"skipped: POST /v1/query answers {created.status} "
                                   f"{created.text.strip()!r}")
        else:
            if created.status != 200:
                raise RuntimeError(f"POST /v1/query: {created}")
            series = {"failover_http": [], "failover_dns": [], "recovery_http": [],
                      "recovery_dns": []}
            for n in range(args.trials):
                wait_passing(bed, args.settle_s)
                result = failover.trial(bed, west, timeout_s=60.0)
                print(f"trial {n + 1}: {result}", file=sys.stderr, flush=True)
                collect(series, result, n)
            record(results, series)
        results["link"] = bed.link_stats()
    finally:
        leftovers = bed.stop()
        if leftovers:
            print(f"namespaces left after stop: {leftovers}", file=sys.stderr)
    shutil.rmtree(workdir, ignore_errors=True)
    with open(args.out, "a", encoding="utf-8") as out:
        for key, value in results.items():
            out.write(f"{key}={value}\n")
    for key, value in results.items():
        print(f"{key}={value}")
    return 0


def up(args):
    workdir = tempfile.mkdtemp(prefix="pc-regions-up-")
    bed = regionbed.Bed(workdir, servers=args.servers, clients=args.clients,
                        delay_ms=args.delay_ms, loss=args.loss)
    try:
        bed.start(wait_s=240.0)
        for dc in (WEST, EAST):
            for host in bed.region(dc).hosts:
                print(f"{dc:10} {host.name:6} {host.ns:16} {host.ip}")
        print(f"router {bed.net.router_ns}; logs in {workdir}; Ctrl-C stops and removes all")
        while True:
            time.sleep(3600)
    finally:
        print(f"leftovers: {bed.stop()}")


def main():
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("cleanup")
    for name in ("up", "bench"):
        p = sub.add_parser(name)
        p.add_argument("--servers", type=int, default=3)
        p.add_argument("--clients", type=int, default=2)
        p.add_argument("--delay-ms", type=float, default=35.0)
        if name == "up":
            p.add_argument("--loss", type=float, default=0.0)
        else:
            p.add_argument("--trials", type=int, default=10)
            p.add_argument("--reads", type=int, default=200)
            p.add_argument("--settle-s", type=float, default=2.0)
            p.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.cmd == "cleanup":
        regionnet.netbed.cleanup_leftovers()
        return 0
    reason = regionnet.usable()
    if reason is not None:
        print(f"skipped: {reason}")
        return 0
    return bench(args) if args.cmd == "bench" else up(args)


if __name__ == "__main__":
    sys.exit(main())
