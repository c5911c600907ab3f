"""A real gRPC health server (grpc.health.v1.Health/Check) for check tests, on Debian's
python3-grpcio. Debian packages no grpc_health module, so the two tiny protobuf messages are
coded here by hand and served through grpcio's generic handler with raw bytes.

Service statuses are set per test: `statuses[name] = SERVING | NOT_SERVING | ...`; a name
not in the map is answered as the standard health server does, with NOT_FOUND "unknown
service"; a name in `delays_s` is answered only after that many seconds.
"""

import threading
import time
from concurrent import futures

import grpc

UNKNOWN, SERVING, NOT_SERVING, SERVICE_UNKNOWN = 0, 1, 2, 3


def _read_varint(data, pos):
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def decode_request(data):
    """HealthCheckRequest.service (field 1)."""
    pos, service = 0, ""
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        if key >> 3 == 1 and key & 7 == 2:
            n, pos = _read_varint(data, pos)
            service = data[pos:pos + n].decode()
            pos += n
        else:
            raise ValueError("unexpected field")
    return service


def encode_response(status):
    return bytes([0x08, status]) if status else b""


class HealthServer:
    def __init__(self, tls_key_cert=None):
        self.statuses = {"": SERVING}
        self.delays_s = {}
        self.requests = []
        self.lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handler = grpc.unary_unary_rpc_method_handler(self._check)
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": handler}),))
        if tls_key_cert:
            creds = grpc.ssl_server_credentials([tls_key_cert])
            self.port = self.server.add_secure_port("127.0.0.1:0", creds)
        else:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _check(self, request, context):
        service = decode_request(request)
        with self.lock:
            self.requests.append(service)
            status = self.statuses.get(service)
            delay_s = self.delays_s.get(service, 0)
        if delay_s:
            time.sleep(delay_s)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return encode_response(status)

    def set(self, service, status):
        with self.lock:
            self.statuses[service] = status

    def address(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self.server.stop(0).wait(5)
