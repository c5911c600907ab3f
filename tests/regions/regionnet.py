"""Network namespaces of the two-region bed: two region LANs and a delaying WAN router.

Topology of one run (rid = a 5-character run id, k = a per-run third octet):

    ns pcf-<rid>-bw : bridge br0 of region us-west-2 (10.78.k.0/24)
    ns pcf-<rid>-be : bridge br0 of region us-east-1 (10.79.k.0/24)
    ns pcf-<rid>-rt : the WAN router: eth-w 10.78.k.1 on bw, eth-e 10.79.k.1 on be;
                      ip_forward on, every forwarded packet goes to NFQUEUE 0, where
                      wandelay.py holds it ~35 ms (and drops some, for loss); table
                      `inet pcr` drops inter-region packets while the WAN is partitioned
    ns pcf-<rid>-w1 .. w3 : us-west-2 servers, 10.78.k.11.. (one per zone)
    ns pcf-<rid>-wc1 ..   : us-west-2 client agents, 10.78.k.101..
    ns pcf-<rid>-e1 .. e3, ec1 .. : the same in us-east-1 (10.79.k.x)

Every host routes the other region through the router, so LAN traffic stays on its bridge
(no delay) and every WAN packet, UDP gossip and TCP RPC alike, crosses the router once per
direction: one way takes delay_ms, a round trip twice that.

Namespace names and ownership follow tests/faults/netbed.py (prefix pcf-, an owner record
in /run/pcf-bed/<rid>.json), so one cleanup (`regions.py cleanup` or the fault bed's
`run.py cleanup`) removes the leftovers of a killed run of either bed.
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))

import netbed  # noqa: E402
from netbed import PREFIX, sh  # noqa: E402

WEST, EAST = "us-west-2", "us-east-1"
QUEUE_NUM = 0


class Host:
    """One namespace with one address on its region's bridge."""

    def __init__(self, region, name, ns, ip):
        self.region = region  # the Region it belongs to
        self.name = name  # node name, e.g. "w-s1" or "e-c2"
        self.ns = ns
        self.ip = ip

    def exec_prefix(self):
        return ["ip", "netns", "exec", self.ns]


class Region:
    """A datacenter's LAN: its bridge namespace, servers and clients."""

    def __init__(self, rid, dc, letter, octet, k, servers, clients):
        self.dc = dc
        self.letter = letter
        self.subnet = f"10.{octet}.{k}"
        self.gateway = f"{self.subnet}.1"
        self.bridge_ns = f"{PREFIX}{rid}-b{letter}"
        self.servers = [Host(self, f"{letter}-s{i + 1}", f"{PREFIX}{rid}-{letter}{i + 1}",
                             f"{self.subnet}.{11 + i}") for i in range(servers)]
        self.clients = [Host(self, f"{letter}-c{i + 1}", f"{PREFIX}{rid}-{letter}c{i + 1}",
                             f"{self.subnet}.{101 + i}") for i in range(clients)]

    @property
    def hosts(self):
        return self.servers + self.clients

    # The attributes procs.Server reads from its `net` (one region's servers).
    @property
    def server_ns(self):
        return [h.ns for h in self.servers]

    @property
    def server_ip(self):
        return [h.ip for h in self.servers]

    @property
    def server_count(self):
        return len(self.servers)

    @staticmethod
    def exec_prefix(ns):
        return ["ip", "netns", "exec", ns]


class Network:
    """Both regions and the router of one run; create() builds, destroy() removes it all."""

    def __init__(self, servers=3, clients=2):
        self.rid = netbed.new_run_id()
        self.k = random.SystemRandom().randint(1, 254)
        self.router_ns = f"{PREFIX}{self.rid}-rt"
        self.regions = {WEST: Region(self.rid, WEST, "w", 78, self.k, servers, clients),
                        EAST: Region(self.rid, EAST, "e", 79, self.k, servers, clients)}
        self.created = []
        self.partitioned = False

    def create(self):
        netbed.claim_run(self.rid, self.k)
        self._add_ns(self.router_ns)
        sh(self.router_exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
        for region in self.regions.values():
            self._add_ns(region.bridge_ns)
            sh(["ip", "-n", region.bridge_ns, "link", "add", "br0", "type", "bridge"])
            sh(["ip", "-n", region.bridge_ns, "link", "set", "br0", "up"])
            dev = f"eth-{region.letter}"
            self._veth(region, "rt", self.router_ns, dev, f"{region.gateway}/24")
            for host in region.hosts:
                self._add_ns(host.ns)
                tag = host.ns.rsplit("-", 1)[1]
                self._veth(region, tag, host.ns, "eth0", f"{host.ip}/24")
                sh(["ip", "-n", host.ns, "route", "add", "default", "via", region.gateway])
        self._router_rules()

    def _add_ns(self, ns):
        sh(["ip", "netns", "add", ns])
        self.created.append(ns)
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])

    def _veth(self, region, tag, ns, dev, cidr):
        port = f"v{self.rid}{tag}"  # at most 1 + 5 + 3 characters
        sh(["ip", "link", "add", port, "netns", region.bridge_ns, "type", "veth", "peer",
            "name", dev, "netns", ns])
        sh(["ip", "-n", region.bridge_ns, "link", "set", port, "master", "br0", "up"])
        sh(["ip", "-n", ns, "addr", "add", cidr, "dev", dev])
        sh(["ip", "-n", ns, "link", "set", dev, "up"])

    def _router_rules(self):
        # The kernel here has no nft `queue` expression (CONFIG_NFT_QUEUE is off) but has
        # xt_NFQUEUE through nft_compat: iptables-nft writes that rule (decision 0017).
        sh(self.router_exec(["iptables-nft", "-A", "FORWARD", "-j", "NFQUEUE",
                             "--queue-num", str(QUEUE_NUM)]))
        # Priority -10 runs before iptables' filter chain (0): a partition drops a packet
        # before it is ever queued for delay.
        sh(self.router_exec(["nft", "-f", "-"]), input_text="""
table inet pcr {
  chain partition { type filter hook forward priority -10; policy accept; }
}
""")

    def router_exec(self, args):
        return ["ip", "netns", "exec", self.router_ns] + args

    def partition(self):
        """Drops every packet between the regions, both ways, at the router."""
        west, east = self.regions[WEST].subnet, self.regions[EAST].subnet
        sh(self.router_exec(["nft", "-f", "-"]), input_text=(
            "flush chain inet pcr partition\n"
            f"add rule inet pcr partition ip saddr {west}.0/24 ip daddr {east}.0/24 drop\n"
            f"add rule inet pcr partition ip saddr {east}.0/24 ip daddr {west}.0/24 drop\n"))
        self.partitioned = True

    def heal(self):
        sh(self.router_exec(["nft", "flush", "chain", "inet", "pcr", "partition"]))
        self.partitioned = False

    def destroy(self):
        """Kills what is left inside and deletes every namespace; returns leftover names."""
        for ns in reversed(self.created):
            netbed.delete_netns(ns)
        netbed.release_run(self.rid)
        return [ns for ns in netbed.list_netns() if ns.startswith(f"{PREFIX}{self.rid}-")]


def usable():
    """None when this machine can run the bed; otherwise the reason it cannot."""
    reason = netbed.netns_usable()
    if reason is not None:
        return reason
    if not any(os.access(os.path.join(d, "iptables-nft"), os.X_OK)
               for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin")):
        return "`iptables-nft` is not installed (iptables package; scripts/setup installs it)"
    return None
