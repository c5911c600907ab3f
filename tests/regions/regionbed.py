"""The two-region bed: servers, client agents and services A and B in their namespaces.

us-west-2 (the primary) and us-east-1 each run `servers` servers (one per zone) and
`clients` client agents; every client agent registers services A and B, each with an HTTP
check every second against a tiny HTTP server (svc.py) in the client's own namespace.
Servers join their region's LAN pool and every server of the other region over the WAN,
which crosses the router namespace and its delay (regionnet.py, wandelay.py).

Every process runs inside a namespace (`ip netns exec`); the controller talks to the
agents through sockets made inside a host's namespace (nsio.py). Used by the tests beside
it and by bench/region_failover.sh (regions.py bench).
"""

import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "faults"))

import nsio  # noqa: E402
import procs  # noqa: E402
import regionnet  # noqa: E402
from regionnet import EAST, WEST  # noqa: E402

PRIMARY = WEST
MANAGEMENT_TOKEN = "8f1c2a44-6a53-4c1e-9d5e-7b2f0c1d9e01"
SERVICES = {"A": 9001, "B": 9002}
CHECK_INTERVAL = "1s"
# LAN gossip as the loopback tests run it; WAN probes slower than the 70 ms round trip
# with room for a loaded machine, fast enough that coordinates settle within seconds.
GOSSIP_LAN = {"probe_interval": "200ms", "probe_timeout": "100ms",
              "gossip_interval": "50ms", "suspicion_mult": 3}
GOSSIP_WAN = {"probe_interval": "500ms", "probe_timeout": "300ms",
              "gossip_interval": "100ms", "suspicion_mult": 4}
NO_PATH = "No path to datacenter"


class FeatureMissing(Exception):
    """The servers of this build answer a feature's request with 404 or No path."""


def missing_feature(resp):
    """True when a response says the feature it asks for is not in this build."""
    return resp.status == 404 or (resp.status == 500 and NO_PATH in resp.text)


def binary_path():
    binary = os.environ.get("PROCONSUL_BIN", "")
    if not binary:
        candidate = os.path.join(HERE, "..", "..", "build", "proconsul")
        binary = candidate if os.access(candidate, os.X_OK) else ""
    if not binary or not os.access(binary, os.X_OK):
        raise RuntimeError(f"PROCONSUL_BIN={binary!r} is not an executable proconsul binary")
    return os.path.abspath(binary)


def zone(dc, i):
    """The availability zone of the i-th server (or client) of a region: a, b, c, a, ..."""
    return f"{dc}{'abc'[i % 3]}"


class _ClientView:
    """procs.Server reads its host from net.server_ns/server_ip: the clients, here."""

    def __init__(self, region):
        self.server_ns = [h.ns for h in region.clients]
        self.server_ip = [h.ip for h in region.clients]
        self.server_count = len(region.servers)
        self.exec_prefix = region.exec_prefix


class RegionServer(procs.Server):
    def __init__(self, bed, region, i, config_files):
        self.host = region.servers[i]
        self.dc = region.dc
        self.config_files = config_files
        self.wan_joins = [h.ip for h in bed.other(region.dc).servers]
        peers = [h.ip for h in region.servers if h is not self.host]
        super().__init__(i, region, bed.binary, os.path.join(bed.workdir, region.dc),
                         config_files[0], peers, name=self.host.name)

    def command(self):
        args = self.host.exec_prefix() + [
            self.binary, "agent", "-server", "-bootstrap-expect", str(self.net.server_count),
            "-datacenter", self.dc, "-data-dir", self.data_dir, "-node", self.name,
            "-bind", self.host.ip, "-client", self.host.ip, "-retry-interval", "1s",
            "-node-meta", f"zone:{zone(self.dc, self.i)}",
            "-log-level", os.environ.get("PCR_LOG_LEVEL", "info")]
        for path in self.config_files:
            args += ["-config-file", path]
        for ip in self.peers_ips:
            args += ["-retry-join", ip]
        for ip in self.wan_joins:
            args += ["-retry-join-wan", ip]
        return args


class RegionClient(procs.Server):
    def __init__(self, bed, region, i, config_files):
        self.host = region.clients[i]
        self.dc = region.dc
        self.config_files = config_files
        super().__init__(i, _ClientView(region), bed.binary,
                         os.path.join(bed.workdir, region.dc), config_files[0],
                         [h.ip for h in region.servers], name=self.host.name)

    def command(self):
        args = self.host.exec_prefix() + [
            self.binary, "agent", "-datacenter", self.dc, "-data-dir", self.data_dir,
            "-node", self.name, "-bind", self.host.ip, "-client", self.host.ip,
            "-retry-interval", "1s", "-node-meta", f"zone:{zone(self.dc, self.i)}",
            "-log-level", os.environ.get("PCR_LOG_LEVEL", "info")]
        for path in self.config_files:
            args += ["-config-file", path]
        for ip in self.peers_ips:
            args += ["-retry-join", ip]
        return args


class Service:
    """One svc.py HTTP server (service A or B of one client); killed and restarted."""

    def __init__(self, host, name, port, workdir):
        self.host, self.name, self.port = host, name, port
        self.log_path = os.path.join(workdir, f"{host.name}-svc-{name}.log")
        self.proc = None

    def start(self):
        """Starts svc.py and returns once it listens (its one line on stdout), so a
        recovery is timed from the service being back, not from a Python start-up."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.host.exec_prefix() + [procs.PYTHON, os.path.join(HERE, "svc.py"),
                                           self.host.ip, str(self.port), self.name],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.startswith(b"svc "):
            raise RuntimeError(f"{self.name} on {self.host.name} did not start: "
                               f"see {self.log_path}")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()


class Bed:
    def __init__(self, workdir, servers=3, clients=2, delay_ms=35.0, loss=0.0, seed=None,
                 binary=None):
        self.binary = binary or binary_path()
        self.workdir = workdir
        self.net = regionnet.Network(servers, clients)
        self.delay_ms, self.loss, self.seed = delay_ms, loss, seed
        self.delayer = None
        self.servers = {WEST: [], EAST: []}
        self.clients = {WEST: [], EAST: []}
        self.services = {WEST: [], EAST: []}
        self.acl = False  # ACLs on (with replication from the primary) when the build can
        for dc in (WEST, EAST):
            os.makedirs(os.path.join(workdir, dc), exist_ok=True)

    # --- lifecycle ---------------------------------------------------------------------

    def region(self, dc):
        return self.net.regions[dc]

    def other(self, dc):
        return self.net.regions[EAST if dc == WEST else WEST]

    def start(self, wait_s=120.0):
        self.net.create()
        self.delayer = procs.LineProcess(
            self.net.router_exec([procs.PYTHON, os.path.join(HERE, "wandelay.py"),
                                  "--delay-ms", str(self.delay_ms), "--loss", str(self.loss)]
                                 + (["--seed", str(self.seed)] if self.seed is not None
                                    else [])),
            os.path.join(self.workdir, "wandelay.log"))
        line = self.delayer.readline()
        if not line.startswith("wandelay ready"):
            raise RuntimeError(f"wandelay: {line!r}")
        self.acl = self._config_key_known({"primary_datacenter": PRIMARY})
        deadline = time.monotonic() + wait_s
        for dc in (WEST, EAST):
            files = [self._write_config(dc, "server")]
            region = self.region(dc)
            self.servers[dc] = [RegionServer(self, region, i, files)
                                for i in range(region.server_count)]
        for server in self.all_servers():
            server.start()
        for server in self.all_servers():
            if not server.wait_ready(max(1.0, deadline - time.monotonic())):
                raise RuntimeError(f"{server.name} did not start:\n{server.log_tail()}")
        for dc in (WEST, EAST):
            self.wait(lambda dc=dc: self.leader(dc), deadline - time.monotonic(),
                      f"a leader in {dc}")
        self.wait(lambda: self.wan_alive() == 2 * self.region(WEST).server_count,
                  deadline - time.monotonic(), "every server alive in the WAN pool")
        self._start_clients(deadline)

    def _start_clients(self, deadline):
        for dc in (WEST, EAST):
            region = self.region(dc)
            common = self._write_config(dc, "client")
            for i, host in enumerate(region.clients):
                for name, port in SERVICES.items():
                    svc = Service(host, name, port, os.path.join(self.workdir, dc))
                    svc.start()
                    self.services[dc].append(svc)
                client = RegionClient(self, region, i, [common])
                client.start()
                self.clients[dc].append(client)
        for client in self.all_clients():
            if not client.wait_ready(max(1.0, deadline - time.monotonic())):
                raise RuntimeError(f"{client.name} did not start:\n{client.log_tail()}")
            # This agent reads no service definitions from its config: they are registered
            # through its HTTP API, as a deployment tool would.
            for name, port in SERVICES.items():
                ip = client.host.ip
                resp = self.put(client, "/v1/agent/service/register", {
                    "ID": name, "Name": name, "Address": ip, "Port": port,
                    "Check": {"CheckID": f"{name}-http", "HTTP": f"http://{ip}:{port}/",
                              "Interval": CHECK_INTERVAL, "Timeout": "500ms"}})
                if resp.status != 200:
                    raise RuntimeError(f"registering {name} on {client.name}: {resp}")
        for dc in (WEST, EAST):
            want = len(self.region(dc).clients)
            if want:
                self.wait(lambda dc=dc, want=want: self.passing(dc, "A") == want
                          and self.passing(dc, "B") == want,
                          deadline - time.monotonic(), f"A and B passing in {dc}")

    def stop(self):
        """Stops every process and removes every namespace; returns leftover names."""
        for svcs in self.services.values():
            for svc in svcs:
                svc.kill()
        for agent in self.all_clients() + self.all_servers():
            try:
                agent.stop(grace_s=3.0)
            except OSError:
                pass
        if self.delayer is not None:
            self.delayer.stop()
        return self.net.destroy()

    def all_servers(self):
        return self.servers[WEST] + self.servers[EAST]

    def all_clients(self):
        return self.clients[WEST] + self.clients[EAST]

    def _write_config(self, dc, role):
        config = {"performance": {"raft_multiplier": 1}, "gossip_lan": GOSSIP_LAN,
                  "retry_interval_wan": "1s"}
        if role == "server":
            config["gossip_wan"] = GOSSIP_WAN
        if self.acl:
            tokens = {"initial_management": MANAGEMENT_TOKEN} if dc == PRIMARY else {
                "replication": MANAGEMENT_TOKEN}
            config["primary_datacenter"] = PRIMARY
            config["acl"] = {"enabled": True, "default_policy": "allow",
                             "enable_token_replication": True,
                             "tokens": tokens if role == "server" else {}}
        path = os.path.join(self.workdir, dc, f"{role}.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump(config, out)
        return path

    def _config_key_known(self, extra):
        """Whether this build's agent accepts a config holding `extra` (it names an
        unknown key at once and exits; a known one lets a -dev agent run)."""
        path = os.path.join(self.workdir, "probe.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump(extra, out)
        proc = subprocess.Popen(
            self.net.router_exec([self.binary, "agent", "-dev", "-config-file", path,
                                  "-bind", "127.0.0.1", "-client", "127.0.0.1"]),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=3.0)
            return "unknown key" not in out
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return True

    # --- talking to the agents ---------------------------------------------------------

    def host_of(self, agent_or_host):
        return getattr(agent_or_host, "host", agent_or_host)

    def api(self, who, method, path, body=None, headers=None, timeout=10.0):
        """An HTTP request from `who`'s namespace to its own agent."""
        host = self.host_of(who)
        return nsio.http(host.ns, host.ip, method, path, body, headers, timeout)

    def get(self, who, path, **kw):
        return self.api(who, "GET", path, **kw)

    def put(self, who, path, body=None, **kw):
        return self.api(who, "PUT", path, body, **kw)

    def dns(self, who, name, timeout=2.0):
        host = self.host_of(who)
        return nsio.dns_a(host.ns, host.ip, name, timeout=timeout)

    def cli(self, who, *args, token=None, timeout=30):
        host = self.host_of(who)
        env = dict(os.environ, CONSUL_HTTP_ADDR=f"http://{host.ip}:8500")
        if token:
            env["CONSUL_HTTP_TOKEN"] = token
        return subprocess.run(host.exec_prefix() + [self.binary, *args], capture_output=True,
                              text=True, timeout=timeout, env=env)

    def leader(self, dc):
        try:
            resp = self.get(self.servers[dc][0], "/v1/status/leader", timeout=3.0)
        except OSError:
            return None
        return resp.json() if resp.status == 200 and resp.json() else None

    def wan_alive(self):
        try:
            resp = self.get(self.servers[WEST][0], "/v1/agent/members?wan=1", timeout=3.0)
        except OSError:
            return 0
        return sum(1 for m in resp.json() if m.get("Status") == 1) if resp.status == 200 else 0

    def passing(self, dc, service):
        try:
            resp = self.get(self.servers[dc][0],
                            f"/v1/health/service/{service}?passing=1&stale", timeout=3.0)
        except OSError:
            return -1
        return len(resp.json()) if resp.status == 200 else -1

    @staticmethod
    def wait(fn, timeout_s, what, interval=0.1):
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            value = fn()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
            time.sleep(interval)

    # --- faults ------------------------------------------------------------------------

    def kill_service(self, dc, name):
        """SIGKILLs every instance of service `name` in region dc; returns when the last
        one died (time.monotonic())."""
        for svc in self.services[dc]:
            if svc.name == name:
                svc.kill()
        return time.monotonic()

    def start_service(self, dc, name):
        """Starts every instance of `name` in dc again; returns when the last one listens."""
        for svc in self.services[dc]:
            if svc.name == name:
                svc.start()
        return time.monotonic()

    def set_link(self, **settings):
        """Changes the WAN link (delay_ms, jitter_ms, loss) while the bed runs."""
        with self.delayer.lock:
            self.delayer.send(settings)
            return json.loads(self.delayer.readline())

    def link_stats(self):
        with self.delayer.lock:
            self.delayer.send({"stats": True})
            return json.loads(self.delayer.readline())

    def partition(self):
        self.net.partition()

    def heal(self):
        self.net.heal()

    def logs_tail(self, lines=15):
        return "\n".join(f"--- {a.name} ---\n{a.log_tail(lines)}"
                         for a in self.all_servers() + self.all_clients())


def wan_rtt_ms(coordinate_dcs, dc_a, dc_b):
    """Median Vivaldi round-trip estimate (ms) between the servers of two datacenters, from
    /v1/coordinate/datacenters: |va - vb| + heights, plus adjustments when that stays
    positive (Consul's coordinate.Client.DistanceTo)."""
    coords = {d["Datacenter"]: [c["Coord"] for c in d["Coordinates"]] for d in coordinate_dcs}
    estimates = []
    for a in coords.get(dc_a, []):
        for b in coords.get(dc_b, []):
            dist = sum((x - y) ** 2 for x, y in zip(a["Vec"], b["Vec"])) ** 0.5
            dist += a["Height"] + b["Height"]
            adjusted = dist + a["Adjustment"] + b["Adjustment"]
            estimates.append(adjusted if adjusted > 0 else dist)
    if not estimates:
        return None
    estimates.sort()
    return estimates[len(estimates) // 2] * 1000.0
