// catalog_load: registers service instances through PUT /v1/catalog/register over parallel
// keep-alive connections, then probes one service: timed GET /v1/health/service/<name>, and
// blocking queries on it woken by a change to one of its checks while another service's
// check changes too (which must wake nothing). See bench/README.md; bench/health_service.sh
// and bench/catalog_rss.sh start an agent and run this against it.
//
// The catalog it builds (the same shape as bench/wrk/register.lua):
//   instance i = 0 .. instances-1 runs on node floor(i / per_node), per_node =
//   ceil(instances / nodes), and belongs to service <name> (one name) or <name>-<i % services>
//   (several). Each registration is what a Consul client agent's anti-entropy sends for one
//   service: the node (Node, Address, TaggedAddresses, NodeMeta), the service (ID, Service,
//   Tags, Address, Port, Meta) and its check, passing. A node's first instance also carries
//   the node's `serfHealth` check, which Consul's leader keeps for every live node.
//
// Phases (each bounded by a count and a deadline):
//   1. register (unless --register=0): --conns connections, each sending its next PUT when
//      the last is answered, until every instance is registered or --deadline-s passes.
//      A registration answered with anything but 200 `true` is a failure.
//   2. query (with --probe=NAME): --probe-queries sequential GETs of /v1/health/service/NAME
//      on one connection: latency, body size, entries.
//   3. wake (with --probe=NAME, --wake-rounds=N): per round, read NAME's X-Consul-Index,
//      park GET /v1/health/service/NAME?index=<idx>&wait=<s> on its own connection, settle;
//      flip the check of an instance of another service (the "decoy"; with one service name,
//      a `decoy` service registered for this) and wait --quiet-ms: a return then is a
//      spurious wake; then flip the check of NAME's first instance (passing <-> warning) and
//      time the wake from the PUT's send and from its answer. The check ends passing.
//
// Threading: one thread and one io_context; every coroutine's counters are plain fields.
// Timestamps are taken when a coroutine resumes after its read, so they include this
// process's own queueing (light here: at most --conns requests in flight).
//
// Only 127.0.0.1 is ever contacted.
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.h"
#include "tool_flags.h"

using namespace pc_bench;  // NOLINT(google-build-using-namespace): the tool's own helpers

namespace {

// Limits (shared/STYLE.md rule 5).
constexpr int kInstancesMax = 1'000'000;
constexpr int kConnsMax = 256;
constexpr int kProbeQueriesMax = 100'000;
constexpr int kWakeRoundsMax = 10'000;
constexpr int kFailuresPrintedMax = 5;
constexpr std::size_t kBodyBytesMax = 2048;  // one registration body

struct Options {
  std::uint16_t port = 0;
  int instances = 1000;
  int nodes = 100;
  int services = 1;
  std::string name = "web";
  int conns = 8;
  int deadline_s = 600;
  bool do_register = true;
  int server_pid = 0;
  std::string probe;  // service name to probe; empty: no probe
  int probe_queries = 20;
  int wake_rounds = 10;
  int wake_wait_s = 30;
  int settle_ms = 200;
  int quiet_ms = 300;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "catalog_load: %s\n", message.c_str());
  std::exit(2);
}

double cpu_seconds_self() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// ---- the catalog's shape ----

class Layout {
 public:
  explicit Layout(const Options& o)
      : o_(o), per_node_((o.instances + o.nodes - 1) / std::max(1, o.nodes)) {}

  std::string service_name(int i) const {
    if (o_.services == 1) return o_.name;
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s-%04d", o_.name.c_str(), i % o_.services);
    return buf;
  }

  // The first instance of the service `name`, or -1 if the layout has none.
  int first_instance_of(const std::string& name) const {
    for (int i = 0; i < std::min(o_.instances, o_.services); ++i) {
      if (service_name(i) == name) return i;
    }
    return -1;
  }

  std::string body(int i, std::string_view status = "passing") const {
    int node = i / per_node_;
    char ip[32];
    std::snprintf(ip, sizeof ip, "10.%d.%d.%d", (node >> 16) & 255, (node >> 8) & 255, node & 255);
    std::string svc = service_name(i);
    char id[160];
    std::snprintf(id, sizeof id, "%s-%06d", svc.c_str(), i);
    return body_for(node, ip, svc, id, status, i % per_node_ == 0);
  }

  // A service `decoy` on instance i's node, with a check in `status`.
  std::string decoy_body(int i, std::string_view status) const {
    int node = i / per_node_;
    char ip[32];
    std::snprintf(ip, sizeof ip, "10.%d.%d.%d", (node >> 16) & 255, (node >> 8) & 255, node & 255);
    return body_for(node, ip, "decoy", "decoy-1", status, false);
  }

 private:
  static std::string body_for(int node, const char* ip, const std::string& svc, const char* id,
                              std::string_view status, bool serf) {
    char checks[768];
    std::snprintf(checks, sizeof checks,
                  "%s{\"CheckID\":\"service:%s\",\"Name\":\"Service '%s' check\",\"Status\":"
                  "\"%.*s\",\"ServiceID\":\"%s\",\"Output\":\"HTTP GET http://%s:8080/health: "
                  "200 OK\"}",
                  serf ? "{\"CheckID\":\"serfHealth\",\"Name\":\"Serf Health Status\","
                         "\"Status\":\"passing\",\"Output\":\"Agent alive and reachable\"},"
                       : "",
                  id, svc.c_str(), static_cast<int>(status.size()), status.data(), id, ip);
    char buf[kBodyBytesMax];
    int n = std::snprintf(
        buf, sizeof buf,
        "{\"Node\":\"node-%05d\",\"Address\":\"%s\",\"TaggedAddresses\":{\"lan\":\"%s\","
        "\"wan\":\"%s\"},\"NodeMeta\":{\"rack\":\"r%d\"},\"Service\":{\"ID\":\"%s\","
        "\"Service\":\"%s\",\"Tags\":[\"v1\"],\"Address\":\"%s\",\"Port\":8080,\"Meta\":"
        "{\"version\":\"1.2.3\"}},\"Checks\":[%s]}",
        node, ip, ip, ip, node % 16, id, svc.c_str(), ip, checks);
    if (n < 0 || static_cast<std::size_t>(n) >= sizeof buf) die("registration body too long");
    return std::string(buf, static_cast<std::size_t>(n));
  }

  const Options& o_;
  int per_node_;
};

// ---- the run ----

struct Waiter {
  bool done = false;
  error_code ec;
  Response response;
  Clock::time_point at{};
};

class Run {
 public:
  Run(asio::io_context& io, Options options)
      : io_(io),
        options_(std::move(options)),
        layout_(options_),
        endpoint_(asio::ip::make_address_v4("127.0.0.1"), options_.port) {}

  awaitable<int> main() {
    auto before = read_process(options_.server_pid);
    double client_cpu0 = cpu_seconds_self();
    if (options_.do_register) co_await register_all();
    double client_cpu = cpu_seconds_self() - client_cpu0;
    auto after_register = read_process(options_.server_pid);
    int rc = registered_ == options_.instances || !options_.do_register ? 0 : 1;
    if (!options_.probe.empty() && rc == 0) {
      if (!co_await query_probe()) rc = 1;
      if (options_.wake_rounds > 0 && !co_await wake_probe()) rc = 1;
    }
    auto after_probe = read_process(options_.server_pid);
    report(before, after_register, after_probe, client_cpu);
    co_return rc;
  }

 private:
  awaitable<void> sleep_for(Clock::duration d) {
    asio::steady_timer timer(io_, d);
    error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  std::string register_request(const std::string& body) const {
    return put_request("/v1/catalog/register", body, "application/json");
  }

  // Phase 1.
  awaitable<void> register_all() {
    register_start_ = Clock::now();
    auto deadline = register_start_ + std::chrono::seconds(options_.deadline_s);
    int next = 0, workers_done = 0;
    int progress_step = std::max(1, options_.instances / 10), next_progress = progress_step;
    auto last_progress_at = register_start_;
    int last_progress_count = 0;
    auto worker = [&]() -> awaitable<void> {
      Conn conn(io_.get_executor());
      if (auto ec = co_await conn.connect(endpoint_)) {
        std::fprintf(stderr, "register: connect 127.0.0.1:%u: %s\n", options_.port,
                     ec.message().c_str());
        ++workers_done;
        co_return;
      }
      Response r;
      while (next < options_.instances && Clock::now() < deadline) {
        int i = next++;
        auto sent = Clock::now();
        auto ec = co_await exchange(conn, endpoint_, register_request(layout_.body(i)), r);
        auto answered = Clock::now();
        if (ec || r.status != 200 || r.body != "true") {
          if (++register_failed_ <= kFailuresPrintedMax) {
            std::fprintf(stderr, "register: instance %d: %s status %d body %.200s\n", i,
                         ec ? ec.message().c_str() : "ok", r.status, r.body.c_str());
          }
          if (ec) break;
          continue;
        }
        ++registered_;
        register_end_ = answered;
        register_ms_.push_back(ms_since(sent, answered));
        if (registered_ >= next_progress) {
          auto stats = read_process(options_.server_pid);
          double dt = ms_since(last_progress_at, answered) / 1000;
          std::printf("register: %d done, %.1f s, last %d at %.0f/s, server RSS %.1f MiB\n",
                      registered_, ms_since(register_start_, answered) / 1000,
                      registered_ - last_progress_count,
                      dt > 0 ? (registered_ - last_progress_count) / dt : 0.0,
                      stats ? stats->rss_mib : 0.0);
          std::fflush(stdout);
          last_progress_at = answered;
          last_progress_count = registered_;
          next_progress += progress_step;
        }
      }
      ++workers_done;
    };
    server_cpu_before_register_ = cpu_of_server();
    for (int c = 0; c < options_.conns; ++c) asio::co_spawn(io_, worker(), asio::detached);
    while (workers_done < options_.conns) co_await sleep_for(std::chrono::milliseconds(2));
    server_cpu_register_ = cpu_of_server() - server_cpu_before_register_;
    if (registered_ < options_.instances) {
      std::fprintf(stderr, "register: only %d of %d registered (deadline %d s, %d failed)\n",
                   registered_, options_.instances, options_.deadline_s, register_failed_);
    }
  }

  double cpu_of_server() const {
    auto s = read_process(options_.server_pid);
    return s ? s->cpu_s : 0.0;
  }

  std::string health_path() const { return "/v1/health/service/" + options_.probe; }

  // Phase 2.
  awaitable<bool> query_probe() {
    Conn conn(io_.get_executor());
    if (auto ec = co_await conn.connect(endpoint_)) co_return false;
    Response r;
    for (int q = 0; q < options_.probe_queries; ++q) {
      auto sent = Clock::now();
      auto ec = co_await exchange(conn, endpoint_, get_request(health_path()), r);
      if (ec || r.status != 200) {
        std::fprintf(stderr, "query: GET %s: %s status %d\n", health_path().c_str(),
                     ec.message().c_str(), r.status);
        co_return false;
      }
      query_ms_.push_back(ms_since(sent, Clock::now()));
      probe_bytes_ = r.body.size();
    }
    std::size_t at = 0;
    probe_entries_ = 0;
    while ((at = r.body.find("{\"Node\":{", at)) != std::string::npos) {
      ++probe_entries_;
      ++at;
    }
    co_return true;
  }

  // Parks one blocking query; `w` is filled in when it returns.
  awaitable<void> park(std::shared_ptr<Conn> conn, std::uint64_t index, std::shared_ptr<Waiter> w) {
    std::string path = health_path() + "?index=" + std::to_string(index) +
                       "&wait=" + std::to_string(options_.wake_wait_s) + "s";
    w->ec = co_await conn->send(get_request(path));
    if (!w->ec) w->ec = co_await conn->read(w->response);
    w->at = Clock::now();
    w->done = true;
  }

  awaitable<bool> put(Conn& conn, const std::string& body, Clock::time_point* sent,
                      Clock::time_point* acked) {
    Response r;
    *sent = Clock::now();
    auto ec = co_await exchange(conn, endpoint_, register_request(body), r);
    *acked = Clock::now();
    if (ec || r.status != 200 || r.body != "true") {
      std::fprintf(stderr, "wake: PUT: %s status %d body %.200s\n", ec.message().c_str(), r.status,
                   r.body.c_str());
      co_return false;
    }
    co_return true;
  }

  awaitable<void> wait_done(const Waiter& w, Clock::time_point until) {
    while (!w.done && Clock::now() < until) co_await sleep_for(std::chrono::milliseconds(1));
  }

  // Phase 3.
  awaitable<bool> wake_probe() {
    int target = layout_.first_instance_of(options_.probe);
    if (target < 0) {
      std::fprintf(stderr, "wake: %s is not a service of this layout\n", options_.probe.c_str());
      co_return false;
    }
    // The decoy: an instance of another service, or a `decoy` service next to the target.
    bool own_decoy = options_.services == 1 || options_.instances < 2;
    int decoy = own_decoy ? target : (target + 1) % options_.instances;
    auto decoy_body = [&](std::string_view status) {
      return own_decoy ? layout_.decoy_body(decoy, status) : layout_.body(decoy, status);
    };
    Conn writer(io_.get_executor()), reader(io_.get_executor());
    if (co_await writer.connect(endpoint_) || co_await reader.connect(endpoint_)) co_return false;
    Clock::time_point sent, acked;
    if (own_decoy && !co_await put(writer, decoy_body("passing"), &sent, &acked)) co_return false;

    bool ok = true;
    for (int round = 0; round < options_.wake_rounds && ok; ++round) {
      Response r;
      if (auto ec = co_await exchange(reader, endpoint_, get_request(health_path()), r);
          ec || r.status != 200 || r.consul_index == 0) {
        std::fprintf(stderr, "wake: GET %s: %s status %d\n", health_path().c_str(),
                     ec.message().c_str(), r.status);
        co_return false;
      }
      std::uint64_t index = r.consul_index;
      auto conn = std::make_shared<Conn>(io_.get_executor());
      if (co_await conn->connect(endpoint_)) co_return false;
      auto w = std::make_shared<Waiter>();
      asio::co_spawn(io_, park(conn, index, w), asio::detached);
      co_await sleep_for(std::chrono::milliseconds(options_.settle_ms));
      if (w->done) {
        ++early_;  // returned before anything changed
        conn->close();
        continue;
      }
      // Another service's check changes: the parked query must not return.
      const char* decoy_status = round % 2 == 0 ? "warning" : "passing";
      if (!co_await put(writer, decoy_body(decoy_status), &sent, &acked)) co_return false;
      co_await sleep_for(std::chrono::milliseconds(options_.quiet_ms));
      if (w->done) {
        ++spurious_;
        conn->close();
        continue;
      }
      // The target's check changes: the parked query must return, with a higher index.
      const char* status = round % 2 == 0 ? "warning" : "passing";
      ok = co_await put(writer, layout_.body(target, status), &sent, &acked);
      target_warning_ = round % 2 == 0;
      co_await wait_done(*w, acked + std::chrono::seconds(options_.wake_wait_s + 5));
      if (!w->done || w->ec || w->response.status != 200 || w->response.consul_index <= index) {
        ++wake_failures_;
        std::fprintf(stderr, "wake: round %d: query did not return a newer index (%s)\n", round,
                     w->done ? w->ec.message().c_str() : "still parked");
      } else {
        wake_from_ack_ms_.push_back(std::max(0.0, ms_since(acked, w->at)));
        wake_from_send_ms_.push_back(ms_since(sent, w->at));
        wake_bytes_ = w->response.body.size();
      }
      conn->close();
      co_await sleep_for(std::chrono::milliseconds(10));
    }
    // Leave every check passing, as registered.
    if (target_warning_) (void)co_await put(writer, layout_.body(target, "passing"), &sent, &acked);
    if (!own_decoy) (void)co_await put(writer, decoy_body("passing"), &sent, &acked);
    co_return ok&& wake_failures_ == 0 && spurious_ == 0;
  }

  void report(const std::optional<ProcessStats>& before,
              const std::optional<ProcessStats>& after_register,
              const std::optional<ProcessStats>& after_probe, double client_cpu) {
    double seconds = registered_ > 0 ? ms_since(register_start_, register_end_) / 1000 : 0;
    Summary reg = summarize(register_ms_);
    Summary query = summarize(query_ms_);
    Summary ack = summarize(wake_from_ack_ms_), send = summarize(wake_from_send_ms_);
    auto rss = [](const std::optional<ProcessStats>& s) { return s ? s->rss_mib : 0.0; };
    auto hwm = [](const std::optional<ProcessStats>& s) { return s ? s->hwm_mib : 0.0; };
    if (options_.do_register) {
      std::printf(
          "register: %d of %d in %.2f s (%.0f/s), %d failed; latency p50 %.3f p99 %.3f "
          "max %.3f ms; server CPU %.2f s, client CPU %.2f s\n",
          registered_, options_.instances, seconds, seconds > 0 ? registered_ / seconds : 0,
          register_failed_, reg.p50, reg.p99, reg.max, server_cpu_register_, client_cpu);
    }
    if (!options_.probe.empty()) {
      std::printf("query: %zu x GET %s: %zu entries, %zu bytes; p50 %.3f p99 %.3f max %.3f ms\n",
                  query.count, health_path().c_str(), probe_entries_, probe_bytes_, query.p50,
                  query.p99, query.max);
      std::printf(
          "wake: %zu of %d woken, %d spurious, %d early, %d failed; from ack p50 %.3f "
          "p99 %.3f max %.3f ms; from send p50 %.3f p99 %.3f max %.3f ms\n",
          ack.count, options_.wake_rounds, spurious_, early_, wake_failures_, ack.p50, ack.p99,
          ack.max, send.p50, send.p99, send.max);
    }
    // One line for scripts: key=value; ms and MiB unless named otherwise.
    std::printf(
        "RESULT instances=%d nodes=%d services=%d conns=%d registered=%d failed=%d "
        "register_s=%.3f register_rate=%.0f register_p50=%.3f register_p99=%.3f "
        "register_max=%.3f server_cpu_register_s=%.2f client_cpu_s=%.2f rss_before=%.1f "
        "hwm_before=%.1f rss_after_register=%.1f hwm_after_register=%.1f rss_after_probe=%.1f "
        "hwm_after_probe=%.1f probe=%s probe_entries=%zu probe_bytes=%zu query_count=%zu "
        "query_p50=%.3f query_p99=%.3f query_max=%.3f wake_rounds=%d woken=%zu spurious=%d "
        "early=%d wake_failures=%d wake_bytes=%zu wake_ack_p50=%.3f wake_ack_p99=%.3f "
        "wake_ack_max=%.3f wake_send_p50=%.3f wake_send_p99=%.3f wake_send_max=%.3f\n",
        options_.instances, options_.nodes, options_.services, options_.conns, registered_,
        register_failed_, seconds, seconds > 0 ? registered_ / seconds : 0, reg.p50, reg.p99,
        reg.max, server_cpu_register_, client_cpu, rss(before), hwm(before), rss(after_register),
        hwm(after_register), rss(after_probe), hwm(after_probe),
        options_.probe.empty() ? "-" : options_.probe.c_str(), probe_entries_, probe_bytes_,
        query.count, query.p50, query.p99, query.max,
        options_.probe.empty() ? 0 : options_.wake_rounds, ack.count, spurious_, early_,
        wake_failures_, wake_bytes_, ack.p50, ack.p99, ack.max, send.p50, send.p99, send.max);
    std::fflush(stdout);
  }

  asio::io_context& io_;
  Options options_;
  Layout layout_;
  tcp::endpoint endpoint_;
  Clock::time_point register_start_{}, register_end_{};
  int registered_ = 0, register_failed_ = 0;
  std::vector<double> register_ms_, query_ms_, wake_from_ack_ms_, wake_from_send_ms_;
  double server_cpu_before_register_ = 0, server_cpu_register_ = 0;
  std::size_t probe_bytes_ = 0, probe_entries_ = 0, wake_bytes_ = 0;
  int spurious_ = 0, early_ = 0, wake_failures_ = 0;
  bool target_warning_ = false;
};

void usage() {
  std::fprintf(
      stderr,
      "usage: catalog_load --port=N [--instances=1000] [--nodes=100] [--services=1]\n"
      "         [--name=web] [--conns=8] [--deadline-s=600] [--register=1] [--server-pid=PID]\n"
      "         [--probe=NAME] [--probe-queries=20] [--wake-rounds=10] [--wake-wait-s=30]\n"
      "         [--settle-ms=200] [--quiet-ms=300]\n"
      "Registers --instances service instances on 127.0.0.1:PORT, then probes one service's\n"
      "health query and blocking-query wake-ups; exits 1 if anything failed, 2 on bad usage.\n");
}

Options parse(int argc, char** argv) {
  Options o;
  for_each_flag(argc, argv, usage, die, [&](std::string_view name, const std::string& value) {
    auto integer = [&](int& out, int min, int max) { out = int_flag(name, value, min, max, die); };
    int port = 0, flag = 0;
    if (name == "port") {
      integer(port, 1, 65535);
      o.port = static_cast<std::uint16_t>(port);
    } else if (name == "instances") {
      integer(o.instances, 1, kInstancesMax);
    } else if (name == "nodes") {
      integer(o.nodes, 1, kInstancesMax);
    } else if (name == "services") {
      integer(o.services, 1, kInstancesMax);
    } else if (name == "name") {
      if (value.empty() || value.size() > 64) die("bad value for --name");
      o.name = value;
    } else if (name == "conns") {
      integer(o.conns, 1, kConnsMax);
    } else if (name == "deadline-s") {
      integer(o.deadline_s, 1, 3600);
    } else if (name == "register") {
      integer(flag, 0, 1);
      o.do_register = flag == 1;
    } else if (name == "server-pid") {
      integer(o.server_pid, 1, 1 << 30);
    } else if (name == "probe") {
      o.probe = value;
    } else if (name == "probe-queries") {
      integer(o.probe_queries, 1, kProbeQueriesMax);
    } else if (name == "wake-rounds") {
      integer(o.wake_rounds, 0, kWakeRoundsMax);
    } else if (name == "wake-wait-s") {
      integer(o.wake_wait_s, 1, 600);
    } else if (name == "settle-ms") {
      integer(o.settle_ms, 0, 60'000);
    } else if (name == "quiet-ms") {
      integer(o.quiet_ms, 0, 60'000);
    } else {
      usage();
      die("unknown option --" + std::string(name));
    }
  });
  if (o.port == 0) {
    usage();
    die("--port is required");
  }
  if (o.nodes > o.instances) die("--nodes must not exceed --instances");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  asio::io_context io(1);
  int rc = 2;
  Run run(io, options);
  asio::co_spawn(io, run.main(), [&](std::exception_ptr e, int result) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "catalog_load: %s\n", ex.what());
      }
      rc = 2;
    } else {
      rc = result;
    }
    io.stop();
  });
  io.run();
  return rc;
}
