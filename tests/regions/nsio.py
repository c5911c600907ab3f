"""HTTP and DNS from inside a host's namespace, without a helper process per request.

A socket belongs to the network namespace its creating thread was in when it was made, and
setns(2) with CLONE_NEWNET moves only the calling thread. So the controller switches its
thread into the host's namespace, creates the socket, and switches back: every packet of
that socket leaves from the host's own interface, exactly as if a process there had sent
it, and nothing of the root namespace ever routes to the bed's addresses. Timing a request
this way adds no process start-up to a latency figure.
"""

import contextlib
import ctypes
import http.client as httpclient
import json
import os
import random
import socket
import struct
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def netns(name):
    """Runs the body with this thread inside namespace /run/netns/<name>."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns into {name}: {os.strerror(err)}")
        finally:
            os.close(target)
        try:
            yield
        finally:
            if _libc.setns(home, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns back home: {os.strerror(err)}")
    finally:
        os.close(home)


class Response:
    def __init__(self, status, headers, body, elapsed_s):
        self.status = status
        self.headers = headers
        self.text = body
        self.elapsed_s = elapsed_s

    def json(self):
        return json.loads(self.text)

    @property
    def index(self):
        return int(self.headers.get("X-Consul-Index", "0"))

    def __repr__(self):
        return f"<{self.status} {self.text[:200]!r}>"


def http(ns, ip, method, path, body=None, headers=None, timeout=10.0, port=8500):
    """One HTTP request from namespace ns to ip:port. Raises OSError on a network failure."""
    start = time.monotonic()
    with netns(ns):
        sock = socket.create_connection((ip, port), timeout=timeout)
    conn = httpclient.HTTPConnection(ip, port, timeout=timeout)
    conn.sock = sock
    try:
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", errors="replace")
        return Response(resp.status, dict(resp.getheaders()), text, time.monotonic() - start)
    finally:
        conn.close()


def dns_query(name, qtype, qid):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD set, one question
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    return header + qname + struct.pack("!HH", qtype, 1)


def _skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def dns_a(ns, server_ip, name, port=8600, timeout=2.0):
    """The A records answered for name: (rcode, [addresses]). Raises OSError on timeout."""
    qid = random.randint(0, 0xFFFF)
    with netns(ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(dns_query(name, 1, qid), (server_ip, port))
        while True:
            msg, _ = sock.recvfrom(4096)
            if len(msg) >= 12 and struct.unpack_from("!H", msg, 0)[0] == qid:
                break
    finally:
        sock.close()
    return parse_a_answer(msg)


def parse_a_answer(msg):
    """(rcode, [IPv4 addresses of the A records in the answer section]) of a DNS reply."""
    _, flags, qd, an, _, _ = struct.unpack_from("!HHHHHH", msg, 0)
    off = 12
    for _ in range(qd):
        off = _skip_name(msg, off) + 4
    addrs = []
    for _ in range(an):
        off = _skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack_from("!HHIH", msg, off)
        off += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(msg[off:off + 4]))
        off += rdlen
    return flags & 0xF, addrs
