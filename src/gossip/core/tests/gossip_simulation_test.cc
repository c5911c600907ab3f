// Deterministic simulation scenarios of the gossip core (see simulation.h), with the figures
// they measure printed as a table:
//   (a) steady state under 1 % and 5 % datagram loss: false suspicions and false "dead"
//       declarations of running members;
//   (b) a killed member: the time until every running member marks it dead (median, p99);
//   (c) bytes sent per member per second;
//   (d) a partition into two halves and its heal: each side marks the other dead, then all
//       are alive again everywhere (push-pull, refutation, the reconnect loop);
// and the invariants of simulation.h on every state change. Same seed, same run: checked by
// comparing digests.
//
// CI runs 100 members. Bigger runs: GOSSIP_SIM_MEMBERS=1000 (and GOSSIP_SIM_SEED=<n>,
// GOSSIP_SIM_KILLS=<k>, GOSSIP_SIM_STEADY_S=<seconds>). A failure prints the line to
// reproduce it.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "gossip/core/suspicion.h"
#include "gossip/core/tests/simulation.h"

namespace pc::gossip {
namespace {

using sim::SimOptions;
using sim::Simulation;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

int members() {
  return static_cast<int>(env_or("GOSSIP_SIM_MEMBERS", 100));
}
std::uint64_t seed() {
  return env_or("GOSSIP_SIM_SEED", 1);
}

std::string reproduce(const char* test) {
  return fmt::format(
      "reproduce: GOSSIP_SIM_SEED={} GOSSIP_SIM_MEMBERS={} "
      "gossip_core_test --gtest_filter=GossipSimulation.{}",
      seed(), members(), test);
}

SimOptions options(int n, std::uint64_t s) {
  SimOptions o;
  o.seed = s;
  o.members = n;
  o.latency_min_ms = 1;
  o.latency_max_ms = 10;
  // Steps of 10 ms: coarser than the 1-10 ms latencies, which only rounds deliveries up to
  // the next step; fine enough for 500 ms probe timeouts.
  o.step_ms = 10;
  return o;
}

std::uint64_t bootstrap_limit_ms(int n) {
  return 60'000 + static_cast<std::uint64_t>(n) * 120;
}

std::uint64_t percentile(std::vector<std::uint64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(at, v.size() - 1)];
}

TEST(GossipSimulation, SteadyStateUnderLoss) {
  const int n = members();
  // Two push-pull intervals by default: push-pulls dominate the bytes, and a window that
  // is not a whole number of their (scaled) interval over- or under-counts them.
  const std::uint64_t pp_ms = push_pull_interval_scaled_ms(lan_config("", "").push_pull_interval_ms,
                                                           static_cast<std::size_t>(n));
  const std::uint64_t period_ms = env_or("GOSSIP_SIM_STEADY_S", 2 * pp_ms / 1000) * 1000;
  fmt::print("\n  steady state, {} members, {} s each\n", n, period_ms / 1000);
  // probe fails: probes of running members that got no ack in time (each starts or
  // confirms a suspicion); suspect marks: (member, running member) pairs that went to
  // suspect, one failed probe spreading to everyone counts n - 1; false dead: fail events
  // about running members; degraded: members whose Lifeguard health score is above 0 at the
  // end.
  fmt::print("  {:>6} | {:>11} | {:>13} | {:>10} | {:>11} | {:>9} | {:>13} | {:>8}\n", "loss",
             "probe fails", "suspect marks", "false dead", "bytes/mbr/s", "of it TCP",
             "packets/mbr/s", "degraded");
  // The last row turns the TCP ping off (plain SWIM with Lifeguard): a control that shows
  // what the fallback buys; nothing is asserted about its false positives.
  struct Row {
    int loss;
    bool tcp;
  };
  for (Row row : {Row{0, true}, Row{10, true}, Row{50, true}, Row{50, false}}) {
    const int loss = row.loss;
    SimOptions o = options(n, seed() + static_cast<std::uint64_t>(loss));
    o.base.tcp_ping_fallback = row.tcp;
    Simulation s(o);
    auto boot = s.bootstrap(bootstrap_limit_ms(n));
    ASSERT_TRUE(boot) << boot.error().message << "\n" << reproduce("SteadyStateUnderLoss");
    // Let the join broadcasts of the bootstrap drain before measuring: every member
    // re-broadcasts each of the n joins retransmit-limit times, which takes minutes at 1,000.
    auto settled = s.run_until(
        [&] {
          for (int i = 0; i < n; ++i) {
            if (s.member(i).queued_broadcasts() > 0) return false;
          }
          return true;
        },
        900'000, 1'000);
    ASSERT_TRUE(settled) << reproduce("SteadyStateUnderLoss");
    fmt::print("  (bootstrap converged in {} ms, its broadcasts drained {} ms later)\n", *boot,
               *settled);
    s.set_udp_loss(loss);
    sim::SimStats before = s.stats();
    std::uint64_t failures_before = 0;
    for (int i = 0; i < n; ++i) failures_before += s.member(i).stats().probe_failures;
    s.run_for(period_ms);
    const sim::SimStats& after = s.stats();
    double seconds = static_cast<double>(period_ms) / 1000.0;
    double bytes = static_cast<double>(after.bytes_sent - before.bytes_sent) / n / seconds;
    double tcp_bytes =
        static_cast<double>(after.tcp_bytes_sent - before.tcp_bytes_sent) / n / seconds;
    double packets = static_cast<double>((after.udp_sent + after.tcp_sent) -
                                         (before.udp_sent + before.tcp_sent)) /
                     n / seconds;
    std::uint64_t suspicions = after.false_suspicions - before.false_suspicions;
    std::uint64_t dead = after.false_failures - before.false_failures;
    std::uint64_t failures = 0;
    for (int i = 0; i < n; ++i) failures += s.member(i).stats().probe_failures;
    failures -= failures_before;
    fmt::print(
        "  {:>5.1f}% | {:>11} | {:>13} | {:>10} | {:>11.0f} | {:>9.0f} | {:>13.1f} | {:>8}{}\n",
        loss / 10.0, failures, suspicions, dead, bytes, tcp_bytes, packets, s.degraded_members(),
        row.tcp ? "" : "  (no TCP ping)");
    ASSERT_TRUE(s.check()) << s.check().error().message << "\n"
                           << reproduce("SteadyStateUnderLoss");
    // Indirect probes and the TCP ping keep running members alive under this much loss.
    if (!row.tcp) continue;
    EXPECT_EQ(dead, 0u) << "loss " << loss << " permille\n" << reproduce("SteadyStateUnderLoss");
    if (loss == 0) {
      EXPECT_EQ(suspicions, 0u);
    }
    EXPECT_TRUE(s.converged());
    // Datagrams cost each member the same whatever the cluster size (SWIM's point): a probe
    // and its ack per second, gossip to 3 members 5 times a second when there is news. The
    // push-pulls grow with the member count (and their interval with it, past 32).
    EXPECT_LT(bytes - tcp_bytes, 2000.0);
  }
}

TEST(GossipSimulation, DetectionTimeOfAKilledMember) {
  const int n = members();
  const int kills = static_cast<int>(env_or("GOSSIP_SIM_KILLS", 8));
  Simulation s(options(n, seed()));
  auto boot = s.bootstrap(bootstrap_limit_ms(n));
  ASSERT_TRUE(boot) << boot.error().message;
  std::vector<std::uint64_t> first_suspect;
  std::vector<std::uint64_t> all_dead;
  for (int k = 0; k < kills; ++k) {
    int victim = 1 + static_cast<int>((static_cast<std::uint64_t>(k) * 7919 + seed()) %
                                      static_cast<std::uint64_t>(n - 1));
    if (!s.running(victim)) continue;
    s.stop(victim);
    auto suspected =
        s.run_until([&] { return !s.all_see(victim, MemberState::kAlive); }, 120'000, 10);
    ASSERT_TRUE(suspected) << reproduce("DetectionTimeOfAKilledMember");
    auto dead = s.run_until([&] { return s.all_see(victim, MemberState::kDead); }, 300'000, 10);
    ASSERT_TRUE(dead) << "member " << victim << " not dead everywhere\n"
                      << reproduce("DetectionTimeOfAKilledMember");
    first_suspect.push_back(*suspected);
    all_dead.push_back(*suspected + *dead);
    s.run_for(5'000);  // let the dead rumour settle before the next kill
  }
  std::uint64_t min_ms = suspicion_timeout_ms(4, static_cast<std::size_t>(n), 1000);
  fmt::print("\n  detection, {} members, {} kills (suspicion min {} ms, max {} ms)\n", n,
             all_dead.size(), min_ms, 6 * min_ms);
  fmt::print("  first suspicion: median {} ms, p99 {} ms\n", percentile(first_suspect, 0.5),
             percentile(first_suspect, 0.99));
  fmt::print("  dead everywhere: median {} ms, p99 {} ms\n", percentile(all_dead, 0.5),
             percentile(all_dead, 0.99));
  ASSERT_TRUE(s.check()) << s.check().error().message;
  EXPECT_EQ(s.stats().false_failures, 0u);
  for (std::uint64_t t : all_dead) {
    EXPECT_GE(t, min_ms) << "declared dead before the minimum suspicion timeout";
    // A probe within a few rounds, then at most the maximum timeout, then dissemination.
    EXPECT_LE(t, 6 * min_ms + 15'000);
  }
}

TEST(GossipSimulation, FalseSuspicionIsRefutedWithinTheSuspicionTimeout) {
  const int n = std::min(members(), 100);
  Simulation s(options(n, seed()));
  ASSERT_TRUE(s.bootstrap(bootstrap_limit_ms(n)));
  std::uint64_t min_ms = suspicion_timeout_ms(4, static_cast<std::size_t>(n), 1000);
  for (int victim : {3, 11, n - 1}) {
    Incarnation before = s.member(victim).incarnation();
    // Member 0 starts the rumour that `victim` is suspect, as if its probe had failed.
    Message rumour;
    rumour.kind = MessageKind::kSuspect;
    rumour.node = s.name(victim);
    rumour.incarnation = before;
    rumour.from = s.name(0);
    ASSERT_TRUE(s.inject(0, s.addr(0), Channel::kUdp, {rumour}));
    auto refuted = s.run_until(
        [&] {
          if (s.member(victim).incarnation() <= before) return false;
          for (int i = 0; i < n; ++i) {
            const MemberInfo* m = s.member(i).find_member(s.name(victim));
            if (m == nullptr || m->state != MemberState::kAlive || m->incarnation <= before)
              return false;
          }
          return true;
        },
        min_ms, 10);
    ASSERT_TRUE(refuted) << "member " << victim << " not refuted everywhere within " << min_ms
                         << " ms\n"
                         << reproduce("FalseSuspicionIsRefutedWithinTheSuspicionTimeout");
    fmt::print("  false suspicion of {} refuted everywhere in {} ms (min timeout {} ms)\n",
               s.name(victim), *refuted, min_ms);
  }
  EXPECT_EQ(s.stats().fail_events, 0u);
  ASSERT_TRUE(s.check()) << s.check().error().message;
}

TEST(GossipSimulation, PartitionAndHeal) {
  const int n = members();
  Simulation s(options(n, seed()));
  ASSERT_TRUE(s.bootstrap(bootstrap_limit_ms(n)));
  std::vector<int> group(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) group[static_cast<std::size_t>(i)] = i % 2;
  s.partition(group);
  auto split = s.run_until(
      [&] {
        for (int i = 0; i < n; ++i) {
          for (int j = 0; j < n; ++j) {
            const MemberInfo* m = s.member(i).find_member(s.name(j));
            MemberState want = (i % 2) == (j % 2) ? MemberState::kAlive : MemberState::kDead;
            if (m == nullptr || m->state != want) return false;
          }
        }
        return true;
      },
      600'000, 500);
  ASSERT_TRUE(split) << "the sides did not mark each other dead\n" << reproduce("PartitionAndHeal");
  s.heal();
  auto healed = s.run_until([&] { return s.converged(); }, 600'000, 500);
  ASSERT_TRUE(healed) << "no re-merge after the heal\n" << reproduce("PartitionAndHeal");
  fmt::print(
      "\n  partition into halves, {} members: each side marks the other dead in {} ms;"
      "\n  after the heal, all alive everywhere in {} ms\n",
      n, *split, *healed);
  ASSERT_TRUE(s.check()) << s.check().error().message;
}

TEST(GossipSimulation, SameSeedSameRun) {
  auto run = [](std::uint64_t s) {
    Simulation sim(options(40, s));
    EXPECT_TRUE(sim.bootstrap(60'000));
    sim.set_udp_loss(50);
    sim.run_for(10'000);
    sim.stop(7);
    sim.run_for(30'000);
    return sim.digest();
  };
  std::uint64_t a = run(seed());
  EXPECT_EQ(a, run(seed()));
  EXPECT_NE(a, run(seed() + 1));
}

}  // namespace
}  // namespace pc::gossip
