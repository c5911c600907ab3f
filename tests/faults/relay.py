"""User-space TCP relay for the fault bed: delay, jitter, stalls and resets on server traffic.

Why it exists: the kernel here has no `tc netem`, so latency and loss cannot be added to a
veth. Instead every server namespace runs one relay, and an nftables `redirect` rule in that
namespace's nat/output hook sends every TCP connection the server opens to another server's
RPC port to the relay. The relay reads the original destination with SO_ORIGINAL_DST, opens
its own connection to it (marked with SO_MARK so the redirect rule lets it pass), and copies
bytes both ways. Connections are long-lived (Raft), so the relay is always in the path and
faults are switched on and off by commands, not by adding rules.

What it can do to a connection whose peer address matches a rule (both directions):
- delay_ms + jitter_ms: each chunk is held until now + delay + uniform(0, jitter), never
  before the chunk ahead of it (order is kept: it is one TCP stream);
- stall_p / stall_ms: with probability stall_p a chunk waits stall_ms more, which is what a
  lost segment costs TCP (a retransmission timeout) -- a byte stream cannot lose bytes;
- reset_p: with probability reset_p per chunk both sides are closed abruptly (RST), which
  is what a long loss burst ends in.

Control: JSON lines on stdin, one command per line:
  {"rules": {"10.77.5.12": {"delay_ms": 50, "jitter_ms": 20, "stall_p": 0.0,
              "stall_ms": 0, "reset_p": 0.0}, "*": {...}}}
replaces all rules ("*" applies to peers without a rule of their own);
  {"quit": true}
It prints "relay ready <port>" once listening, and answers each rules command with
"relay ok {accepted, bytes, resets}" (counters since start). Standard library only; it runs
inside a server namespace via ip netns exec.
"""

import asyncio
import json
import random
import socket
import struct
import sys
import time

SO_ORIGINAL_DST = 80
RELAY_MARK = 0x7063  # "pc": the redirect rule skips packets with this mark
CHUNK_BYTES_MAX = 64 * 1024
QUEUE_CHUNKS_MAX = 256  # per direction: backpressure instead of unbounded buffering

rules = {}
rng = random.Random()
connections = set()
stats = {"accepted": 0, "bytes": 0, "resets": 0}


def rule_for(peer_ip):
    return rules.get(peer_ip) or rules.get("*") or {}


def original_dst(sock):
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port, packed = struct.unpack_from("!2xH4s", raw)
    return socket.inet_ntoa(packed), port


async def pump(reader, writer, peer_ip, abort):
    """Copies one direction, applying the rule in force for peer_ip to each chunk."""
    queue = asyncio.Queue(QUEUE_CHUNKS_MAX)

    async def read_side():
        due_last = 0.0
        try:
            while True:
                data = await reader.read(CHUNK_BYTES_MAX)
                if not data:
                    break
                stats["bytes"] += len(data)
                rule = rule_for(peer_ip)
                if rule.get("reset_p", 0) and rng.random() < rule["reset_p"]:
                    stats["resets"] += 1
                    note(f"reset a connection to {peer_ip}")
                    abort()
                    break
                hold = rule.get("delay_ms", 0) + rng.uniform(0, rule.get("jitter_ms", 0))
                if rule.get("stall_p", 0) and rng.random() < rule["stall_p"]:
                    hold += rule.get("stall_ms", 0)
                due = max(time.monotonic() + hold / 1000.0, due_last)
                due_last = due
                await queue.put((due, data))
        except (ConnectionError, OSError):
            pass
        try:
            queue.put_nowait((0.0, None))
        except asyncio.QueueFull:
            abort()  # the writer is stuck on a full queue: closing makes it fail and end

    async def write_side():
        try:
            while True:
                due, data = await queue.get()
                if data is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            abort()

    await asyncio.gather(read_side(), write_side())


async def handle(client_reader, client_writer):
    sock = client_writer.get_extra_info("socket")
    try:
        dst_ip, dst_port = original_dst(sock)
    except OSError:
        client_writer.close()
        return
    up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    up.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, RELAY_MARK)
    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up.setblocking(False)
    try:
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(up, (dst_ip, dst_port)),
                               10.0)
        server_reader, server_writer = await asyncio.open_connection(sock=up)
    except (OSError, asyncio.TimeoutError) as err:
        note(f"connect to {dst_ip}:{dst_port} failed ({err!r}); resetting the server's side")
        up.close()
        _reset(client_writer)
        return
    writers = (client_writer, server_writer)
    entry = (writers,)
    stats["accepted"] += 1
    peer = client_writer.get_extra_info("peername")
    note(f"open {peer[0]}:{peer[1]} -> {dst_ip}:{dst_port}")
    connections.add(entry)

    def abort():
        for w in writers:
            _reset(w)

    try:
        await asyncio.gather(pump(client_reader, server_writer, dst_ip, abort),
                             pump(server_reader, client_writer, dst_ip, abort))
    finally:
        connections.discard(entry)
        note(f"close {peer[0]}:{peer[1]} -> {dst_ip}:{dst_port}")
        for w in writers:
            w.close()


def note(text):
    """One line on stderr (the relay's log file), wall-clock UTC like the servers' logs."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    print(f"{stamp}.{int(time.time() * 1000) % 1000:03d}Z relay: {text}", file=sys.stderr,
          flush=True)


def _reset(writer):
    """Closes with RST (SO_LINGER 0) so the other side sees a reset, not a clean FIN."""
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.close()


async def control(stop):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        try:
            cmd = json.loads(line)
        except ValueError:
            continue
        if cmd.get("quit"):
            break
        if "rules" in cmd:
            rules.clear()
            rules.update(cmd["rules"])
            note(f"rules {json.dumps(rules)}; {len(connections)} open connection(s)")
            print("relay ok " + json.dumps(stats), flush=True)
    stop.set()


async def main():
    port = int(sys.argv[1])
    rng.seed(int(sys.argv[2]) if len(sys.argv) > 2 else None)
    server = await asyncio.start_server(handle, "0.0.0.0", port, reuse_address=True)
    print(f"relay ready {port}", flush=True)
    stop = asyncio.Event()
    ctl = asyncio.create_task(control(stop))
    await stop.wait()
    ctl.cancel()
    server.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
