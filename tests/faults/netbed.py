"""Network namespaces for the fault bed: build a datacenter's network, cut it, and remove it.

Topology of one run (rid = a 5-character run id, k = a per-run third octet):

    ns pcf-<rid>-br : bridge br0, one veth end per node (v<rid><tag>, <= 15 chars)
    ns pcf-<rid>-s1 : eth0 10.77.k.11/24   server 1 + its relay (relay.py)
    ns pcf-<rid>-s2 : eth0 10.77.k.12/24   ...
    ns pcf-<rid>-c  : eth0 10.77.k.100/24  clientd.py (all client workers and probes)

Every veth is created with both ends directly inside namespaces, so nothing of a run ever
appears in the root namespace, and deleting a run's namespaces deletes all of its links.
Two runs never see each other (each bridge lives in its own namespace); k still differs per
run so that addresses in logs say which run they came from.

Ownership: before creating anything, a run writes /run/pcf-bed/<rid>.json with its pid and
that pid's start time. `cleanup` removes namespaces named pcf-<rid>-* only when that owner is
gone (no record, or a pid that is dead or reused), after killing every process still inside
them (`ip netns pids`).
"""

import json
import os
import random
import signal
import string
import subprocess
import time

PREFIX = "pcf-"
STATE_DIR = "/run/pcf-bed"
SERVER_PORT = 8300
RELAY_PORT = 18300
HTTP_PORT = 8500
RELAY_MARK = 0x7063


def sh(args, check=True, input_text=None, timeout=20):
    """Runs one command (a list, never a shell string) and returns its stdout."""
    proc = subprocess.run(args, input=input_text, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): "
                           f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def netns_usable():
    """None when ip netns, veth, bridges and nft all work here; otherwise the reason."""
    if os.geteuid() != 0:
        return "not root: ip netns needs CAP_SYS_ADMIN"
    for tool in ("ip", "nft"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin")):
            return f"`{tool}` is not installed (nftables/iproute2 packages)"
    name = f"{PREFIX}probe{os.getpid()}"
    try:
        sh(["ip", "netns", "add", name])
    except (RuntimeError, OSError) as err:
        return f"ip netns add failed: {err}"
    try:
        sh(["ip", "-n", name, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "netns", "exec", name, "nft", "add", "table", "ip", "probe"])
    except (RuntimeError, OSError) as err:
        return f"bridge or nftables unusable in a namespace: {err}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def list_netns():
    out = sh(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def proc_start_time(pid):
    """The start time of a live process, or None (no such process, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def kill_netns_pids(ns):
    """SIGKILLs every process inside namespace ns (only our own namespaces are passed)."""
    out = sh(["ip", "netns", "pids", ns], check=False)
    for token in out.split():
        try:
            pid = int(token)
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except (ValueError, ProcessLookupError, PermissionError):
            pass


def delete_netns(ns):
    kill_netns_pids(ns)
    for _ in range(20):
        if subprocess.run(["ip", "netns", "del", ns], capture_output=True).returncode == 0:
            return True
        if ns not in list_netns():
            return True
        time.sleep(0.1)
    return False


def owner_alive(rid):
    path = os.path.join(STATE_DIR, f"{rid}.json")
    try:
        with open(path, encoding="utf-8") as f:
            owner = json.load(f)
    except (OSError, ValueError):
        return False
    return proc_start_time(owner["pid"]) == owner["start"]


def cleanup_leftovers(log=print):
    """Removes namespaces (and owner records) of runs whose owner process is gone."""
    by_run = {}
    for ns in list_netns():
        if ns.startswith(PREFIX) and ns.count("-") >= 2:
            by_run.setdefault(ns.split("-")[1], []).append(ns)
    records = set()
    if os.path.isdir(STATE_DIR):
        records = {f[:-5] for f in os.listdir(STATE_DIR) if f.endswith(".json")}
    removed, kept = [], []
    for rid in sorted(set(by_run) | records):
        if owner_alive(rid):
            kept.append(rid)
            continue
        for ns in by_run.get(rid, []):
            if delete_netns(ns):
                removed.append(ns)
            else:
                log(f"cleanup: could not delete {ns}")
        try:
            os.unlink(os.path.join(STATE_DIR, f"{rid}.json"))
        except FileNotFoundError:
            pass
    # A probe namespace of netns_usable() whose process died between add and del.
    for ns in list_netns():
        if ns.startswith(f"{PREFIX}probe"):
            pid = int(ns[len(PREFIX) + 5:] or 0)
            if proc_start_time(pid) is None and delete_netns(ns):
                removed.append(ns)
    log(f"cleanup: removed {len(removed)} namespace(s) {removed}; "
        f"left {len(kept)} live run(s) {kept}")
    return removed


def new_run_id():
    """A fresh 5-character run id (the <rid> of every namespace name of one run)."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(random.SystemRandom().choice(alphabet) for _ in range(5))


def claim_run(rid, k):
    """Records this process as the owner of run rid, before anything of it is created."""
    os.makedirs(STATE_DIR, exist_ok=True)
    path = os.path.join(STATE_DIR, f"{rid}.json")
    with open(path, "x", encoding="utf-8") as f:
        json.dump({"pid": os.getpid(), "start": proc_start_time(os.getpid()), "k": k}, f)


def release_run(rid):
    try:
        os.unlink(os.path.join(STATE_DIR, f"{rid}.json"))
    except FileNotFoundError:
        pass


class Network:
    """The namespaces, bridge, addresses and nftables rules of one run."""

    def __init__(self, server_count, rng=None, relay=True):
        rng = rng or random.SystemRandom()
        self.rid = new_run_id()
        self.k = random.SystemRandom().randint(1, 254)
        self.server_count = server_count
        self.relay = relay  # False: no redirect to relays (a control run without them)
        self.bridge_ns = f"{PREFIX}{self.rid}-br"
        self.server_ns = [f"{PREFIX}{self.rid}-s{i + 1}" for i in range(server_count)]
        self.client_ns = f"{PREFIX}{self.rid}-c"
        self.server_ip = [f"10.77.{self.k}.{11 + i}" for i in range(server_count)]
        self.client_ip = f"10.77.{self.k}.100"
        self.created = []
        self.cuts = {i: set() for i in range(server_count)}

    # --- lifecycle ---------------------------------------------------------------------

    def _claim(self):
        claim_run(self.rid, self.k)

    def create(self):
        self._claim()
        self._add_ns(self.bridge_ns)
        sh(["ip", "-n", self.bridge_ns, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "-n", self.bridge_ns, "link", "set", "br0", "up"])
        nodes = [(ns, ip, f"s{i + 1}") for i, (ns, ip) in
                 enumerate(zip(self.server_ns, self.server_ip))]
        nodes.append((self.client_ns, self.client_ip, "c"))
        for ns, ip, tag in nodes:
            self._add_ns(ns)
            port = f"v{self.rid}{tag}"  # at most 1 + 5 + 2 characters
            sh(["ip", "link", "add", port, "netns", self.bridge_ns, "type", "veth",
                "peer", "name", "eth0", "netns", ns])
            sh(["ip", "-n", self.bridge_ns, "link", "set", port, "master", "br0", "up"])
            sh(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        for i in range(self.server_count):
            self._base_rules(i)

    def _add_ns(self, ns):
        sh(["ip", "netns", "add", ns])
        self.created.append(ns)
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])

    def destroy(self):
        """Kills what is left inside and deletes every namespace; returns leftover names."""
        for ns in reversed(self.created):
            delete_netns(ns)
        release_run(self.rid)
        return [ns for ns in list_netns() if ns.startswith(f"{PREFIX}{self.rid}-")]

    # --- nftables ----------------------------------------------------------------------

    def _nft(self, i, script):
        sh(["ip", "netns", "exec", self.server_ns[i], "nft", "-f", "-"], input_text=script)

    def _base_rules(self, i):
        """The relay redirect (always on) and empty drop chains for partitions.

        Outgoing connections from server i to another server's RPC port are redirected to
        the relay in the same namespace; the relay's own connections carry RELAY_MARK and
        pass untouched.
        """
        peers = ", ".join(ip for j, ip in enumerate(self.server_ip) if j != i)
        redirect = (f"ip daddr {{ {peers} }} tcp dport {SERVER_PORT} redirect to :{RELAY_PORT}"
                    if self.relay else "")
        self._nft(i, f"""
table ip pcf {{
  chain nat_out {{
    type nat hook output priority -100; policy accept;
    meta mark {RELAY_MARK:#x} return
    {redirect}
  }}
  chain drop_in {{ type filter hook input priority 0; policy accept; }}
  chain drop_out {{ type filter hook output priority 0; policy accept; }}
}}
""")

    def set_cuts(self, pairs):
        """Drops all traffic between each (a, b) server pair, both ways, at both ends.

        Clients are never cut: a partition here is between servers, as in a datacenter
        whose clients still reach every server.
        """
        cuts = {i: set() for i in range(self.server_count)}
        for a, b in pairs:
            cuts[a].add(b)
            cuts[b].add(a)
        for i in range(self.server_count):
            if cuts[i] == self.cuts[i]:
                continue
            script = "flush chain ip pcf drop_in\nflush chain ip pcf drop_out\n"
            if cuts[i]:
                ips = ", ".join(self.server_ip[j] for j in sorted(cuts[i]))
                script += (f"add rule ip pcf drop_in ip saddr {{ {ips} }} drop\n"
                           f"add rule ip pcf drop_out ip daddr {{ {ips} }} drop\n")
            self._nft(i, script)
        self.cuts = cuts

    def heal(self):
        self.set_cuts([])

    def exec_prefix(self, ns):
        return ["ip", "netns", "exec", ns]
