"""The WAN link: holds every packet routed between the two regions, then lets it go.

Runs inside the router namespace, where an `NFQUEUE` rule in the FORWARD chain hands each
inter-region packet to netfilter queue QUEUE_NUM. This program speaks nfnetlink directly
(standard library only, no libnetfilter_queue): it binds the queue, and for each packet
either drops it at once (probability `loss`) or gives it the ACCEPT verdict `delay_ms`
(+ uniform jitter) after it arrived. UDP and TCP alike are delayed, transparently: the
kernel keeps the packet, only its verdict is late. With no program bound the queue drops
everything (no bypass flag), so a dead delayer shows up as a partition, never as a link
without delay.

Control: JSON lines on stdin, one reply line each on stdout:
  {"delay_ms": 35, "jitter_ms": 0, "loss": 0.0}   set (any subset), replies the settings
  {"stats": true}                                  packets seen, accepted, dropped, held
  {"quit": true}
The first line printed is "wandelay ready <json settings>".

Usage: wandelay.py [--queue N] [--delay-ms 35] [--jitter-ms 0] [--loss 0.0] [--seed S]
"""

import argparse
import errno
import heapq
import json
import os
import random
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NFQA_CFG_F_GSO = 4  # a GSO super-packet is queued whole: one verdict, not 40
NF_DROP = 0
NF_ACCEPT = 1
NETLINK_NO_ENOBUFS = 5
SO_RCVBUFFORCE = 33
QUEUE_MAXLEN = 65536  # packets held at once; ~35 ms x the busiest link stays far below
COPY_RANGE = 20  # the IPv4 header is all the stats need


def nlattr(kind, payload):
    head = struct.pack("=HH", 4 + len(payload), kind)
    return head + payload + b"\0" * (-len(payload) % 4)


def nfmsg(msg_type, queue, attrs, flags=NLM_F_REQUEST, seq=0, family=socket.AF_UNSPEC):
    body = struct.pack("=BBH", family, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags,
                       seq, 0) + body


def parse_attrs(data):
    attrs, off = {}, 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, off)
        if length < 4:
            break
        attrs[kind & 0x7FFF] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return attrs


class Queue:
    """One bound netfilter queue: packets in, verdicts out."""

    def __init__(self, num):
        self.num = num
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        # A lost packet message would leave its packet held in the kernel for good.
        self.sock.setsockopt(270, NETLINK_NO_ENOBUFS, 1)  # SOL_NETLINK
        self.sock.bind((0, 0))
        self._config([nlattr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0,
                                                       socket.AF_INET))], 1)
        self._config([nlattr(NFQA_CFG_PARAMS, struct.pack("!IB", COPY_RANGE,
                                                          NFQNL_COPY_PACKET)),
                      nlattr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN)),
                      nlattr(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_GSO)),
                      nlattr(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_GSO))], 2)
        self.sock.setblocking(False)

    def _config(self, attrs, seq):
        self.sock.send(nfmsg(NFQNL_MSG_CONFIG, self.num, attrs, NLM_F_REQUEST | NLM_F_ACK,
                             seq, socket.AF_INET))
        reply = self.sock.recv(65536)
        _, kind = struct.unpack_from("=IH", reply, 0)
        if kind == NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", reply, 16)
            if err != 0:
                raise OSError(-err, f"nfqueue config: {os.strerror(-err)}")

    def packets(self):
        """Yields (packet id, IPv4 header bytes) for every message waiting now."""
        while True:
            try:
                data = self.sock.recv(1 << 17)
            except BlockingIOError:
                return
            except OSError as err:
                if err.errno == errno.ENOBUFS:
                    continue
                raise
            off = 0
            while off + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                if length < 16:
                    break
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    attrs = parse_attrs(data[off + 20:off + length])
                    if NFQA_PACKET_HDR in attrs:
                        (pid,) = struct.unpack_from("!I", attrs[NFQA_PACKET_HDR], 0)
                        yield pid, attrs.get(10, b"")
                off += (length + 3) & ~3

    def verdict(self, pid, verdict):
        msg = nfmsg(NFQNL_MSG_VERDICT, self.num,
                    [nlattr(NFQA_VERDICT_HDR, struct.pack("!II", verdict, pid))])
        while True:
            try:
                self.sock.send(msg)
                return
            except BlockingIOError:
                select.select([], [self.sock], [], 0.01)


class Link:
    def __init__(self, queue, delay_ms, jitter_ms, loss, rng):
        self.queue = queue
        self.settings = {"delay_ms": delay_ms, "jitter_ms": jitter_ms, "loss": loss}
        self.rng = rng
        self.held = []  # heap of (release time, sequence, packet id)
        self.seq = 0
        self.stats = {"seen": 0, "accepted": 0, "dropped": 0}

    def take(self, now):
        for pid, _ in self.queue.packets():
            self.stats["seen"] += 1
            if self.settings["loss"] > 0 and self.rng.random() < self.settings["loss"]:
                self.queue.verdict(pid, NF_DROP)
                self.stats["dropped"] += 1
                continue
            hold = self.settings["delay_ms"] + self.rng.uniform(0, self.settings["jitter_ms"])
            self.seq += 1
            heapq.heappush(self.held, (now + hold / 1000.0, self.seq, pid))

    def release(self, now):
        while self.held and self.held[0][0] <= now:
            _, _, pid = heapq.heappop(self.held)
            self.queue.verdict(pid, NF_ACCEPT)
            self.stats["accepted"] += 1

    def control(self, line):
        cmd = json.loads(line)
        if cmd.get("quit"):
            return None
        if cmd.get("stats"):
            return dict(self.stats, held=len(self.held))
        for key in ("delay_ms", "jitter_ms", "loss"):
            if key in cmd:
                self.settings[key] = float(cmd[key])
        return self.settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queue", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=35.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    link = Link(Queue(args.queue), args.delay_ms, args.jitter_ms, args.loss,
                random.Random(args.seed))
    print("wandelay ready " + json.dumps(link.settings), flush=True)
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    pending = b""
    while True:
        now = time.monotonic()
        timeout = max(0.0, link.held[0][0] - now) if link.held else 1.0
        readable, _, _ = select.select([link.queue.sock, stdin], [], [], timeout)
        now = time.monotonic()
        if link.queue.sock in readable:
            link.take(now)
        link.release(time.monotonic())
        if stdin in readable:
            chunk = os.read(stdin, 65536)
            if not chunk:
                return  # the controller is gone: exit, and the queue drops from now on
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                reply = link.control(line)
                if reply is None:
                    return
                print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
