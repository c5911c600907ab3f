// blocking_queries: parks N Consul blocking queries on N distinct keys, writes the keys, and
// measures how soon after its key's write each query wakes, while a side connection keeps
// asking for another key at a steady rate. See bench/README.md; bench/blocking_queries.sh
// starts an agent and runs this against it.
//
// Shape of a run (every phase is bounded by a count or a deadline):
//   1. seed:  PUT bq/<i> = "v1-<i>" and PUT other, over a few keep-alive connections; then
//             GET each bq/<i> to learn its X-Consul-Index and ModifyIndex. Reading after all
//             writes matters: if the index is the table's, a query parked with an older index
//             would return at once.
//   2. park:  one connection per key, each sending GET bq/<i>?index=<idx>&wait=<wait>; then a
//             settle time during which no query may return (an early return is reported).
//   3. write: PUT bq/<i> = "v2-<i>" over W keep-alive connections (as fast as they go, or at
//             --write-rate), recording when each PUT was sent and acknowledged.
//   4. drain: wait until every query has returned with a newer ModifyIndex, or until
//             --deadline-s after the last acknowledged write; one that has not is a failure.
// A query that returns without its key having changed (a spurious wake, or its wait
// expiring) is counted and parked again with the index it was given, as Consul clients do.
//
// Threading: one thread runs the main io_context; the seeding, parked queries and writers all
// run on it, so their counters need no locks. Timestamps are taken when a coroutine resumes
// after its read, so they include this process's own queueing (a real watcher's would too).
// The side load runs on a second thread with its own io_context and connection, so its
// latency is the server's and not this process's bookkeeping of 10,000 sockets; it shares
// only `side_stop_` (atomic) and its samples, read after the thread is joined.
//
// Only 127.0.0.1 is ever contacted.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// Limits (shared/STYLE.md rule 5): every read, retry and loop below is bounded by one of these.
constexpr std::size_t kHeaderSizeMax = 64 * 1024;
constexpr std::size_t kBodySizeMax = 16 * 1024 * 1024;
constexpr int kConnectAttemptsMax = 5;
constexpr int kReparksPerKeyMax = 1000;
constexpr int kKeysMax = 1'000'000;
constexpr int kWritersMax = 256;
constexpr int kFdMargin = 256;

struct Options {
  std::uint16_t port = 0;
  int keys = 10'000;
  std::string prefix = "bq";
  std::string wait = "5m";
  int writers = 4;
  double write_rate_per_s = 0;  // 0: each writer sends its next PUT as soon as the last is acked
  int seed_connections = 8;
  int connect_concurrency = 64;
  int settle_ms = 2000;
  int deadline_s = 30;
  int side_interval_ms = 10;
  int server_pid = 0;  // when given, the server's RSS, fds and CPU time are reported
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "blocking_queries: %s\n", message.c_str());
  std::exit(2);
}

double ms_since(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// ---- a minimal HTTP/1.1 client: Content-Length and chunked bodies, keep-alive ----

struct Response {
  int status = 0;
  std::uint64_t consul_index = 0;
  bool close = false;
  std::string body;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

template <typename T>
bool parse_uint(std::string_view s, T& out, int base = 10) {
  s = trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p != s.data();
}

// One keep-alive connection. Not thread-safe; used by one coroutine at a time.
class Conn {
 public:
  explicit Conn(asio::any_io_executor ex) : socket_(std::move(ex)) {}

  awaitable<error_code> connect(const tcp::endpoint& endpoint) {
    error_code ec;
    for (int attempt = 0; attempt < kConnectAttemptsMax; ++attempt) {
      if (socket_.is_open()) socket_.close(ec);
      buf_.clear();
      co_await socket_.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        socket_.set_option(tcp::no_delay(true), ec);
        co_return error_code{};
      }
      asio::steady_timer backoff(socket_.get_executor(), std::chrono::milliseconds(100));
      error_code ignored;
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    co_return ec;
  }

  awaitable<error_code> send(const std::string& request) {
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(request),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }

  // Reads one whole response. Returns an error on EOF, on malformed input or past a limit.
  awaitable<error_code> read(Response& out) {
    out = Response{};
    std::size_t header_end = 0;
    if (auto ec = co_await fill_until("\r\n\r\n", 0, kHeaderSizeMax, header_end)) co_return ec;
    std::string_view head(buf_.data(), header_end);
    std::size_t body_start = header_end + 4;

    std::size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" ||
        !parse_uint(status_line.substr(9, 3), out.status)) {
      co_return asio::error::invalid_argument;
    }
    std::optional<std::size_t> content_length;
    bool chunked = false;
    std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t end = head.find("\r\n", pos);
      if (end == std::string_view::npos) end = head.size();
      std::string_view line = head.substr(pos, end - pos);
      pos = end + 2;
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = line.substr(0, colon);
      std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "content-length")) {
        std::size_t n = 0;
        if (!parse_uint(value, n) || n > kBodySizeMax) co_return asio::error::invalid_argument;
        content_length = n;
      } else if (iequals(name, "transfer-encoding")) {
        chunked = value.find("chunked") != std::string_view::npos;
      } else if (iequals(name, "x-consul-index")) {
        (void)parse_uint(value, out.consul_index);
      } else if (iequals(name, "connection")) {
        out.close = iequals(value, "close");
      }
    }

    if (chunked) {
      std::size_t at = body_start;
      for (int chunks = 0;; ++chunks) {
        if (chunks > 100'000 || out.body.size() > kBodySizeMax) {
          co_return asio::error::message_size;
        }
        std::size_t size_end = 0;
        if (auto ec = co_await fill_until("\r\n", at, 64, size_end)) co_return ec;
        std::string_view size_text(buf_.data() + at, size_end - at);
        size_text = size_text.substr(0, size_text.find(';'));
        std::size_t size = 0;
        if (!parse_uint(size_text, size, 16) || size > kBodySizeMax) {
          co_return asio::error::invalid_argument;
        }
        at = size_end + 2;
        if (size == 0) {
          // Trailers end with an empty line; we send none, so expect just CRLF.
          std::size_t trailer_end = 0;
          if (auto ec = co_await fill_until("\r\n", at, kHeaderSizeMax, trailer_end)) co_return ec;
          at = trailer_end + 2;
          break;
        }
        if (auto ec = co_await fill(at + size + 2)) co_return ec;
        out.body.append(buf_, at, size);
        at += size + 2;
      }
      buf_.erase(0, at);
    } else {
      std::size_t length = content_length.value_or(0);
      if (auto ec = co_await fill(body_start + length)) co_return ec;
      out.body.assign(buf_, body_start, length);
      buf_.erase(0, body_start + length);
    }
    co_return error_code{};
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

 private:
  awaitable<error_code> read_more() {
    char chunk[16 * 1024];
    error_code ec;
    std::size_t n = co_await socket_.async_read_some(asio::buffer(chunk),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    buf_.append(chunk, n);
    co_return error_code{};
  }

  awaitable<error_code> fill(std::size_t size) {
    while (buf_.size() < size) {
      if (auto ec = co_await read_more()) co_return ec;
    }
    co_return error_code{};
  }

  // Reads until `pattern` occurs at or after `from`, at most `limit` bytes past `from`.
  awaitable<error_code> fill_until(std::string_view pattern, std::size_t from, std::size_t limit,
                                   std::size_t& found) {
    for (;;) {
      std::size_t at = buf_.find(pattern, from);
      if (at != std::string::npos) {
        found = at;
        co_return error_code{};
      }
      if (buf_.size() - from > limit) co_return asio::error::message_size;
      if (auto ec = co_await read_more()) co_return ec;
    }
  }

  tcp::socket socket_;
  std::string buf_;  // bytes received and not yet consumed by read()
};

std::string get_request(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

std::string put_request(const std::string& path, const std::string& body) {
  return "PUT " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nContent-Type: application/octet-stream\r\n\r\n" + body;
}

// "ModifyIndex":123 from a KV GET's JSON body; 0 when absent.
std::uint64_t modify_index(std::string_view body) {
  constexpr std::string_view kField = "\"ModifyIndex\":";
  std::size_t at = body.find(kField);
  if (at == std::string_view::npos) return 0;
  at += kField.size();
  while (at < body.size() && body[at] == ' ') ++at;
  std::uint64_t value = 0;
  std::from_chars(body.data() + at, body.data() + body.size(), value);
  return value;
}

// ---- statistics ----

struct Summary {
  std::size_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Summary summarize(std::vector<double> v) {
  Summary s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.max = v.back();
  return s;
}

// ---- the server process, read from /proc when its pid is known ----

struct ProcessStats {
  double rss_mib = 0;
  long fds = 0;
  long threads = 0;
  double cpu_s = 0;  // user + system
};

std::optional<ProcessStats> read_process(int pid) {
  if (pid <= 0) return std::nullopt;
  ProcessStats stats;
  std::string base = "/proc/" + std::to_string(pid);
  std::ifstream status(base + "/status");
  if (!status) return std::nullopt;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) stats.rss_mib = std::atof(line.c_str() + 6) / 1024.0;
    if (line.rfind("Threads:", 0) == 0) stats.threads = std::atol(line.c_str() + 8);
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(base + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++stats.fds;
  }
  std::ifstream stat_file(base + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  std::size_t paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && (fields >> field); ++i) {
      if (i == 14) utime = std::atof(field.c_str());
      if (i == 15) stime = std::atof(field.c_str());
    }
    stats.cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return stats;
}

// ---- the run ----

struct KeyState {
  std::uint64_t index = 0;         // X-Consul-Index the query parks with
  std::uint64_t modify_index = 0;  // the key's ModifyIndex before the write
  Clock::time_point put_sent{}, put_acked{}, woken{};
  bool parked = false, written = false, done = false, failed = false;
};

struct SideSample {
  Clock::time_point scheduled;
  double latency_ms;
};

class Run {
 public:
  Run(asio::io_context& io, Options options)
      : io_(io),
        options_(std::move(options)),
        endpoint_(asio::ip::make_address_v4("127.0.0.1"), options_.port),
        keys_(static_cast<std::size_t>(options_.keys)) {}

  awaitable<int> main() {
    auto start = Clock::now();
    if (!co_await seed()) co_return 2;
    std::printf("seed: %d keys written and read in %.1f s\n", options_.keys,
                ms_since(start, Clock::now()) / 1000);
    auto before_park = read_process(options_.server_pid);

    std::thread side_thread([this] {
      asio::co_spawn(side_io_, side_load(), asio::detached);
      side_io_.run();
    });
    park_start_ = Clock::now();
    co_await park_all();
    int parked = count([](const KeyState& k) { return k.parked; });
    std::printf("park: %d of %d queries sent in %.1f s; settling %d ms\n", parked, options_.keys,
                ms_since(park_start_, Clock::now()) / 1000, options_.settle_ms);
    co_await sleep_for(std::chrono::milliseconds(options_.settle_ms));
    auto after_park = read_process(options_.server_pid);
    early_returns_at_write_ = spurious_wakes_;
    std::printf("park: %d early returns during parking and settling, %d errors\n",
                early_returns_at_write_, errors_);

    write_start_ = Clock::now();
    co_await write_all();
    write_end_ = Clock::now();
    auto after_write = read_process(options_.server_pid);
    std::printf("write: %d keys written in %.2f s\n", written_,
                ms_since(write_start_, write_end_) / 1000);

    // Drain: every parked query must return within the deadline after the last write.
    auto deadline = write_end_ + std::chrono::seconds(options_.deadline_s);
    while (woken_ + failed_ < options_.keys && Clock::now() < deadline) {
      co_await sleep_for(std::chrono::milliseconds(10));
    }
    drain_end_ = Clock::now();
    stopping_ = true;
    for (auto& conn : waiters_) conn->close();
    // The side load goes on for a second while the agent sees 10,000 connections close.
    co_await sleep_for(std::chrono::seconds(1));
    side_stop_ = true;
    side_thread.join();
    auto after_drain = read_process(options_.server_pid);

    co_return report(before_park, after_park, after_write, after_drain);
  }

 private:
  std::string key_path(std::size_t i) const {
    return "/v1/kv/" + options_.prefix + "/" + std::to_string(i);
  }

  template <typename F>
  int count(F f) const {
    return static_cast<int>(std::count_if(keys_.begin(), keys_.end(), f));
  }

  awaitable<void> sleep_for(Clock::duration d) {
    asio::steady_timer timer(io_, d);
    error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  awaitable<void> sleep_until(Clock::time_point t) {
    asio::steady_timer timer(io_, t);
    error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  // One request on a keep-alive connection, reconnecting once if the server closed it.
  awaitable<error_code> exchange(Conn& conn, const std::string& request, Response& response) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      error_code ec = co_await conn.send(request);
      if (!ec) ec = co_await conn.read(response);
      if (!ec) {
        if (response.close) (void)co_await conn.connect(endpoint_);
        co_return ec;
      }
      if (attempt == 1) co_return ec;
      if (auto cec = co_await conn.connect(endpoint_)) co_return cec;
    }
    co_return asio::error::operation_aborted;  // not reached
  }

  // Phase 1: write every key once and read back its index.
  awaitable<bool> seed() {
    std::size_t next_put = 0, next_get = 0;
    int done_workers = 0;
    bool ok = true;
    auto worker = [&]() -> awaitable<void> {
      Conn conn(io_.get_executor());
      if (auto ec = co_await conn.connect(endpoint_)) {
        std::fprintf(stderr, "seed: connect 127.0.0.1:%u: %s\n", options_.port,
                     ec.message().c_str());
        ok = false;
        ++done_workers;
        co_return;
      }
      Response r;
      while (ok && next_put <= keys_.size()) {
        std::size_t i = next_put++;
        // Index keys_.size() stands for the side key, written with the others.
        std::string path = i == keys_.size() ? "/v1/kv/other" : key_path(i);
        std::string value = i == keys_.size() ? "other" : "v1-" + std::to_string(i);
        auto ec = co_await exchange(conn, put_request(path, value), r);
        if (ec || r.status != 200) {
          std::fprintf(stderr, "seed: PUT %s: %s status %d body %s\n", path.c_str(),
                       ec.message().c_str(), r.status, r.body.c_str());
          ok = false;
        }
      }
      ++done_workers;
      co_return;
    };
    for (int w = 0; w < options_.seed_connections; ++w)
      asio::co_spawn(io_, worker(), asio::detached);
    while (done_workers < options_.seed_connections)
      co_await sleep_for(std::chrono::milliseconds(5));
    if (!ok) co_return false;

    // Reads start only after every write is acknowledged (see the header comment).
    done_workers = 0;
    auto reader = [&]() -> awaitable<void> {
      Conn conn(io_.get_executor());
      if (auto ec = co_await conn.connect(endpoint_)) {
        ok = false;
        ++done_workers;
        co_return;
      }
      Response r;
      while (ok && next_get < keys_.size()) {
        std::size_t i = next_get++;
        auto ec = co_await exchange(conn, get_request(key_path(i)), r);
        if (ec || r.status != 200 || r.consul_index == 0 || modify_index(r.body) == 0) {
          std::fprintf(stderr, "seed: GET %s: %s status %d index %llu body %.200s\n",
                       key_path(i).c_str(), ec.message().c_str(), r.status,
                       static_cast<unsigned long long>(r.consul_index), r.body.c_str());
          ok = false;
          break;
        }
        keys_[i].index = r.consul_index;
        keys_[i].modify_index = modify_index(r.body);
      }
      ++done_workers;
      co_return;
    };
    for (int w = 0; w < options_.seed_connections; ++w)
      asio::co_spawn(io_, reader(), asio::detached);
    while (done_workers < options_.seed_connections)
      co_await sleep_for(std::chrono::milliseconds(5));
    co_return ok;
  }

  // Phase 2: one connection per key, each with a blocking GET in flight.
  awaitable<void> park_all() {
    std::size_t next = 0;
    int done_workers = 0;
    auto launcher = [&]() -> awaitable<void> {
      while (next < keys_.size()) {
        std::size_t i = next++;
        auto conn = std::make_shared<Conn>(io_.get_executor());
        waiters_.push_back(conn);
        if (auto ec = co_await conn->connect(endpoint_)) {
          fail(i, "connect: " + ec.message());
          continue;
        }
        if (auto ec = co_await conn->send(blocking_request(i, keys_[i].index))) {
          fail(i, "send: " + ec.message());
          continue;
        }
        keys_[i].parked = true;
        asio::co_spawn(io_, wait_for_wake(i, conn), asio::detached);
      }
      ++done_workers;
    };
    for (int w = 0; w < options_.connect_concurrency; ++w) {
      asio::co_spawn(io_, launcher(), asio::detached);
    }
    while (done_workers < options_.connect_concurrency) {
      co_await sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string blocking_request(std::size_t i, std::uint64_t index) const {
    return get_request(key_path(i) + "?index=" + std::to_string(index) + "&wait=" + options_.wait);
  }

  void fail(std::size_t i, const std::string& why) {
    if (keys_[i].failed || keys_[i].done) return;
    keys_[i].failed = true;
    ++failed_;
    ++errors_;
    if (errors_ <= 10) std::fprintf(stderr, "key %zu: %s\n", i, why.c_str());
  }

  awaitable<void> wait_for_wake(std::size_t i, std::shared_ptr<Conn> conn) {
    KeyState& key = keys_[i];
    Response r;
    for (int reparks = 0; reparks < kReparksPerKeyMax; ++reparks) {
      error_code ec = co_await conn->read(r);
      auto now = Clock::now();
      if (stopping_) co_return;
      if (ec) {
        fail(i, "read: " + ec.message());
        co_return;
      }
      if (r.status != 200) {
        fail(i, "status " + std::to_string(r.status) + ": " + r.body.substr(0, 200));
        co_return;
      }
      if (modify_index(r.body) > key.modify_index) {
        key.woken = now;
        key.done = true;
        ++woken_;
        co_return;
      }
      // Returned without the key changing: a spurious wake or an expired wait. Park again.
      ++spurious_wakes_;
      if (r.close && (ec = co_await conn->connect(endpoint_))) {
        fail(i, "reconnect: " + ec.message());
        co_return;
      }
      std::uint64_t index = r.consul_index ? r.consul_index : key.index;
      if ((ec = co_await conn->send(blocking_request(i, index)))) {
        fail(i, "resend: " + ec.message());
        co_return;
      }
    }
    fail(i, "too many spurious wakes");
  }

  // Phase 3: write every key again.
  awaitable<void> write_all() {
    std::size_t next = 0;
    int done_workers = 0;
    auto writer = [&]() -> awaitable<void> {
      Conn conn(io_.get_executor());
      if (auto ec = co_await conn.connect(endpoint_)) {
        std::fprintf(stderr, "write: connect: %s\n", ec.message().c_str());
        ++done_workers;
        co_return;
      }
      Response r;
      while (next < keys_.size()) {
        std::size_t i = next++;
        if (options_.write_rate_per_s > 0) {
          co_await sleep_until(
              write_start_ +
              std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                  static_cast<double>(i) / options_.write_rate_per_s)));
        }
        keys_[i].put_sent = Clock::now();
        auto ec = co_await exchange(conn, put_request(key_path(i), "v2-" + std::to_string(i)), r);
        keys_[i].put_acked = Clock::now();
        if (ec || r.status != 200) {
          std::fprintf(stderr, "write: PUT %s: %s status %d\n", key_path(i).c_str(),
                       ec.message().c_str(), r.status);
          ++put_errors_;
          continue;
        }
        keys_[i].written = true;
        ++written_;
      }
      ++done_workers;
    };
    for (int w = 0; w < options_.writers; ++w) asio::co_spawn(io_, writer(), asio::detached);
    while (done_workers < options_.writers) co_await sleep_for(std::chrono::milliseconds(1));
  }

  // Meanwhile: GET /v1/kv/other every side_interval_ms on one keep-alive connection. Latency
  // is taken from the time the request was due, so a stalled server is not hidden by the
  // client waiting for it (no coordinated omission).
  awaitable<void> side_load() {
    Conn conn(side_io_.get_executor());
    if (auto ec = co_await conn.connect(endpoint_)) {
      ++side_errors_;
      co_return;
    }
    auto start = Clock::now();
    auto interval = std::chrono::milliseconds(options_.side_interval_ms);
    Response r;
    for (std::int64_t n = 0; !side_stop_; ++n) {
      auto due = start + n * interval;
      if (due > Clock::now()) {
        asio::steady_timer timer(side_io_, due);
        error_code ignored;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      }
      if (side_stop_) break;
      auto ec = co_await exchange(conn, get_request("/v1/kv/other"), r);
      if (ec || r.status != 200) {
        ++side_errors_;
        if (ec && (ec = co_await conn.connect(endpoint_))) break;
        continue;
      }
      side_.push_back({due, ms_since(due, Clock::now())});
    }
  }

  int report(const std::optional<ProcessStats>& before_park,
             const std::optional<ProcessStats>& after_park,
             const std::optional<ProcessStats>& after_write,
             const std::optional<ProcessStats>& after_drain) {
    std::vector<double> from_ack, from_send, put_latency;
    int woken_before_ack = 0, not_woken = 0;
    for (const auto& key : keys_) {
      if (key.written) put_latency.push_back(ms_since(key.put_sent, key.put_acked));
      if (!key.done) {
        if (!key.failed) ++not_woken;
        continue;
      }
      if (!key.written) continue;  // its PUT failed, yet it woke: counted in put_errors
      double ack = ms_since(key.put_acked, key.woken);
      if (ack < 0) ++woken_before_ack;
      from_ack.push_back(std::max(0.0, ack));
      from_send.push_back(ms_since(key.put_sent, key.woken));
    }
    std::vector<double> side_all, side_parking, side_writes, side_closing;
    for (const auto& s : side_) {
      side_all.push_back(s.latency_ms);
      if (s.scheduled < write_start_) side_parking.push_back(s.latency_ms);
      if (s.scheduled >= write_start_ && s.scheduled <= drain_end_) {
        side_writes.push_back(s.latency_ms);
      }
      if (s.scheduled > drain_end_) side_closing.push_back(s.latency_ms);
    }
    Summary ack = summarize(from_ack), send = summarize(from_send), put = summarize(put_latency);
    Summary side = summarize(side_all), side_w = summarize(side_writes);
    Summary side_p = summarize(side_parking), side_c = summarize(side_closing);
    double write_s = ms_since(write_start_, write_end_) / 1000;
    int failures = failed_ + not_woken + put_errors_;

    char pacing[64] = ", unpaced";
    if (options_.write_rate_per_s > 0) {
      std::snprintf(pacing, sizeof pacing, ", paced at %.0f/s", options_.write_rate_per_s);
    }
    std::printf("\n== blocking queries: %d keys, %d writers%s\n", options_.keys, options_.writers,
                pacing);
    std::printf(
        "writes          %d acked in %.2f s (%.0f/s), PUT latency p50 %.2f p99 %.2f max %.2f ms\n",
        written_, write_s, write_s > 0 ? written_ / write_s : 0.0, put.p50, put.p99, put.max);
    std::printf("woken           %d of %d (not woken by deadline %d, errors %d, put errors %d)\n",
                woken_, options_.keys, not_woken, failed_, put_errors_);
    std::printf("early returns   %d before the writes; %d spurious wakes in all (re-parked)\n",
                early_returns_at_write_, spurious_wakes_);
    std::printf(
        "wake from ack   p50 %.2f p99 %.2f max %.2f ms (%d woke before their PUT's ack, "
        "counted as 0)\n",
        ack.p50, ack.p99, ack.max, woken_before_ack);
    std::printf("wake from send  p50 %.2f p99 %.2f max %.2f ms\n", send.p50, send.p99, send.max);
    std::printf("side GETs       %zu, p50 %.2f p99 %.2f max %.2f ms, errors %d\n", side.count,
                side.p50, side.p99, side.max, side_errors_);
    std::printf("  parking       %zu, p50 %.2f p99 %.2f max %.2f ms\n", side_p.count, side_p.p50,
                side_p.p99, side_p.max);
    std::printf("  writes+drain  %zu, p50 %.2f p99 %.2f max %.2f ms\n", side_w.count, side_w.p50,
                side_w.p99, side_w.max);
    std::printf(
        "  closing       %zu, p50 %.2f p99 %.2f max %.2f ms (this client closing its "
        "parked connections)\n",
        side_c.count, side_c.p50, side_c.p99, side_c.max);
    if (before_park && after_park) {
      std::printf(
          "server          parked: RSS %.1f -> %.1f MiB (%.1f KiB/query), fds %ld -> %ld, "
          "threads %ld\n",
          before_park->rss_mib, after_park->rss_mib,
          (after_park->rss_mib - before_park->rss_mib) * 1024 / options_.keys, before_park->fds,
          after_park->fds, after_park->threads);
    }
    if (after_park && after_write && after_drain) {
      std::printf("server CPU      %.2f s during writes (%.0f%% of one core), %.2f s draining\n",
                  after_write->cpu_s - after_park->cpu_s,
                  write_s > 0 ? 100 * (after_write->cpu_s - after_park->cpu_s) / write_s : 0.0,
                  after_drain->cpu_s - after_write->cpu_s);
    }
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    std::printf("client CPU      %.2f s user, %.2f s system (whole run)\n",
                self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6,
                self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6);
    bool target = failures == 0 && ack.p99 <= 100.0;
    std::printf("target          all woken, p99 from ack <= 100 ms: %s\n",
                target ? "met" : "MISSED");
    // One line for scripts: key=value, ms unless named otherwise.
    std::printf(
        "RESULT keys=%d writers=%d write_rate=%.0f woken=%d failures=%d early=%d "
        "spurious=%d write_s=%.3f put_p50=%.3f put_p99=%.3f wake_ack_p50=%.3f "
        "wake_ack_p99=%.3f wake_ack_max=%.3f wake_send_p50=%.3f wake_send_p99=%.3f "
        "wake_send_max=%.3f side_count=%zu side_p50=%.3f side_p99=%.3f side_max=%.3f "
        "side_parking_p99=%.3f side_writes_p50=%.3f side_writes_p99=%.3f side_closing_max=%.3f "
        "side_errors=%d\n",
        options_.keys, options_.writers, options_.write_rate_per_s, woken_, failures,
        early_returns_at_write_, spurious_wakes_, write_s, put.p50, put.p99, ack.p50, ack.p99,
        ack.max, send.p50, send.p99, send.max, side.count, side.p50, side.p99, side.max, side_p.p99,
        side_w.p50, side_w.p99, side_c.max, side_errors_);
    std::fflush(stdout);
    return failures == 0 ? 0 : 1;
  }

  asio::io_context& io_;
  Options options_;
  tcp::endpoint endpoint_;
  std::vector<KeyState> keys_;
  std::vector<std::shared_ptr<Conn>> waiters_;
  asio::io_context side_io_{1};
  std::atomic<bool> side_stop_{false};
  std::vector<SideSample> side_;
  Clock::time_point park_start_{}, write_start_{}, write_end_{}, drain_end_{};
  bool stopping_ = false;
  int woken_ = 0, failed_ = 0, errors_ = 0, put_errors_ = 0, written_ = 0;
  int spurious_wakes_ = 0, early_returns_at_write_ = 0;
  int side_errors_ = 0;  // side thread only until joined
};

void raise_fd_limit(int needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) die("getrlimit(RLIMIT_NOFILE) failed");
  auto want = static_cast<rlim_t>(needed);
  if (limit.rlim_cur >= want) return;
  if (limit.rlim_max < want) {
    // Only a privileged process can raise the hard limit; try, and say what to do if not.
    rlimit raised{want, want};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    die("need " + std::to_string(needed) + " file descriptors but the hard limit is " +
        std::to_string(limit.rlim_max) + "; run under `ulimit -n " + std::to_string(needed) +
        "` or `prlimit --nofile=" + std::to_string(needed) + "`, or use fewer --keys");
  }
  limit.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) die("setrlimit(RLIMIT_NOFILE) failed");
}

void usage() {
  std::fprintf(stderr,
               "usage: blocking_queries --port=N [--keys=10000] [--writers=4] [--write-rate=0]\n"
               "         [--wait=5m] [--prefix=bq] [--settle-ms=2000] [--deadline-s=30]\n"
               "         [--side-interval-ms=10] [--connect-concurrency=64]\n"
               "         [--seed-connections=8] [--server-pid=PID]\n"
               "Parks --keys blocking queries on 127.0.0.1:PORT, writes their keys and reports\n"
               "wake latency; exits 1 if any query did not wake, 2 on setup errors.\n");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a < argc; ++a) {
    std::string_view arg = argv[a];
    if (arg == "-h" || arg == "--help") {
      usage();
      std::exit(0);
    }
    std::size_t eq = arg.find('=');
    if (arg.substr(0, 2) != "--" || eq == std::string_view::npos) {
      usage();
      die("bad argument: " + std::string(arg));
    }
    std::string_view name = arg.substr(2, eq - 2);
    std::string value(arg.substr(eq + 1));
    auto integer = [&](int& out, int min, int max) {
      if (!parse_uint(value, out) || out < min || out > max)
        die("bad value for --" + std::string(name));
    };
    int port = 0;
    if (name == "port") {
      integer(port, 1, 65535);
      o.port = static_cast<std::uint16_t>(port);
    } else if (name == "keys") {
      integer(o.keys, 1, kKeysMax);
    } else if (name == "writers") {
      integer(o.writers, 1, kWritersMax);
    } else if (name == "write-rate") {
      o.write_rate_per_s = std::atof(value.c_str());
      if (o.write_rate_per_s < 0) die("bad value for --write-rate");
    } else if (name == "wait") {
      o.wait = value;
    } else if (name == "prefix") {
      o.prefix = value;
    } else if (name == "settle-ms") {
      integer(o.settle_ms, 0, 600'000);
    } else if (name == "deadline-s") {
      integer(o.deadline_s, 1, 3600);
    } else if (name == "side-interval-ms") {
      integer(o.side_interval_ms, 1, 60'000);
    } else if (name == "connect-concurrency") {
      integer(o.connect_concurrency, 1, 4096);
    } else if (name == "seed-connections") {
      integer(o.seed_connections, 1, 256);
    } else if (name == "server-pid") {
      integer(o.server_pid, 1, 1 << 30);
    } else {
      usage();
      die("unknown option --" + std::string(name));
    }
  }
  if (o.port == 0) {
    usage();
    die("--port is required");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  raise_fd_limit(options.keys + options.writers + options.seed_connections + kFdMargin);
  asio::io_context io(1);
  int rc = 2;
  Run run(io, options);
  asio::co_spawn(io, run.main(), [&](std::exception_ptr e, int result) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "blocking_queries: %s\n", ex.what());
      }
      rc = 2;
    } else {
      rc = result;
    }
    io.stop();  // closed waiters and the side loop finish on their own; do not wait for them
  });
  io.run();
  return rc;
}
