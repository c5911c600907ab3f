"""Processes of the fault bed: servers, relays and the client daemon, each in its namespace.

Every process is started as `ip netns exec <ns> <program>`; ip execs the program in place, so
the pid we hold is the program's own and SIGKILL/SIGSTOP/SIGCONT reach it directly. Each one
is also in its own session (start_new_session) so a Ctrl-C at the terminal reaches only the
controller, whose teardown then stops them by pid.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
RUNNING_MARKER = "==> Proconsul agent running!"


class Server:
    """One `proconsul agent -server` in namespace net.server_ns[i], data kept across restarts."""

    def __init__(self, i, net, binary, workdir, config_file, peers_ips, name=None):
        self.i = i
        self.name = name or f"s{i + 1}"
        self.net = net
        self.ns = net.server_ns[i]
        self.ip = net.server_ip[i]
        self.binary = binary
        self.data_dir = os.path.join(workdir, self.name)
        self.log_path = os.path.join(workdir, f"{self.name}.log")
        self.config_file = config_file
        self.peers_ips = peers_ips
        self.proc = None
        self.paused = False
        self.refused_on_purpose = False  # set by the mid-log corruption check only
        self.starts = 0
        self.log_offset = 0
        os.makedirs(self.data_dir, exist_ok=True)

    def command(self):
        args = self.net.exec_prefix(self.ns) + [
            self.binary, "agent", "-server", "-bootstrap-expect", str(self.net.server_count),
            "-data-dir", self.data_dir, "-node", self.name, "-bind", self.ip,
            "-client", self.ip, "-http-port", "8500", "-dns-port", "-1",
            "-server-port", "8300", "-retry-interval", "1s", "-config-file", self.config_file,
            "-log-level", os.environ.get("PCF_SERVER_LOG_LEVEL", "info")]
        # Servers find each other in the LAN gossip pool (port 8301 by default).
        for ip in self.peers_ips:
            args += ["-retry-join", ip]
        return args

    def start(self):
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== fault bed: start #{self.starts + 1} at {time.time():.3f} ===\n"
                      .encode())
            self.log_offset = log.tell()
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        self.paused = False

    def log_since_start(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_path) - 64 * 1024))
                text = f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout_s=30.0):
        """True once the banner's running line is logged; False if it exits or times out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if RUNNING_MARKER in self.log_since_start():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
        self.paused = False

    def pause(self):
        if self.alive():
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.alive():
            self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def stop(self, grace_s=5.0):
        """Teardown: SIGCONT (a stopped process cannot act on SIGTERM), SIGTERM, SIGKILL."""
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class LineProcess:
    """A helper process spoken to by JSON lines on stdin/stdout (relay.py, clientd.py)."""

    def __init__(self, args, log_path):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, start_new_session=True, text=True,
                                     bufsize=1)
        self.lock = threading.Lock()

    def send(self, obj):
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def readline(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"helper {self.proc.args[-1]} exited "
                               f"({self.proc.poll()}); see its log")
        return line

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send({"op": "quit", "quit": True})
                self.proc.stdin.close()
                self.proc.wait(3)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Relay(LineProcess):
    def __init__(self, net, i, workdir, seed):
        super().__init__(net.exec_prefix(net.server_ns[i]) +
                         [PYTHON, os.path.join(HERE, "relay.py"), "18300", str(seed)],
                         os.path.join(workdir, f"relay-s{i + 1}.log"))
        line = self.readline()
        if not line.startswith("relay ready"):
            raise RuntimeError(f"relay in {net.server_ns[i]}: {line!r}")

    def set_rules(self, rules):
        with self.lock:
            self.send({"rules": rules})
            line = self.readline()
        return json.loads(line.split(" ", 2)[2])


class ClientLink(LineProcess):
    """The controller's only way to the servers: clientd.py inside the client namespace."""

    def __init__(self, net, workdir):
        super().__init__(net.exec_prefix(net.client_ns) +
                         [PYTHON, os.path.join(HERE, "clientd.py")],
                         os.path.join(workdir, "clientd.log"))
        self.next_id = 0

    def call(self, cmd):
        with self.lock:
            self.next_id += 1
            cmd = dict(cmd, id=self.next_id)
            self.send(cmd)
            while True:
                reply = json.loads(self.readline())
                if reply.get("id") == cmd["id"]:
                    return reply

    def http(self, host, method, path, body=None, timeout=3.0):
        return self.call({"op": "http", "host": host, "method": method, "path": path,
                          "body": body, "timeout": timeout})
