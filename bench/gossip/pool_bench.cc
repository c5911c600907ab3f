// pool_bench: N gossip::Pool instances (src/gossip/runtime/pool.h) in one process on
// 127.0.0.1, driven through the same phases as bench/gossip/memberlist_anchor.go and printing
// the same key=value lines, so bench/gossip_memberlist.sh can put the two side by side.
//
// Phases: start N pools (kernel-chosen ports), join each to pool 0, wait until every pool
// counts N members alive, warm up (the join broadcasts drain), then a steady state of S
// seconds with nobody failing, then K kills one at a time (Pool::stop(): no leave, so the
// others must find the member failed), each timed from the moment stop() returned to the
// first survivor's and to the last survivor's "dead" event about it.
//
// What is counted, and how (the anchor counts the same things; see its header):
//   - "dead": an Event of kind kFail (or kLeave, which nobody sends here), the pair that
//     memberlist's NotifyLeave covers. One about a running member is a false dead.
//   - suspicions: the sum over pools of the core's `suspicions` (members it started
//     suspecting), memberlist's "memberlist.msg.suspect".
//   - bytes: Pool::stats(): UDP = the payload of every datagram sent (the frame the keyring
//     would seal; no IP/UDP headers); TCP = the bytes written on every connection, dialed or
//     accepted, length prefixes included (no TCP/IP headers).
//
// --check (the CI smoke): exits 1 unless every kill was declared dead by every survivor
// within one probe round plus the maximum suspicion timeout, and nothing running was
// declared dead.
//
// Threads: each pool runs its own I/O thread (pc-gossip); events land in one Recorder under
// its mutex; the main thread drives the phases and polls.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gossip/core/config.h"
#include "gossip/runtime/pool.h"
#include "tool_flags.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Limits (shared/STYLE.md rule 5).
constexpr int kMembersMax = 5000;
constexpr int kSecondsMax = 24 * 3600;

struct Options {
  int members = 100;
  int steady_s = 120;
  int kills = 10;
  int warmup_s = 15;
  int settle_s = 5;
  std::string profile = "lan";
  int meta_bytes = 160;
  std::string bind = "127.0.0.1";
  bool check = false;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "pool_bench: %s\n", message.c_str());
  std::exit(2);
}

void usage() {
  std::fprintf(stderr,
               "usage: pool_bench [--members=100] [--steady-s=120] [--kills=10] [--warmup-s=15]\n"
               "                  [--settle-s=5] [--profile=lan|local] [--meta-bytes=160]\n"
               "                  [--bind=127.0.0.1] [--check=1]\n");
}

void progress(const std::string& line) {
  const std::time_t now = std::time(nullptr);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::gmtime(&now));
  std::fprintf(stderr, "%s proconsul: %s\n", stamp, line.c_str());
}

// The same names, metas and digest as the anchor's (memberName, memberMeta, metaDigest there).
std::string member_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "gossip-bench-node-%04d", i);
  return buf;
}

// splitmix64: a tiny generator both programs implement alike.
struct SplitMix {
  std::uint64_t s;
  std::uint64_t next() {
    s += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Looks like a Consul client's LAN tags (shared keys, a random node id and build hash), padded
// with random hex to `size` bytes: about as compressible as real tags, so memberlist's
// compression gets neither a free ride nor nothing to work with.
std::string member_meta(int i, int size) {
  SplitMix g{static_cast<std::uint64_t>(i) + 1};
  // One call per statement: the operands of + are evaluated in no fixed order.
  std::string h = hex64(g.next());
  h += hex64(g.next());
  char build[16];
  std::snprintf(build, sizeof build, "%08x", static_cast<unsigned>(g.next() & 0xffffffffULL));
  std::string meta = "role=node dc=dc1 segment= id=" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" +
                     h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12) +
                     " vsn=2 vsn_min=2 vsn_max=3 build=1.17.0:" + build;
  while (meta.size() < static_cast<std::size_t>(size)) meta += hex64(g.next());
  meta.resize(static_cast<std::size_t>(size));
  return meta;
}

// FNV-1a (64-bit) over every member's meta in order: the script checks that both programs
// gave their members the same bytes.
std::uint64_t meta_digest(int n, int size) {
  std::uint64_t h = 14695981039346656037ULL;
  for (int i = 0; i < n; ++i) {
    for (unsigned char b : member_meta(i, size)) {
      h ^= b;
      h *= 1099511628211ULL;
    }
  }
  return h;
}

// The p-th percentile by nearest rank (p99 of 10 samples is the maximum); NaN when empty.
double nearest_rank(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return std::nan("");
  auto r = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(sorted.size())));
  r = std::clamp<std::size_t>(r, 1, sorted.size());
  return sorted[r - 1];
}

struct DeadEvent {
  std::size_t observer = 0;
  std::string name;
  Clock::time_point at;
};

// Every "dead" event of every pool, and which members are stopped (a death of a running
// member is false). Written from the pools' I/O threads, read by the main thread.
struct Recorder {
  std::mutex mu;
  std::vector<DeadEvent> dead;
  std::set<std::string> stopped;
  int false_dead = 0;

  void add(std::size_t observer, const std::string& name) {
    std::lock_guard lock(mu);
    dead.push_back({observer, name, Clock::now()});
    if (!stopped.contains(name)) ++false_dead;
  }
  int false_dead_now() {
    std::lock_guard lock(mu);
    return false_dead;
  }
};

struct Member {
  std::string name;
  std::unique_ptr<pc::gossip::Pool> pool;
  bool running = true;
};

struct Totals {
  std::uint64_t udp_bytes = 0, udp_packets = 0, tcp_bytes = 0, suspicions = 0;
};

Totals totals(const std::vector<Member>& members) {
  Totals t;
  for (const Member& m : members) {
    if (!m.running) continue;
    const auto s = m.pool->stats();
    t.udp_bytes += s.udp_bytes_sent;
    t.udp_packets += s.udp_packets_sent;
    t.tcp_bytes += s.tcp_bytes_sent;
    t.suspicions += m.pool->core_stats().suspicions;
  }
  return t;
}

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

Options parse(int argc, char** argv) {
  Options o;
  pc_bench::for_each_flag(argc, argv, usage, die,
                          [&](std::string_view name, const std::string& value) {
                            auto integer = [&](int& out, int min, int max) {
                              out = pc_bench::int_flag(name, value, min, max, die);
                            };
                            if (name == "members")
                              integer(o.members, 3, kMembersMax);
                            else if (name == "steady-s")
                              integer(o.steady_s, 0, kSecondsMax);
                            else if (name == "kills")
                              integer(o.kills, 0, kMembersMax);
                            else if (name == "warmup-s")
                              integer(o.warmup_s, 0, kSecondsMax);
                            else if (name == "settle-s")
                              integer(o.settle_s, 0, kSecondsMax);
                            else if (name == "meta-bytes")
                              integer(o.meta_bytes, 0, static_cast<int>(pc::gossip::kMetaSizeMax));
                            else if (name == "profile" && (value == "lan" || value == "local"))
                              o.profile = value;
                            else if (name == "bind" && !value.empty())
                              o.bind = value;
                            else if (name == "check" && (value == "0" || value == "1"))
                              o.check = value == "1";
                            else
                              die("bad argument: --" + std::string(name) + "=" + value);
                          });
  if (o.kills > o.members - 2) die("--kills must leave at least two members running");
  return o;
}

// One run: the phases in order, each a method; the figures they measure are its fields.
class Run {
 public:
  explicit Run(Options o) : o_(std::move(o)), n_(static_cast<std::size_t>(o_.members)) {}

  void start_members() {
    members_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      Member& m = members_[i];
      m.name = member_name(static_cast<int>(i));
      pc::gossip::Pool::Options options;
      options.config = o_.profile == "lan" ? pc::gossip::lan_config(m.name, "")
                                           : pc::gossip::local_config(m.name, "");
      options.config.meta = member_meta(static_cast<int>(i), o_.meta_bytes);
      base_ = options.config;
      options.bind_ip = o_.bind;
      options.port = 0;
      // memberlist's TCPTimeout of the same profile.
      options.tcp_timeout = o_.profile == "lan" ? 10s : 1s;
      options.on_event = [this, i](const pc::gossip::Event& e) {
        if (e.kind == pc::gossip::EventKind::kFail || e.kind == pc::gossip::EventKind::kLeave) {
          rec_.add(i, e.member.name);
        }
      };
      m.pool = std::make_unique<pc::gossip::Pool>(std::move(options));
      auto port = m.pool->start();
      if (!port) die(m.name + ": " + port.error().message);
    }
  }

  // Everyone joins member 0, then every member must count all alive.
  void join_and_converge() {
    const auto start = Clock::now();
    for (std::size_t i = 1; i < n_; ++i) {
      if (members_[i].pool->join({members_[0].pool->address()}) != 1) {
        die(members_[i].name + ": join " + members_[0].pool->address() + " failed");
      }
    }
    join_ms_ = static_cast<long long>(ms_between(start, Clock::now()));
    const auto bound = std::chrono::milliseconds(base_.probe_interval_ms) * o_.members + 60s;
    while (!all_see_all_alive()) {
      // Not fatal: what follows then measures a pool that never settled, and says so
      // (converge_ms=-1); a run on a starved machine still shows what it did.
      if (Clock::now() - start > bound) {
        converge_ms_ = -1;
        progress("WARNING: not every member sees " + std::to_string(n_) + " alive after " +
                 std::to_string(bound.count() / 1000) + " s (" + alive_counts() + "); going on");
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    converge_ms_ = static_cast<long long>(ms_between(start, Clock::now()));
    progress(std::to_string(n_) + " members joined in " + std::to_string(join_ms_) +
             " ms, all alive everywhere after " + std::to_string(converge_ms_) + " ms");
  }

  void steady_state() {
    std::this_thread::sleep_for(std::chrono::seconds(o_.warmup_s));
    steady_before_ = totals(members_);
    const int false_dead_before = rec_.false_dead_now();
    const auto steady_start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(o_.steady_s));
    steady_wall_s_ = ms_between(steady_start, Clock::now()) / 1000;
    steady_after_ = totals(members_);
    steady_false_dead_ = rec_.false_dead_now() - false_dead_before;
    progress("steady state " + std::to_string(static_cast<int>(steady_wall_s_)) +
             " s: " + std::to_string(steady_after_.suspicions - steady_before_.suspicions) +
             " suspicions, " + std::to_string(steady_false_dead_) + " false dead");
  }

  // Kill k (0-based) stops the k-th member from the end and waits until every running member
  // declared it dead, or the bound passed. The kill phase's suspicions are summed per kill
  // (and its settling time) over the pools still running.
  void kill(int k) {
    Member& victim = members_[n_ - 1 - static_cast<std::size_t>(k)];
    std::size_t live = 0;
    for (const Member& m : members_) live += m.running && &m != &victim ? 1 : 0;
    // As the anchor: one probe round of the live members, then the maximum suspicion
    // timeout; the wait adds 30 s of slack, --check holds to the bound itself.
    const double node_scale = std::max(1.0, std::log10(static_cast<double>(live + 1)));
    const double suspicion_max_ms = base_.suspicion_mult * base_.suspicion_max_timeout_mult *
                                    node_scale * static_cast<double>(base_.probe_interval_ms);
    const double bound_ms = static_cast<double>(live * base_.probe_interval_ms) + suspicion_max_ms;
    {
      std::lock_guard lock(rec_.mu);
      rec_.stopped.insert(victim.name);
    }
    // Out of the sums first: a stopped pool's core stats read as zeros.
    victim.running = false;
    const Totals suspicions_before = totals(members_);
    victim.pool->stop();
    const auto killed = Clock::now();
    std::set<std::size_t> seen;
    std::optional<Clock::time_point> first, last;
    while (ms_between(killed, Clock::now()) < bound_ms + 30'000 && seen.size() < live) {
      std::this_thread::sleep_for(10ms);
      std::lock_guard lock(rec_.mu);
      for (const DeadEvent& e : rec_.dead) {
        if (e.name != victim.name || e.at < killed || seen.contains(e.observer)) continue;
        seen.insert(e.observer);
        if (!first || e.at < *first) first = e.at;
        if (!last || e.at > *last) last = e.at;
      }
    }
    double first_ms = -1, all_ms = -1;
    if (first) {
      first_ms = ms_between(killed, *first);
      firsts_.push_back(first_ms);
    }
    if (seen.size() == live) {
      all_ms = ms_between(killed, *last);
      alls_.push_back(all_ms);
      if (all_ms > bound_ms) ++late_;
    } else {
      ++undetected_;
    }
    std::printf(
        "kill index=%d member=%s live=%zu first_dead_ms=%.1f all_dead_ms=%.1f declared=%zu\n",
        k + 1, victim.name.c_str(), live, first_ms, all_ms, seen.size());
    progress("kill " + std::to_string(k + 1) + " (" + victim.name + "): first dead after " +
             std::to_string(static_cast<long long>(first_ms)) + " ms, everywhere after " +
             std::to_string(static_cast<long long>(all_ms)) + " ms (" +
             std::to_string(seen.size()) + "/" + std::to_string(live) + ")");
    std::this_thread::sleep_for(std::chrono::seconds(o_.settle_s));
    kill_suspicions_ += totals(members_).suspicions - suspicions_before.suspicions;
  }

  // The key=value lines, the anchor's keys in the anchor's order.
  void report() {
    std::sort(firsts_.begin(), firsts_.end());
    std::sort(alls_.begin(), alls_.end());
    const double node_scale = std::max(1.0, std::log10(static_cast<double>(n_)));
    const double suspicion_min_ms =
        base_.suspicion_mult * node_scale * static_cast<double>(base_.probe_interval_ms);
    const double member_seconds = static_cast<double>(n_) * steady_wall_s_;
    auto per_member_s = [&](std::uint64_t after, std::uint64_t before) {
      return static_cast<double>(after - before) / member_seconds;
    };
    std::printf(
        "impl=proconsul profile=%s members=%d steady_s=%d kills=%d meta_bytes=%d meta_digest=%s\n",
        o_.profile.c_str(), o_.members, o_.steady_s, o_.kills, o_.meta_bytes,
        hex64(meta_digest(o_.members, o_.meta_bytes)).c_str());
    std::printf("join_ms=%lld converge_ms=%lld\n", join_ms_, converge_ms_);
    std::printf(
        "steady_wall_s=%.1f steady_suspicions=%llu steady_false_dead=%d\n", steady_wall_s_,
        static_cast<unsigned long long>(steady_after_.suspicions - steady_before_.suspicions),
        steady_false_dead_);
    std::printf(
        "udp_bytes_per_member_s=%.1f udp_packets_per_member_s=%.2f tcp_bytes_per_member_s=%.1f\n",
        per_member_s(steady_after_.udp_bytes, steady_before_.udp_bytes),
        per_member_s(steady_after_.udp_packets, steady_before_.udp_packets),
        per_member_s(steady_after_.tcp_bytes, steady_before_.tcp_bytes));
    std::printf(
        "detect_first_p50_ms=%.1f detect_first_p99_ms=%.1f detect_all_p50_ms=%.1f "
        "detect_all_p99_ms=%.1f undetected=%d\n",
        nearest_rank(firsts_, 50), nearest_rank(firsts_, 99), nearest_rank(alls_, 50),
        nearest_rank(alls_, 99), undetected_);
    std::printf("kill_phase_suspicions=%llu false_dead_total=%d\n",
                static_cast<unsigned long long>(kill_suspicions_), rec_.false_dead_now());
    std::printf("suspicion_min_ms=%.0f suspicion_max_ms=%.0f\n", suspicion_min_ms,
                suspicion_min_ms * base_.suspicion_max_timeout_mult);
    std::fflush(stdout);
  }

  void stop_all() {
    for (Member& m : members_) {
      if (m.running) m.pool->stop();
      m.running = false;
    }
  }

  // --check: every kill seen everywhere within its bound, nothing running declared dead.
  bool check() {
    const int false_dead = rec_.false_dead_now();
    if (undetected_ > 0 || late_ > 0 || false_dead > 0) {
      std::fprintf(stderr,
                   "pool_bench: check FAILED: %d kill(s) not seen dead everywhere, %d seen later "
                   "than a probe round plus the maximum suspicion timeout, %d false dead\n",
                   undetected_, late_, false_dead);
      return false;
    }
    std::fprintf(stderr, "pool_bench: check passed\n");
    return true;
  }

 private:
  static std::size_t alive_seen_by(const Member& m) {
    std::size_t alive = 0;
    for (const auto& info : m.pool->members()) {
      alive += pc::gossip::dead_or_left(info.state) ? 0 : 1;
    }
    return alive;
  }

  bool all_see_all_alive() const {
    for (const Member& m : members_) {
      if (alive_seen_by(m) != n_) return false;
    }
    return true;
  }

  // How many members count how many alive, for a run that does not converge.
  std::string alive_counts() const {
    std::map<std::size_t, int> counts;
    for (const Member& m : members_) ++counts[alive_seen_by(m)];
    std::string out;
    for (const auto& [alive, members] : counts) {
      out += (out.empty() ? "" : ", ") + std::to_string(members) + " see " + std::to_string(alive);
    }
    return out;
  }

  const Options o_;
  const std::size_t n_;
  // Declared before the members, so destroyed after them: the pools' callbacks write into it
  // until they stop.
  Recorder rec_;
  std::vector<Member> members_;
  pc::gossip::Config base_;
  long long join_ms_ = 0, converge_ms_ = 0;
  Totals steady_before_, steady_after_;
  double steady_wall_s_ = 0;
  int steady_false_dead_ = 0;
  std::vector<double> firsts_, alls_;
  int undetected_ = 0, late_ = 0;
  std::uint64_t kill_suspicions_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Run run(o);
  run.start_members();
  run.join_and_converge();
  run.steady_state();
  for (int k = 0; k < o.kills; ++k) run.kill(k);
  run.report();
  run.stop_all();
  return o.check && !run.check() ? 1 : 0;
}
