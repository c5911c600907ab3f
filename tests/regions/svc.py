"""A tiny HTTP service (A or B) for a client agent's HTTP check: 200 on every GET.

Usage: svc.py <ip> <port> <name>. Runs in the client's namespace; the test kills it with
SIGKILL to fail the check and starts it again to recover.
"""

import http.server
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        body = f"{sys.argv[3]} ok\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass  # a check every second would fill the log


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        # HTTPServer's own server_bind asks the resolver for the address's FQDN, which in
        # a namespace with no name server in reach costs seconds on every restart.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


if __name__ == "__main__":
    server = Server((sys.argv[1], int(sys.argv[2])), Handler)
    print(f"svc {sys.argv[3]} listening on {sys.argv[1]}:{sys.argv[2]}", flush=True)
    server.serve_forever()
