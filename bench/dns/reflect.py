#!/usr/bin/env python3
"""How long a check change takes to reach the agent's DNS answers.

Flips one instance's check to critical and back through PUT /v1/catalog/register (one
keep-alive HTTP connection), and after each PUT asks NAME.service.consul A over UDP (EDNS0,
4096 bytes, so the answer holds every instance whatever udp_answer_limit says) until the
instance's address is gone (critical) or back (passing). One process, one socket: no
process start-up in the timings, which dig's would dominate on a busy machine.

Prints one line per flip: STATUS FROM_SEND_MS FROM_ANSWER_MS QUERIES, where the times run
to the first answer that shows the change, from the PUT's send and from its answer.
Exits 1 when a flip is not seen within --timeout-s.
"""

import argparse
import http.client
import json
import random
import socket
import struct
import sys
import time


def query_packet(qid, name):
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split("."))
    header = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1)  # no RD; one question, one OPT
    opt = b"\x00" + struct.pack("!HHIH", 41, 4096, 0, 0)
    return header + question + b"\x00" + struct.pack("!HH", 1, 1) + opt


def skip_name(msg, pos):
    while True:
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += 1 + length


def a_records(msg, qid):
    """The addresses in the answer section, or None for another id or a failed answer."""
    if len(msg) < 12:
        return None
    rid, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    if rid != qid or flags & 0x000F:
        return None
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    out = set()
    for _ in range(an):
        pos = skip_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            out.add(socket.inet_ntoa(msg[pos:pos + 4]))
        pos += rdlen
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--dns-port", type=int, required=True)
    p.add_argument("--node", default="node-1")
    p.add_argument("--address", default="10.0.0.1")
    p.add_argument("--service", default="web")
    p.add_argument("--service-id", default="web-1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--flips", type=int, default=5)
    p.add_argument("--pause-s", type=float, default=0.2)
    p.add_argument("--timeout-s", type=float, default=5.0)
    args = p.parse_args()

    conn = http.client.HTTPConnection("127.0.0.1", args.http_port, timeout=10)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5)
    name = f"{args.service}.service.consul"

    def register(status):
        body = json.dumps({
            "Node": args.node, "Address": args.address,
            "Service": {"ID": args.service_id, "Service": args.service, "Port": args.port},
            "Checks": [{"CheckID": "svc:" + args.service_id, "Name": args.service_id + " alive",
                        "Status": status, "ServiceID": args.service_id}],
        })
        conn.request("PUT", "/v1/catalog/register", body=body,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            sys.exit(f"PUT /v1/catalog/register: {resp.status} {data!r}")

    def addresses():
        qid = random.randrange(65536)
        sock.sendto(query_packet(qid, name), ("127.0.0.1", args.dns_port))
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            try:
                msg = sock.recv(4096)
            except socket.timeout:
                return None
            got = a_records(msg, qid)
            if got is not None:
                return got
        return None

    failed = False
    for _ in range(args.flips):
        for status in ("critical", "passing"):
            t0 = time.monotonic_ns()
            register(status)
            t1 = time.monotonic_ns()
            queries = 0
            while True:
                queries += 1
                got = addresses()
                t2 = time.monotonic_ns()
                if got is not None and (args.address in got) == (status == "passing"):
                    break
                if (t2 - t0) / 1e9 > args.timeout_s:
                    failed = True
                    break
            print(f"{status} {(t2 - t0) / 1e6:.2f} {(t2 - t1) / 1e6:.2f} {queries}", flush=True)
            time.sleep(args.pause_s)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
