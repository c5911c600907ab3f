"""Cross-region failover of service A, measured the way a client sees it.

A prepared query for A in us-west-2 fails over to us-east-1. One trial: SIGKILL every A
instance of us-west-2 (the moment the last one dies is t0), then poll, from a us-west-2
client's namespace, both the query's HTTP execution and the DNS name A.query.consul on that
client's agent, every POLL_S, until each answers only us-east-1 instances; then start the A
instances again and time the switch back the same way. The figure is the time from t0 to
the first answer from the other region (so it holds the detection by the 1 s HTTP check,
the sync to the servers and the query's failover).
"""

import random
import time

from regionnet import EAST, WEST

QUERY_NAME = "A"
POLL_S = 0.02


def random_phase():
    """A pause of a random fraction of the check interval. The switch is seen just after a
    check ran; restarting right then would always land at the same phase of the next check
    and time the recovery as one full interval every time."""
    time.sleep(random.uniform(0.0, 1.0))


def query_definition():
    """Consul's prepared query body: service A, passing instances only, failing over to
    us-east-1 when us-west-2 has none."""
    return {"Name": QUERY_NAME,
            "Service": {"Service": "A", "OnlyPassing": True,
                        "Failover": {"Datacenters": [EAST]}}}


def region_of_http(resp, bed):
    """The region one execution answered from: its Datacenter when every node is there."""
    if resp.status != 200:
        return None
    body = resp.json()
    nodes = body.get("Nodes") or []
    if not nodes:
        return None
    subnets = {dc: bed.region(dc).subnet + "." for dc in (WEST, EAST)}
    addrs = [n["Service"].get("Address") or n["Node"]["Address"] for n in nodes]
    for dc, prefix in subnets.items():
        if body.get("Datacenter") == dc and all(a.startswith(prefix) for a in addrs):
            return dc
    return "mixed"


def region_of_dns(answer, bed):
    rcode, addrs = answer
    if rcode != 0 or not addrs:
        return None
    for dc in (WEST, EAST):
        if all(a.startswith(bed.region(dc).subnet + ".") for a in addrs):
            return dc
    return "mixed"


def watch_switch(bed, observer, want, start, timeout_s):
    """Seconds from `start` to the first HTTP and the first DNS answer from region `want`
    ({"http": s, "dns": s}; None for one that never switched within timeout_s)."""
    found = {"http": None, "dns": None}
    deadline = start + timeout_s
    while time.monotonic() < deadline and None in found.values():
        if found["http"] is None:
            try:
                resp = bed.get(observer, f"/v1/query/{QUERY_NAME}/execute", timeout=5.0)
                if region_of_http(resp, bed) == want:
                    found["http"] = time.monotonic() - start
            except OSError:
                pass
        if found["dns"] is None:
            try:
                if region_of_dns(bed.dns(observer, f"{QUERY_NAME}.query.consul"), bed) == want:
                    found["dns"] = time.monotonic() - start
            except OSError:
                pass
        time.sleep(POLL_S)
    return found


def trial(bed, observer, timeout_s=30.0):
    """One failover and recovery. Returns {"failover": {...}, "recovery": {...}}."""
    t0 = bed.kill_service(WEST, "A")
    failover = watch_switch(bed, observer, EAST, t0, timeout_s)
    random_phase()
    t1 = bed.start_service(WEST, "A")
    recovery = watch_switch(bed, observer, WEST, t1, timeout_s)
    return {"failover": failover, "recovery": recovery}


def create_query(bed, who):
    """POSTs the query; returns the response (404 on a build without prepared queries)."""
    return bed.api(who, "POST", "/v1/query", query_definition())


def watch_local(bed, observer, want_instances, start, timeout_s):
    """Seconds from `start` until us-west-2's own view of A, over HTTP
    (/v1/health/service/A?passing on the observer's agent) and DNS (A.service.consul),
    holds `want_instances` passing instances ({"http": s, "dns": s}; None if never)."""
    found = {"http": None, "dns": None}
    deadline = start + timeout_s
    while time.monotonic() < deadline and None in found.values():
        if found["http"] is None:
            try:
                resp = bed.get(observer, "/v1/health/service/A?passing=1", timeout=5.0)
                if resp.status == 200 and len(resp.json()) == want_instances:
                    found["http"] = time.monotonic() - start
            except OSError:
                pass
        if found["dns"] is None:
            try:
                if len(bed.dns(observer, "A.service.consul")[1]) == want_instances:
                    found["dns"] = time.monotonic() - start
            except OSError:
                pass
        time.sleep(POLL_S)
    return found


def detection_trial(bed, observer, timeout_s=30.0):
    """The part of a failover that needs no other region: from the last A instance of
    us-west-2 dying to its own catalog (HTTP and DNS) holding none passing, and from their
    restart to all passing again. Returns {"detect": {...}, "restore": {...}}."""
    want = len(bed.region(WEST).clients)
    t0 = bed.kill_service(WEST, "A")
    detect = watch_local(bed, observer, 0, t0, timeout_s)
    random_phase()
    t1 = bed.start_service(WEST, "A")
    restore = watch_local(bed, observer, want, t1, timeout_s)
    return {"detect": detect, "restore": restore}
