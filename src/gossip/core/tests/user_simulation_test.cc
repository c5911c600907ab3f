// serf's user events and queries on a simulated cluster (simulation.h): a query reaches
// every member and every member's answer reaches the origin; an event is delivered exactly
// once to every member under datagram loss. GOSSIP_SIM_MEMBERS / GOSSIP_SIM_SEED scale and
// vary it as for gossip_simulation_test.cc.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gossip/core/tests/simulation.h"

namespace pc::gossip {
namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

sim::SimOptions options(int loss_permille) {
  sim::SimOptions o;
  o.seed = env_or("GOSSIP_SIM_SEED", 1);
  o.members = static_cast<int>(env_or("GOSSIP_SIM_MEMBERS", 100));
  o.udp_loss_permille = loss_permille;
  return o;
}

std::string reproduce(const sim::SimOptions& o, const char* test) {
  return "reproduce: GOSSIP_SIM_SEED=" + std::to_string(o.seed) +
         " GOSSIP_SIM_MEMBERS=" + std::to_string(o.members) +
         " gossip_core_test --gtest_filter=UserSimulation." + test;
}

// Every member answers every query with its own name; the origin's responses are counted.
struct QueryScenario {
  std::set<int> reached;  // members the query was delivered to
  std::set<std::string> answered;
  bool done = false;
};

void run_query(sim::Simulation& s, std::uint32_t relay_factor, QueryScenario& out) {
  const int origin = 0;
  s.set_on_ready([&](int i, const Ready& rd) {
    for (const QueryRequest& q : rd.queries) {
      out.reached.insert(i);
      ASSERT_TRUE(s.member(i).respond(q, s.name(i), s.now_ms()));
    }
    if (i != origin) return;
    for (const QueryResponse& r : rd.query_responses) {
      EXPECT_EQ(r.payload, r.from);
      out.answered.insert(r.from);
    }
    if (!rd.queries_done.empty()) out.done = true;
  });
  auto started = s.member(origin).query("_serf_ping", "", 0, relay_factor, s.now_ms());
  ASSERT_TRUE(started) << started.error().message;
  // serf's default timeout at 100 members: 200 ms x 16 x ceil(log10(101)) = 9.6 s.
  EXPECT_EQ(started->deadline_ms - s.now_ms(), 200u * 16 *
                                                   (s.size() > 99  ? 3
                                                    : s.size() > 9 ? 2
                                                                   : 1));
  ASSERT_TRUE(s.run_until([&] { return out.done; }, 60'000));
  ASSERT_TRUE(s.check());
}

TEST(UserSimulation, AQueryReachesEveryMemberAndAllAnswer) {
  sim::SimOptions o = options(0);
  sim::Simulation s(o);
  ASSERT_TRUE(s.bootstrap(120'000)) << reproduce(o, "AQueryReachesEveryMemberAndAllAnswer");
  QueryScenario q;
  run_query(s, 0, q);
  EXPECT_EQ(q.reached.size(), static_cast<std::size_t>(s.size()))
      << reproduce(o, "AQueryReachesEveryMemberAndAllAnswer");
  EXPECT_EQ(q.answered.size(), static_cast<std::size_t>(s.size()))
      << reproduce(o, "AQueryReachesEveryMemberAndAllAnswer");
}

TEST(UserSimulation, UnderLossRelaysBringEveryAnswerHome) {
  sim::SimOptions o = options(50);
  sim::Simulation s(o);
  s.set_udp_loss(0);
  ASSERT_TRUE(s.bootstrap(120'000));
  s.set_udp_loss(50);
  QueryScenario q;
  run_query(s, 3, q);
  EXPECT_EQ(q.reached.size(), static_cast<std::size_t>(s.size()))
      << reproduce(o, "UnderLossRelaysBringEveryAnswerHome");
  EXPECT_EQ(q.answered.size(), static_cast<std::size_t>(s.size()))
      << reproduce(o, "UnderLossRelaysBringEveryAnswerHome");
  std::uint64_t relayed = 0;
  for (int i = 0; i < s.size(); ++i) relayed += s.member(i).stats().query_responses_relayed;
  EXPECT_GT(relayed, 0u);
}

TEST(UserSimulation, EveryEventIsDeliveredExactlyOncePerMemberUnderFivePercentLoss) {
  sim::SimOptions o = options(50);
  sim::Simulation s(o);
  s.set_udp_loss(0);
  ASSERT_TRUE(s.bootstrap(120'000));
  s.set_udp_loss(50);
  // deliveries[member][event payload] = how many times it was delivered there.
  std::vector<std::map<std::string, int>> deliveries(static_cast<std::size_t>(s.size()));
  s.set_on_ready([&](int i, const Ready& rd) {
    for (const UserEvent& e : rd.user_events) ++deliveries[static_cast<std::size_t>(i)][e.payload];
  });
  constexpr int kEvents = 20;
  for (int e = 0; e < kEvents; ++e) {
    const int from = (e * 37) % s.size();
    ASSERT_TRUE(s.member(from).fire_event("deploy", "event-" + std::to_string(e), s.now_ms()));
    s.run_for(250);
  }
  s.run_for(30'000);
  ASSERT_TRUE(s.check());
  for (int i = 0; i < s.size(); ++i) {
    const auto& got = deliveries[static_cast<std::size_t>(i)];
    EXPECT_EQ(got.size(), static_cast<std::size_t>(kEvents))
        << "member " << i << "; " << reproduce(o, "EveryEventIsDelivered...");
    for (const auto& [payload, n] : got) {
      EXPECT_EQ(n, 1) << "member " << i << " got " << payload << " " << n << " times";
    }
  }
}

}  // namespace
}  // namespace pc::gossip
