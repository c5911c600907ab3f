// serf's user events and queries on a simulated cluster (simulation.h): a query reaches
// every member and every member's answer reaches the origin; an event is delivered exactly
// once to every member under datagram loss. GOSSIP_SIM_MEMBERS / GOSSIP_SIM_SEED scale and
// vary it as for gossip_simulation_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
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

// The cluster forms without loss (joins are not what these tests are about), then datagrams
// are lost with the given probability.
void bootstrap_then_lose(sim::Simulation& s, int loss_permille) {
  s.set_udp_loss(0);
  ASSERT_TRUE(s.bootstrap(120'000));
  s.set_udp_loss(loss_permille);
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
  ASSERT_NO_FATAL_FAILURE(bootstrap_then_lose(s, 50));
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

// Fires `events` events from members `stride` apart, 250 ms apart, runs on for `settle_ms`,
// then expects every member to have had each delivered exactly once.
void expect_events_delivered_once(sim::Simulation& s, const sim::SimOptions& o, int events,
                                  int stride, std::uint64_t settle_ms, const char* test) {
  // deliveries[member][event payload] = how many times it was delivered there.
  std::vector<std::map<std::string, int>> deliveries(static_cast<std::size_t>(s.size()));
  s.set_on_ready([&](int i, const Ready& rd) {
    for (const UserEvent& e : rd.user_events) ++deliveries[static_cast<std::size_t>(i)][e.payload];
  });
  for (int e = 0; e < events; ++e) {
    const int from = (e * stride) % s.size();
    ASSERT_TRUE(s.member(from).fire_event("deploy", "event-" + std::to_string(e), s.now_ms()));
    s.run_for(250);
  }
  s.run_for(settle_ms);
  ASSERT_TRUE(s.check());
  for (int i = 0; i < s.size(); ++i) {
    const auto& got = deliveries[static_cast<std::size_t>(i)];
    EXPECT_EQ(got.size(), static_cast<std::size_t>(events))
        << "member " << i << "; " << reproduce(o, test);
    for (const auto& [payload, n] : got) {
      EXPECT_EQ(n, 1) << "member " << i << " got " << payload << " " << n << " times";
    }
  }
}

TEST(UserSimulation, EveryEventIsDeliveredExactlyOncePerMemberUnderFivePercentLoss) {
  sim::SimOptions o = options(50);
  sim::Simulation s(o);
  ASSERT_NO_FATAL_FAILURE(bootstrap_then_lose(s, 50));
  expect_events_delivered_once(s, o, 20, 37, 30'000, "EveryEventIsDelivered...");
}

TEST(UserSimulation, PushPullsDeliverTheEventsWhoseBroadcastsAMemberMissed) {
  // One transmission per member and 20 % datagram loss: broadcasts alone leave members
  // without some events; the push-pulls (every 30 s here) bring each, once.
  sim::SimOptions o = options(0);
  o.members = std::min(o.members, 30);
  o.base.retransmit_mult = 1;
  sim::Simulation s(o);
  ASSERT_NO_FATAL_FAILURE(bootstrap_then_lose(s, 200));
  expect_events_delivered_once(s, o, 10, 7, 100'000, "PushPullsDeliver...");
  std::uint64_t from_push_pull = 0;
  for (int i = 0; i < s.size(); ++i)
    from_push_pull += s.member(i).stats().user_events_from_push_pull;
  EXPECT_GT(from_push_pull, 0u) << "the broadcasts reached everyone: the test proves nothing";
}

}  // namespace
}  // namespace pc::gossip
