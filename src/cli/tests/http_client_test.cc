// The real HTTP client against a one-connection server on a kernel-chosen loopback port.
#include "cli/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "cli/cli.h"
#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

int listen_loopback(std::uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

// Accepts one connection, reads one request (headers and Content-Length body), then answers
// with `response` verbatim, or, when `response` is empty, never answers and waits for the
// client to go away. Every wait is bounded so a broken client cannot hang the test.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    listen_fd_ = listen_loopback(port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  // The raw request; call after the client returned.
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void serve() {
    if (!wait_readable(listen_fd_, 10000)) return;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::string data;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (data.size() < need && wait_readable(fd, 10000)) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      std::size_t end = data.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        std::size_t length = 0;
        std::size_t cl = data.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(data.substr(cl + 16));
        need = end + 4 + length;
      }
    }
    request_ = data;
    if (!response_.empty()) {
      (void)!write(fd, response_.data(), response_.size());
    } else {
      while (wait_readable(fd, 10000) && read(fd, buf, sizeof buf) > 0) {
      }
    }
    close(fd);
  }

  std::string response_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

HttpTarget loopback(std::uint16_t port) {
  HttpTarget t;
  t.host = "127.0.0.1";
  t.port = port;
  t.timeout = std::chrono::seconds(10);
  return t;
}

TEST(HttpClient, RoundTripsARequest) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Consul-Index: 7\r\n"
      "Content-Length: 4\r\nConnection: close\r\n\r\ntrue");
  core::Result<HttpResponse> res =
      http_request(loopback(server.port()), "PUT", kv_path("a b") + "?flags=1", "value",
                   {{"X-Consul-Token", "secret"}});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "true");
  ASSERT_NE(res->header("x-consul-index"), nullptr);
  EXPECT_EQ(*res->header("x-consul-index"), "7");
  std::string req = server.request();
  EXPECT_EQ(req.rfind("PUT /v1/kv/a%20b?flags=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("X-Consul-Token: secret\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(req.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(req.substr(req.size() - 5), "value");
}

TEST(HttpClient, NonSuccessStatusIsAResponse) {
  OneShotServer server("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  core::Result<HttpResponse> res = http_request(loopback(server.port()), "GET", "/v1/kv/x", "", {});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, "");
}

TEST(HttpClient, ConnectionRefusedNamesTheAgent) {
  std::uint16_t port = 0;
  close(listen_loopback(port));  // a port nobody listens on now
  core::Result<HttpResponse> res = http_request(loopback(port), "GET", "/v1/agent/self", "", {});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, core::Code::kUnavailable);
  EXPECT_EQ(res.error().message, "Error querying agent at http://127.0.0.1:" +
                                     std::to_string(port) + ": connection refused");
}

TEST(HttpClient, TimesOut) {
  OneShotServer server("");  // reads the request, never answers
  HttpTarget target = loopback(server.port());
  target.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  core::Result<HttpResponse> res = http_request(target, "GET", "/v1/kv/x", "", {});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, core::Code::kTimeout);
  EXPECT_EQ(res.error().message, "Error querying agent at http://127.0.0.1:" +
                                     std::to_string(server.port()) + ": timed out after 300ms");
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(HttpClient, KvGetEndToEnd) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 89\r\n\r\n"
      R"([{"LockIndex":0,"Key":"a?b","Flags":0,"Value":"YmFy","CreateIndex":1,"ModifyIndex":1}])"
      "   ");
  testing::Harness h;
  h.ctx.http = http_request;
  EXPECT_EQ(h.run({"kv", "get", "-http-addr", "127.0.0.1:" + std::to_string(server.port()), "a?b"}),
            0)
      << h.err.str();
  EXPECT_EQ(h.out.str(), "bar\n");
  EXPECT_EQ(server.request().rfind("GET /v1/kv/a%3Fb HTTP/1.1\r\n", 0), 0u);
}

TEST(HttpClient, UnreachableAgentMessageFromACommand) {
  std::uint16_t port = 0;
  close(listen_loopback(port));
  testing::Harness h;
  h.ctx.http = http_request;
  h.env["CONSUL_HTTP_ADDR"] = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(h.run({"kv", "put", "k", "v"}), 1);
  EXPECT_EQ(h.err.str(), "Error querying agent at http://127.0.0.1:" + std::to_string(port) +
                             ": connection refused\n");
}

}  // namespace
}  // namespace pc::cli
