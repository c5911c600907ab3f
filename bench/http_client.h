#pragma once
// Shared by the bench/ load tools (blocking_queries, catalog_load): a minimal HTTP/1.1 client
// over Boost.Asio C++20 coroutines (no Beast, so a tool compiles in one short step),
// percentile summaries, and the server's RSS/CPU read from /proc. Header-only; each tool is
// one translation unit. Only 127.0.0.1 is ever contacted by the tools that use it.
//
// Threads: a Conn belongs to one coroutine at a time on one io_context; nothing here is
// shared between threads.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace pc_bench {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Limits (shared/STYLE.md rule 5): every read and retry below is bounded by one of these.
constexpr std::size_t kHeaderSizeMax = 64 * 1024;
constexpr std::size_t kBodySizeMax = 64 * 1024 * 1024;
constexpr int kConnectAttemptsMax = 5;

inline double ms_since(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// ---- a minimal HTTP/1.1 client: Content-Length and chunked bodies, keep-alive ----

struct Response {
  int status = 0;
  std::uint64_t consul_index = 0;
  bool close = false;
  std::string body;
};

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

template <typename T>
inline bool parse_uint(std::string_view s, T& out, int base = 10) {
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

inline std::string get_request(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

inline std::string put_request(const std::string& path, const std::string& body,
                               std::string_view content_type = "application/octet-stream") {
  return "PUT " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nContent-Type: " + std::string(content_type) + "\r\n\r\n" + body;
}

// One request on a keep-alive connection, reconnecting once if the server had closed it.
inline awaitable<error_code> exchange(Conn& conn, const tcp::endpoint& endpoint,
                                      const std::string& request, Response& response) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    error_code ec = co_await conn.send(request);
    if (!ec) ec = co_await conn.read(response);
    if (!ec) {
      if (response.close) (void)co_await conn.connect(endpoint);
      co_return ec;
    }
    if (attempt == 1) co_return ec;
    if (auto cec = co_await conn.connect(endpoint)) co_return cec;
  }
  co_return asio::error::operation_aborted;  // not reached
}

// ---- statistics ----

struct Summary {
  std::size_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};

inline Summary summarize(std::vector<double> v) {
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
  double rss_mib = 0;  // VmRSS
  double hwm_mib = 0;  // VmHWM: the peak RSS so far
  long fds = 0;
  long threads = 0;
  double cpu_s = 0;  // user + system
};

inline std::optional<ProcessStats> read_process(int pid) {
  if (pid <= 0) return std::nullopt;
  ProcessStats stats;
  std::string base = "/proc/" + std::to_string(pid);
  std::ifstream status(base + "/status");
  if (!status) return std::nullopt;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) stats.rss_mib = std::atof(line.c_str() + 6) / 1024.0;
    if (line.rfind("VmHWM:", 0) == 0) stats.hwm_mib = std::atof(line.c_str() + 6) / 1024.0;
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

}  // namespace pc_bench
