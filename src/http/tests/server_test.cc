#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/limits.h"
#include "http/errors.h"
#include "http/json/writer.h"
#include "http/query.h"
#include "state/watch.h"

namespace pc::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Every blocking read in these tests returns within this; a hang fails instead of stalling.
constexpr auto kSocketDeadline = 5s;

// A raw HTTP/1.1 client over a blocking POSIX socket with receive/send deadlines.
class Client {
 public:
  struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-cased names
    std::string body;
    std::string header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "<none>" : it->second;
    }
  };

  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kSocketDeadline).count();
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(); }

  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads exactly `n` bytes (or fewer if the peer closes or the deadline passes).
  std::string read_exact(std::size_t n) {
    while (buf_.size() < n && fill()) {
    }
    std::string out = buf_.substr(0, std::min(n, buf_.size()));
    buf_.erase(0, out.size());
    return out;
  }

  std::optional<Reply> read_response(bool head = false) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    Reply r;
    std::size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      std::size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      std::size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
      pos = next + 2;
    }
    if (!head && r.status >= 200 && r.headers.count("content-length")) {
      const auto len = static_cast<std::size_t>(std::stoul(r.headers["content-length"]));
      r.body = read_exact(len);
      if (r.body.size() != len) return std::nullopt;
    }
    return r;
  }

  // True if the server closed the connection (EOF) before the deadline.
  bool peer_closed() {
    if (!buf_.empty()) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

  std::optional<Reply> request(std::string_view raw) {
    if (!send(raw)) return std::nullopt;
    return read_response();
  }

 private:
  bool fill() {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n\r\n";
}

// The data a blocking read observes: an index and a channel fired (and replaced) on change,
// as the state store does.
class FakeTable {
 public:
  std::shared_ptr<state::WatchChannel> channel() {
    std::lock_guard lock(mu_);
    return channel_;
  }
  std::uint64_t index() const { return index_; }
  void write(std::uint64_t index) {
    std::shared_ptr<state::WatchChannel> old;
    {
      std::lock_guard lock(mu_);
      index_ = index;
      old = std::exchange(channel_, std::make_shared<state::WatchChannel>());
    }
    old->fire();
  }
  std::atomic<int> runs{0};

 private:
  std::mutex mu_;
  std::atomic<std::uint64_t> index_{5};
  std::shared_ptr<state::WatchChannel> channel_ = std::make_shared<state::WatchChannel>();
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("/v1/hello", {"GET"},
                [](const Request&, Reply reply) { reply(Response::text(200, "hello")); });
    router_.add("/v1/echo", {"GET", "PUT"}, [](const Request& req, Reply reply) {
      JsonWriter w;
      w.begin_object();
      w.string_field("Method", req.method);
      w.string_field("Path", req.path);
      w.string_field("RawQuery", req.raw_query);
      w.key("Query");
      w.begin_array();
      for (const auto& [k, v] : req.query) {
        w.begin_array();
        w.string(k);
        w.string(v);
        w.end_array();
      }
      w.end_array();
      w.number_field("BodyBytes", req.body.size());
      const std::string* h = req.header("x-test");
      w.string_field("XTest", h ? *h : "");
      w.bool_field("HasRemote", !req.remote_addr.empty());
      w.end_object();
      reply(Response::json(w.take()));
    });
    router_.add("/v1/kv/", {"GET", "PUT", "DELETE"},
                [](const Request& req, Reply reply) { reply(Response::text(200, req.path)); });
    router_.add("/v1/deferred", {"PUT"}, [this](const Request& req, Reply reply) {
      std::string body = req.body;
      std::lock_guard lock(threads_mu_);
      threads_.emplace_back([reply = std::move(reply), body] {
        std::this_thread::sleep_for(30ms);
        reply(Response::json("\"done " + body + "\""));
      });
    });
    router_.add("/v1/block", {"GET"}, [this](const Request& req, Reply reply) {
      auto options = parse_query_options(req);
      if (!options) {
        reply(error_response(options.error()));
        return;
      }
      reply(blocking_read(*options, [this](state::WatchSet& ws) {
        ws.add(table_.channel());  // watch first, then read
        table_.runs++;
        ReadOutcome out;
        out.index = table_.index();
        out.response = Response::json(std::to_string(out.index));
        return out;
      }));
    });
  }

  void TearDown() override {
    if (server_) server_->stop();
    std::lock_guard lock(threads_mu_);
    for (auto& t : threads_) t.join();
  }

  std::uint16_t start(ServerOptions options = {}) {
    options.port = 0;
    options.threads = 2;
    options.default_headers = {{"X-Default", "yes"}};
    options.leader_info = [] { return LeaderInfo{true, 7}; };
    server_ = std::make_unique<Server>(std::move(options), router_);
    auto port = server_->start();
    EXPECT_TRUE(port.has_value());
    port_ = port.has_value() ? *port : 0;
    return port_;
  }
  std::uint16_t start_port() const { return port_; }

  // Polls `cond` until it holds or the deadline passes.
  template <typename F>
  bool eventually(F cond, std::chrono::milliseconds within = 3000ms) {
    const auto deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(2ms);
    }
    return cond();
  }

  Router router_;
  FakeTable table_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;
};

TEST_F(ServerTest, SimpleGet) {
  Client c(start());
  ASSERT_TRUE(c.connected());
  auto r = c.request(get("/v1/hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->header("x-default"), "yes");
  EXPECT_NE(r->header("date"), "<none>");
  EXPECT_EQ(r->header("x-consul-index"), "<none>");  // only blocking reads carry it
}

TEST_F(ServerTest, KeepAliveAndPipelining) {
  Client c(start());
  auto a = c.request(get("/v1/hello"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200);
  auto b = c.request(get("/v1/kv/x"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->body, "/v1/kv/x");
  // Two requests in one write are answered in order.
  ASSERT_TRUE(c.send(get("/v1/kv/first") + get("/v1/kv/second")));
  auto first = c.read_response();
  auto second = c.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "/v1/kv/first");
  EXPECT_EQ(second->body, "/v1/kv/second");
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  Client c(start());
  auto r = c.request("GET /v1/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.peer_closed());
}

TEST_F(ServerTest, TargetIsDecoded) {
  Client c(start());
  auto r = c.request(
      "GET /v1/echo?recurse&key=a%20b&plus=a+b&k=1&k=2&&empty= HTTP/1.1\r\nHost: t\r\n"
      "X-Test: hi\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->body, R"({"Method":"GET","Path":"/v1/echo",)"
                     R"("RawQuery":"recurse\u0026key=a%20b\u0026plus=a+b\u0026k=1\u0026k=2)"
                     R"(\u0026\u0026empty=",)"
                     R"("Query":[["recurse",""],["key","a b"],["plus","a b"],["k","1"],["k","2"],)"
                     R"(["empty",""]],"BodyBytes":0,"XTest":"hi","HasRemote":true})");
  auto kv = c.request(get("/v1/kv/foo%20bar/%C3%A9"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->body, "/v1/kv/foo bar/\xC3\xA9");
}

TEST_F(ServerTest, BadEncodingIs400) {
  Client c(start());
  auto r = c.request(get("/v1/kv/%zz"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  Client d(start_port());
  auto ctl = d.request(get("/v1/kv/a%01b"));
  ASSERT_TRUE(ctl);
  EXPECT_EQ(ctl->status, 400);
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowed) {
  Client c(start());
  auto nf = c.request(get("/v1/nope"));
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(nf->body, "Invalid URL path: not a recognized HTTP API endpoint\n");
  EXPECT_EQ(nf->header("x-default"), "yes");
  auto na = c.request("DELETE /v1/hello HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->status, 405);
  EXPECT_EQ(na->body, "method DELETE not allowed");
  EXPECT_EQ(na->header("allow"), "OPTIONS,GET");
  auto opt = c.request("OPTIONS /v1/kv/a HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(opt);
  EXPECT_EQ(opt->status, 200);
  EXPECT_EQ(opt->header("allow"), "OPTIONS,GET,PUT,DELETE");
  EXPECT_EQ(opt->header("content-length"), "0");
}

TEST_F(ServerTest, HeadSendsNoBody) {
  router_.add("/v1/head", {"HEAD"},
              [](const Request&, Reply reply) { reply(Response::text(200, "twelve bytes")); });
  Client c(start());
  ASSERT_TRUE(c.send("HEAD /v1/head HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read_response(/*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-length"), "12");
  // The connection stays usable: the next answer is not confused by a stray body.
  auto next = c.request(get("/v1/hello"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "hello");
}

TEST_F(ServerTest, BodyOverLimitIs413WithoutReadingIt) {
  Client c(start());
  // Only the header is sent; the server must answer from Content-Length alone.
  auto r = c.request("PUT /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "Request body too large, max size: 1048576 bytes");
  EXPECT_EQ(r->header("connection"), "close");
}

TEST_F(ServerTest, BodyOverLimitSentInFullStillGets413) {
  Client c(start());
  const std::string body(core::limits::http_body_size_max + 1, 'x');
  std::string req =
      "PUT /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  ASSERT_TRUE(c.send(req));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(ServerTest, ChunkedBodyOverLimitIs413) {
  Client c(start());
  std::string req = "PUT /v1/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(256 * 1024, 'y');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  for (int i = 0; i < 5; ++i) req += size_line + chunk + "\r\n";
  req += "0\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(ServerTest, BodyAtLimitIsRead) {
  Client c(start());
  const std::string body(core::limits::http_body_size_max, 'x');
  auto r = c.request("PUT /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"BodyBytes\":1048576"), std::string::npos) << r->body;
}

TEST_F(ServerTest, ExpectContinue) {
  Client c(start());
  ASSERT_TRUE(c.send(
      "PUT /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read_exact(25), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"BodyBytes\":5"), std::string::npos);
  // Too large: 413 at once, and no 100 Continue.
  Client d(start_port());
  auto big = d.request(
      "PUT /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n"
      "Expect: 100-continue\r\n\r\n");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
}

TEST_F(ServerTest, HeaderOverLimitIs431) {
  Client c(start());
  std::string req = "GET /v1/hello HTTP/1.1\r\nHost: t\r\nX-Big: " +
                    std::string(core::limits::http_header_size_max + 10, 'h') + "\r\n\r\n";
  auto r = c.request(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST_F(ServerTest, MalformedRequestIs400) {
  Client c(start());
  auto r = c.request("GARBAGE\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(ServerTest, DeferredReplyFromAnotherThread) {
  Client c(start());
  auto r = c.request("PUT /v1/deferred HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nab");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "\"done ab\"");
  // And again on the same connection.
  auto again = c.request("PUT /v1/deferred HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nc");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, "\"done c\"");
}

TEST_F(ServerTest, NonBlockingReadCarriesConsulHeaders) {
  Client c(start());
  auto r = c.request(get("/v1/block"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "5");
  EXPECT_EQ(r->header("x-consul-index"), "5");
  EXPECT_EQ(r->header("x-consul-knownleader"), "true");
  EXPECT_EQ(r->header("x-consul-lastcontact"), "7");
  auto bad = c.request(get("/v1/block?index=x"));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, "Invalid index");
}

TEST_F(ServerTest, BlockingReadWakesOnWatch) {
  Client c(start());
  ASSERT_TRUE(c.send(get("/v1/block?index=5&wait=10s")));
  ASSERT_TRUE(eventually([&] { return table_.runs.load() >= 1; }));
  const auto fired_at = Clock::now();
  std::thread writer([&] { table_.write(6); });
  auto r = c.read_response();
  writer.join();
  ASSERT_TRUE(r);
  EXPECT_LT(Clock::now() - fired_at, 2s);
  EXPECT_EQ(r->body, "6");
  EXPECT_EQ(r->header("x-consul-index"), "6");
  EXPECT_EQ(table_.runs.load(), 2);
}

TEST_F(ServerTest, BlockingReadTimesOutWithSameIndex) {
  Client c(start());
  const auto started = Clock::now();
  auto r = c.request(get("/v1/block?index=5&wait=200ms"));
  const auto took = Clock::now() - started;
  ASSERT_TRUE(r);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2s);  // 200ms plus at most 1/16 jitter, plus scheduling
  EXPECT_EQ(r->body, "5");
  EXPECT_EQ(r->header("x-consul-index"), "5");
}

TEST_F(ServerTest, BlockingReadOnStaleIndexAnswersAtOnce) {
  Client c(start());
  auto r = c.request(get("/v1/block?index=4&wait=10s"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "5");
  EXPECT_EQ(table_.runs.load(), 1);
}

TEST_F(ServerTest, ManyParkedQueriesWakeTogether) {
  const auto port = start();
  constexpr int kClients = 50;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(port));
    ASSERT_TRUE(clients.back()->send(get("/v1/block?index=5&wait=10s")));
  }
  ASSERT_TRUE(eventually([&] { return table_.runs.load() >= kClients; }));
  table_.write(9);
  for (auto& c : clients) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "9");
  }
}

TEST_F(ServerTest, ClientLeavingWhileParkedEndsTheQuery) {
  Client c(start());
  ASSERT_TRUE(c.send(get("/v1/block?index=5&wait=10s")));
  ASSERT_TRUE(eventually([&] { return table_.runs.load() >= 1; }));
  EXPECT_EQ(server_->connection_count(), 1u);
  c.close();
  // The coroutine notices the hang-up and ends, destroying its WatchSet, long before 10s.
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }, 2000ms));
  table_.write(6);  // firing the channel now reaches no one and runs nothing
  EXPECT_EQ(table_.runs.load(), 1);
}

TEST_F(ServerTest, StopAnswersParkedQuery) {
  Client c(start());
  Client idle(start_port());
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(c.send(get("/v1/block?index=5&wait=10s")));
  ASSERT_TRUE(eventually([&] { return table_.runs.load() >= 1; }));
  const auto stopping = Clock::now();
  server_->stop();
  EXPECT_LT(Clock::now() - stopping, 2s);
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "5");
  EXPECT_EQ(r->header("x-consul-index"), "5");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(idle.peer_closed());
  server_->stop();  // idempotent
}

TEST_F(ServerTest, StopWaitsForDeferredReply) {
  Client c(start());
  ASSERT_TRUE(c.send("PUT /v1/deferred HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nz"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(threads_mu_);
    return !threads_.empty();
  }));
  server_->stop();
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "\"done z\"");
}

TEST_F(ServerTest, StartFailsOnTakenPort) {
  const auto port = start();
  ServerOptions options;
  options.port = port;
  Server other(options, router_);
  auto r = other.start();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::Code::kIoError);
  EXPECT_NE(r.error().message.find("bind"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace pc::http
