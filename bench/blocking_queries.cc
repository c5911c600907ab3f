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

#include "http_client.h"
#include "tool_flags.h"

using namespace pc_bench;  // NOLINT(google-build-using-namespace): the tool's own helpers

namespace {

// Limits (shared/STYLE.md rule 5): every loop below is bounded by one of these (the HTTP
// client's own limits are in http_client.h).
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
    return pc_bench::exchange(conn, endpoint_, request, response);
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
  for_each_flag(argc, argv, usage, die, [&](std::string_view name, const std::string& value) {
    auto integer = [&](int& out, int min, int max) { out = int_flag(name, value, min, max, die); };
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
  });
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
