// Operator endpoint logic over a real store and a scripted Raft configuration: servers named
// through the catalog's "consul" instances, removal and transfer by address or node ID with
// Consul's texts, and autopilot's health rules (trailing logs, contact, failure tolerance,
// StableSince).
#include "endpoints/operator.h"

#include <gtest/gtest.h>

#include <optional>

#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

using namespace std::chrono_literals;

// A Log whose configuration a test sets, and which records the operator actions it is asked
// for and answers them with `next_status`. Proposals are not used here.
class FakeLog final : public consensus::Log {
 public:
  void propose(std::string, consensus::ProposeDone done) override {
    done(core::make_error(core::Code::kUnavailable, "fake log takes no proposals"));
  }
  consensus::LeaderInfo leader() const override {
    consensus::LeaderInfo info;
    for (const auto& s : config.servers) {
      if (s.leader) {
        info.known_leader = true;
        info.leader_address = s.address;
        info.last_contact_ms = last_contact_ms;
      }
    }
    return info;
  }
  std::uint64_t last_index() const override { return config.last_index; }
  std::uint64_t applied_index() const override { return config.last_index; }
  std::vector<std::string> voters() const override {
    std::vector<std::string> out;
    for (const auto& s : config.servers) {
      if (s.voter) out.push_back(s.address);
    }
    return out;
  }
  consensus::RaftConfiguration configuration() const override { return config; }
  void read_barrier(consensus::OperatorDone done) override { done(core::ok()); }
  bool lease_valid() const override { return false; }  // reads go through read_barrier
  void remove_server(std::string address, consensus::OperatorDone done) override {
    removed.push_back(address);
    done(next_status);
  }
  void transfer_leadership(std::string address, consensus::OperatorDone done) override {
    transferred.push_back(address);
    done(next_status);
  }

  consensus::RaftConfiguration config;
  core::Status next_status;
  std::vector<std::string> removed;
  std::vector<std::string> transferred;
  std::uint64_t last_contact_ms = 0;  // what leader() reports, as a follower would
};

class ManualClock final : public core::Clock {
 public:
  core::MonoTime now() const override { return core::MonoTime(wall.time_since_epoch()); }
  core::WallTime wall_now() const override { return wall; }
  core::WallTime wall{std::chrono::seconds(1'800'000'000)};
};

consensus::RaftServerInfo server(std::string address, bool leader, std::uint64_t match, bool active,
                                 bool voter = true) {
  consensus::RaftServerInfo s;
  s.address = std::move(address);
  s.leader = leader;
  s.match_index = match;
  s.recently_active = active;
  s.voter = voter;
  return s;
}

class OperatorTest : public ::testing::Test {
 protected:
  OperatorTest() : ctx_{store_, log_, clock_, rand_, {}} {
    register_server("s1", "11111111-1111-1111-1111-111111111111", "10.0.0.1", 8300);
    register_server("s2", "22222222-2222-2222-2222-222222222222", "10.0.0.2", 8300);
    register_server("s3", "33333333-3333-3333-3333-333333333333", "10.0.0.3", 8305);
    // A service on another node that is not a server, on a port a server also uses.
    proto::Command web;
    auto* reg = web.mutable_catalog_register();
    reg->set_node("client1");
    reg->set_id("44444444-4444-4444-4444-444444444444");
    reg->set_address("10.0.0.9");
    reg->mutable_service()->set_id("web");
    reg->mutable_service()->set_service("web");
    reg->mutable_service()->set_port(8300);
    apply(web);

    log_.config.last_index = 1000;
    log_.config.term = 7;
    log_.config.servers = {server("10.0.0.1:8300", true, 1000, true),
                           server("10.0.0.2:8300", false, 999, true),
                           server("10.0.0.3:8305", false, 990, true)};
  }

  void apply(const proto::Command& cmd) {
    state::ApplyResult r = store_.apply(++index_, cmd);
    ASSERT_TRUE(r.status.has_value()) << r.status.error().message;
    store_.publish();
  }

  // As the daemon registers a server: its node, serfHealth, and a "consul" instance on its
  // server port carrying raft_version and version meta.
  void register_server(const std::string& name, const std::string& id, const std::string& ip,
                       int port, const std::string& serf_status = "passing") {
    proto::Command cmd;
    auto* reg = cmd.mutable_catalog_register();
    reg->set_node(name);
    reg->set_id(id);
    reg->set_address(ip);
    auto* consul = reg->mutable_service();
    consul->set_id("consul");
    consul->set_service("consul");
    consul->set_port(port);
    for (auto [k, v] :
         {std::pair<const char*, const char*>{"raft_version", "3"}, {"version", "1.21.0"}}) {
      auto* meta = consul->add_meta();
      meta->set_key(k);
      meta->set_value(v);
    }
    auto* serf = reg->mutable_check();
    serf->set_node(name);
    serf->set_check_id("serfHealth");
    serf->set_name("Serf Health Status");
    serf->set_status(serf_status);
    apply(cmd);
  }

  core::Status remove_by_address(const std::string& address) {
    std::optional<core::Status> out;
    raft_remove_peer_by_address(ctx_, address, [&](core::Status s) { out = std::move(s); });
    EXPECT_TRUE(out.has_value());
    return out.value_or(core::ok());
  }
  core::Status remove_by_id(const std::string& id) {
    std::optional<core::Status> out;
    raft_remove_peer_by_id(ctx_, id, [&](core::Status s) { out = std::move(s); });
    EXPECT_TRUE(out.has_value());
    return out.value_or(core::ok());
  }
  core::Status transfer(const std::string& id) {
    std::optional<core::Status> out;
    raft_transfer_leader(ctx_, id, [&](core::Status s) { out = std::move(s); });
    EXPECT_TRUE(out.has_value());
    return out.value_or(core::ok());
  }

  state::Store store_;
  FakeLog log_;
  ManualClock clock_;
  core::SystemRand rand_{1};
  Context ctx_;
  std::uint64_t index_ = 0;
};

TEST_F(OperatorTest, ConfigurationNamesServersThroughTheCatalog) {
  RaftConfigurationReply reply = raft_configuration(ctx_);
  EXPECT_EQ(reply.index, 1000u);
  ASSERT_EQ(reply.servers.size(), 3u);
  const RaftPeer& leader = reply.servers[0];
  EXPECT_EQ(leader.id, "11111111-1111-1111-1111-111111111111");
  EXPECT_EQ(leader.node, "s1");
  EXPECT_EQ(leader.address, "10.0.0.1:8300");
  EXPECT_TRUE(leader.leader);
  EXPECT_TRUE(leader.voter);
  EXPECT_EQ(leader.protocol_version, "3");
  EXPECT_EQ(leader.last_index, 1000u);
  EXPECT_EQ(reply.servers[1].node, "s2");
  EXPECT_FALSE(reply.servers[1].leader);
  EXPECT_EQ(reply.servers[1].last_index, 999u);
  // The port matters: s3 serves Raft on 8305.
  EXPECT_EQ(reply.servers[2].id, "33333333-3333-3333-3333-333333333333");
  EXPECT_EQ(reply.servers[2].node, "s3");
}

TEST_F(OperatorTest, ConfigurationShowsAServerTheCatalogDoesNotKnowByItsAddress) {
  log_.config.servers.push_back(server("10.0.0.9:8300", false, 0, false));  // client1's IP
  log_.config.servers.push_back(server("10.0.0.1:8301", false, 0, false, false));
  RaftConfigurationReply reply = raft_configuration(ctx_);
  ASSERT_EQ(reply.servers.size(), 5u);
  for (const RaftPeer& p : {reply.servers[3], reply.servers[4]}) {
    EXPECT_EQ(p.id, p.address);
    EXPECT_EQ(p.node, "(unknown)");
    EXPECT_EQ(p.protocol_version, "unknown");
  }
  EXPECT_FALSE(reply.servers[4].voter);
}

TEST_F(OperatorTest, RemovePeerByAddressChecksTheConfigurationFirst) {
  core::Status missing = remove_by_address("10.0.0.7:8300");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::Code::kNotFound);
  EXPECT_EQ(missing.error().message,
            "address \"10.0.0.7:8300\" was not found in the Raft configuration");
  EXPECT_TRUE(log_.removed.empty());

  EXPECT_TRUE(remove_by_address("10.0.0.2:8300"));
  EXPECT_EQ(log_.removed, std::vector<std::string>{"10.0.0.2:8300"});
}

TEST_F(OperatorTest, RemovePeerByIdMapsTheNodeIdToItsRaftAddress) {
  EXPECT_TRUE(remove_by_id("33333333-3333-3333-3333-333333333333"));
  EXPECT_EQ(log_.removed, std::vector<std::string>{"10.0.0.3:8305"});

  // A node that is not a server, and an ID nobody has.
  for (const char* id :
       {"44444444-4444-4444-4444-444444444444", "55555555-5555-5555-5555-555555555555", ""}) {
    core::Status s = remove_by_id(id);
    ASSERT_FALSE(s) << id;
    EXPECT_EQ(s.error().message,
              "id \"" + std::string(id) + "\" was not found in the Raft configuration");
  }
  EXPECT_EQ(log_.removed.size(), 1u);

  // An unnamed server answers to its address, as the configuration shows it as its ID.
  log_.config.servers.push_back(server("10.0.0.8:8300", false, 0, false));
  EXPECT_TRUE(remove_by_id("10.0.0.8:8300"));
  EXPECT_EQ(log_.removed.back(), "10.0.0.8:8300");
}

TEST_F(OperatorTest, RemovePeerPassesOnTheLogsRefusal) {
  log_.next_status = core::make_error(core::Code::kNotLeader, "No cluster leader");
  core::Status s = remove_by_address("10.0.0.2:8300");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, core::Code::kNotLeader);
  EXPECT_EQ(s.error().message, "No cluster leader");
}

TEST_F(OperatorTest, TransferLeaderToAnyOrToANamedServer) {
  EXPECT_TRUE(transfer(""));
  EXPECT_TRUE(transfer("22222222-2222-2222-2222-222222222222"));
  EXPECT_EQ(log_.transferred, (std::vector<std::string>{"", "10.0.0.2:8300"}));

  core::Status unknown = transfer("nope");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::Code::kNotFound);
  EXPECT_EQ(unknown.error().message, "Could not find address for server id nope");
  EXPECT_EQ(log_.transferred.size(), 2u);

  log_.next_status = core::make_error(core::Code::kTimeout, "leadership transfer timed out");
  core::Status failed = transfer("");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "leadership transfer timed out");
}

TEST_F(OperatorTest, HealthyClusterOfThreeToleratesOneFailure) {
  ServerStability stability;
  AutopilotHealth h = autopilot_health(ctx_, stability);
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.failure_tolerance, 1);
  ASSERT_EQ(h.servers.size(), 3u);
  const ServerHealth& leader = h.servers[0];
  EXPECT_EQ(leader.id, "11111111-1111-1111-1111-111111111111");
  EXPECT_EQ(leader.name, "s1");
  EXPECT_EQ(leader.address, "10.0.0.1:8300");
  EXPECT_EQ(leader.serf_status, "alive");
  EXPECT_EQ(leader.version, "1.21.0");
  EXPECT_TRUE(leader.leader);
  EXPECT_EQ(leader.last_contact, core::Duration(0));
  EXPECT_EQ(leader.last_term, 7u);
  EXPECT_EQ(leader.last_index, 1000u);
  EXPECT_TRUE(leader.voter);
  EXPECT_EQ(leader.stable_since, clock_.wall);
  for (const ServerHealth& s : h.servers) EXPECT_TRUE(s.healthy) << s.address;
}

TEST_F(OperatorTest, AServerIsUnhealthyWhenSilentTrailingOrFailed) {
  ServerStability stability;
  // Trailing by exactly MaxTrailingLogs is still healthy; one more is not.
  log_.config.servers[1].match_index = 1000 - kAutopilotMaxTrailingLogs;
  log_.config.servers[2].match_index = 1000 - kAutopilotMaxTrailingLogs - 1;
  AutopilotHealth h = autopilot_health(ctx_, stability);
  EXPECT_TRUE(h.servers[1].healthy);
  EXPECT_FALSE(h.servers[2].healthy);
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.failure_tolerance, 0);

  // Not heard from within an election timeout.
  log_.config.servers[2].match_index = 1000;
  log_.config.servers[2].recently_active = false;
  h = autopilot_health(ctx_, stability);
  EXPECT_FALSE(h.servers[2].healthy);
  EXPECT_EQ(h.servers[2].last_contact, core::Duration(-1));

  // Heard from, but its node's serfHealth is critical.
  log_.config.servers[2].recently_active = true;
  register_server("s3", "33333333-3333-3333-3333-333333333333", "10.0.0.3", 8305, "critical");
  h = autopilot_health(ctx_, stability);
  EXPECT_EQ(h.servers[2].serf_status, "failed");
  EXPECT_FALSE(h.servers[2].healthy);

  // A server the catalog does not know: serf status "none", unhealthy, as Consul counts a
  // server missing from its LAN pool.
  log_.config.servers.push_back(server("10.0.0.8:8300", false, 1000, true, false));
  h = autopilot_health(ctx_, stability);
  ASSERT_EQ(h.servers.size(), 4u);
  EXPECT_EQ(h.servers[3].serf_status, "none");
  EXPECT_EQ(h.servers[3].id, "10.0.0.8:8300");
  EXPECT_EQ(h.servers[3].name, "");
  EXPECT_FALSE(h.servers[3].healthy);
}

TEST_F(OperatorTest, AFollowerReportsItsOwnLastContactWithTheLeader) {
  ServerStability stability;
  ctx_.identity.advertise_address = "10.0.0.2";
  ctx_.identity.server_port = 8300;
  log_.last_contact_ms = 42;
  AutopilotHealth h = autopilot_health(ctx_, stability);
  EXPECT_EQ(h.servers[1].last_contact, core::Duration(42ms));
  EXPECT_EQ(h.servers[0].last_contact, core::Duration(0));
  EXPECT_EQ(h.servers[2].last_contact, core::Duration(0));
}

TEST_F(OperatorTest, TrailingIsOnlyJudgedOnceTheLeadersLogIsLongerThanTheLimit) {
  ServerStability stability;
  log_.config.last_index = 200;
  log_.config.servers[0].match_index = 200;
  log_.config.servers[1].match_index = 0;
  log_.config.servers[2].match_index = 0;
  EXPECT_TRUE(autopilot_health(ctx_, stability).healthy);
}

TEST_F(OperatorTest, FailureToleranceCountsHealthyVotersBeyondAQuorum) {
  ServerStability stability;
  log_.config.servers.push_back(server("10.0.0.4:8300", false, 1000, true));
  log_.config.servers.push_back(server("10.0.0.5:8300", false, 1000, true));
  for (const auto& [name, ip] :
       {std::pair<const char*, const char*>{"s4", "10.0.0.4"}, {"s5", "10.0.0.5"}}) {
    register_server(name, std::string(8, name[1]) + "-0000-0000-0000-000000000000", ip, 8300);
  }
  EXPECT_EQ(autopilot_health(ctx_, stability).failure_tolerance, 2);
  // A non-voter counts neither way.
  log_.config.servers[4].voter = false;
  EXPECT_EQ(autopilot_health(ctx_, stability).failure_tolerance, 1);
  // Two of four voters unhealthy: no tolerance left (never negative).
  log_.config.servers[3].recently_active = false;
  log_.config.servers[2].recently_active = false;
  AutopilotHealth h = autopilot_health(ctx_, stability);
  EXPECT_EQ(h.failure_tolerance, 0);
  EXPECT_FALSE(h.healthy);
}

TEST_F(OperatorTest, StableSinceMovesOnlyWhenHealthChanges) {
  ServerStability stability;
  const core::WallTime t0 = clock_.wall;
  autopilot_health(ctx_, stability);
  clock_.wall += 5s;
  AutopilotHealth h = autopilot_health(ctx_, stability);
  EXPECT_EQ(h.servers[1].stable_since, t0);

  log_.config.servers[1].recently_active = false;
  clock_.wall += 5s;
  h = autopilot_health(ctx_, stability);
  EXPECT_EQ(h.servers[1].stable_since, t0 + 10s);
  EXPECT_EQ(h.servers[2].stable_since, t0);

  log_.config.servers[1].recently_active = true;
  clock_.wall += 5s;
  h = autopilot_health(ctx_, stability);
  EXPECT_EQ(h.servers[1].stable_since, t0 + 15s);

  // A server that leaves the configuration and returns starts afresh.
  auto s3 = log_.config.servers[2];
  log_.config.servers.pop_back();
  autopilot_health(ctx_, stability);
  log_.config.servers.push_back(s3);
  clock_.wall += 5s;
  h = autopilot_health(ctx_, stability);
  EXPECT_EQ(h.servers[2].stable_since, t0 + 20s);
}

}  // namespace
}  // namespace pc::endpoints
