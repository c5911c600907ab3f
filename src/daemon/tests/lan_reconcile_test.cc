// Reconcile's decisions (daemon/lan_reconcile.h): members + catalog rows → commands, after
// Consul's leader (handleAliveMember, handleFailedMember, handleLeftMember).
#include "daemon/lan_reconcile.h"

#include <gtest/gtest.h>

namespace pc::daemon {
namespace {

ReconcileMember member(std::string name, MemberHealth health, std::string address = "10.0.0.5") {
  ReconcileMember m;
  m.name = std::move(name);
  m.node_id = "id-" + m.name;
  m.address = std::move(address);
  m.datacenter = "dc1";
  m.health = health;
  return m;
}

CatalogNodeRow row(std::optional<std::string> serf, std::string address = "10.0.0.5") {
  CatalogNodeRow r;
  r.id = "id-x";
  r.address = std::move(address);
  r.meta = {{"rack", "r1"}};
  r.tagged_addresses = {{"lan", r.address}};
  r.serf_status = std::move(serf);
  return r;
}

ReconcileInput input_of(std::vector<ReconcileMember> members,
                        std::map<std::string, CatalogNodeRow> catalog = {}) {
  ReconcileInput in;
  in.datacenter = "dc1";
  in.self_name = "leader";
  in.members = std::move(members);
  in.catalog = std::move(catalog);
  return in;
}

void expect_serf(const proto::Command& cmd, const std::string& node, const std::string& status,
                 const std::string& output) {
  ASSERT_TRUE(cmd.has_catalog_register());
  const auto& reg = cmd.catalog_register();
  EXPECT_EQ(reg.node(), node);
  EXPECT_EQ(reg.datacenter(), "dc1");
  EXPECT_EQ(reg.check().check_id(), "serfHealth");
  EXPECT_EQ(reg.check().name(), "Serf Health Status");
  EXPECT_EQ(reg.check().node(), node);
  EXPECT_EQ(reg.check().status(), status);
  EXPECT_EQ(reg.check().output(), output);
  EXPECT_FALSE(reg.has_service());
}

TEST(LanReconcile, AliveMemberNotInTheCatalogIsRegisteredPassing) {
  auto cmds = reconcile_commands(input_of({member("c1", MemberHealth::kAlive)}));
  ASSERT_EQ(cmds.size(), 1u);
  expect_serf(cmds[0], "c1", "passing", "Agent alive and reachable");
  const auto& reg = cmds[0].catalog_register();
  EXPECT_EQ(reg.id(), "id-c1");
  EXPECT_EQ(reg.address(), "10.0.0.5");
  EXPECT_FALSE(reg.skip_node_update());
}

TEST(LanReconcile, AliveMemberKeepsTheNodeRowAndOnlyWritesTheCheck) {
  // The node is there (anti-entropy put it) but has no serfHealth, or a critical one.
  for (auto serf : {std::optional<std::string>{}, std::optional<std::string>{"critical"}}) {
    auto cmds =
        reconcile_commands(input_of({member("c1", MemberHealth::kAlive)}, {{"c1", row(serf)}}));
    ASSERT_EQ(cmds.size(), 1u);
    expect_serf(cmds[0], "c1", "passing", "Agent alive and reachable");
    EXPECT_TRUE(cmds[0].catalog_register().skip_node_update());
  }
  // Already passing at the same address: nothing to write.
  EXPECT_TRUE(
      reconcile_commands(input_of({member("c1", MemberHealth::kAlive)}, {{"c1", row("passing")}}))
          .empty());
}

TEST(LanReconcile, AMovedMemberIsReregisteredWithItsMeta) {
  auto cmds = reconcile_commands(input_of({member("c1", MemberHealth::kAlive, "10.0.0.9")},
                                          {{"c1", row("passing", "10.0.0.5")}}));
  ASSERT_EQ(cmds.size(), 1u);
  const auto& reg = cmds[0].catalog_register();
  EXPECT_FALSE(reg.skip_node_update());
  EXPECT_EQ(reg.address(), "10.0.0.9");
  ASSERT_EQ(reg.node_meta_size(), 1);
  EXPECT_EQ(reg.node_meta(0).key(), "rack");
  EXPECT_EQ(reg.tagged_addresses_size(), 1);
}

TEST(LanReconcile, FailedMemberTurnsCritical) {
  auto cmds =
      reconcile_commands(input_of({member("c1", MemberHealth::kFailed)}, {{"c1", row("passing")}}));
  ASSERT_EQ(cmds.size(), 1u);
  expect_serf(cmds[0], "c1", "critical", "Agent not live or unreachable");
  EXPECT_TRUE(cmds[0].catalog_register().skip_node_update());
  // Already critical: nothing; never registered: ignored (as Consul does).
  EXPECT_TRUE(
      reconcile_commands(input_of({member("c1", MemberHealth::kFailed)}, {{"c1", row("critical")}}))
          .empty());
  EXPECT_TRUE(reconcile_commands(input_of({member("c1", MemberHealth::kFailed)})).empty());
}

TEST(LanReconcile, LeftMemberIsDeregisteredUnlessSelfOrARaftServer) {
  auto cmds =
      reconcile_commands(input_of({member("c1", MemberHealth::kLeft)}, {{"c1", row("passing")}}));
  ASSERT_EQ(cmds.size(), 1u);
  ASSERT_TRUE(cmds[0].has_catalog_deregister());
  EXPECT_EQ(cmds[0].catalog_deregister().node(), "c1");
  EXPECT_TRUE(cmds[0].catalog_deregister().service_id().empty());
  EXPECT_TRUE(cmds[0].catalog_deregister().check_id().empty());

  ReconcileMember server = member("s2", MemberHealth::kLeft);
  server.in_raft_configuration = true;
  ReconcileMember self = member("leader", MemberHealth::kLeft);
  EXPECT_TRUE(reconcile_commands(
                  input_of({server, self}, {{"s2", row("passing")}, {"leader", row("passing")}}))
                  .empty());
  // Gone already: nothing to deregister.
  EXPECT_TRUE(reconcile_commands(input_of({member("c1", MemberHealth::kLeft)})).empty());
}

TEST(LanReconcile, AliveServerCarriesTheConsulService) {
  ReconcileMember server = member("s1", MemberHealth::kAlive);
  server.server = true;
  server.server_port = 8300;
  server.build = "1.2.3";
  // Passing, but no "consul" service yet (or on another port): written with the check.
  for (auto port : {std::optional<int>{}, std::optional<int>{18300}}) {
    CatalogNodeRow r = row("passing");
    r.consul_service_port = port;
    auto cmds = reconcile_commands(input_of({server}, {{"s1", r}}));
    ASSERT_EQ(cmds.size(), 1u);
    const auto& reg = cmds[0].catalog_register();
    ASSERT_TRUE(reg.has_service());
    EXPECT_EQ(reg.service().id(), "consul");
    EXPECT_EQ(reg.service().service(), "consul");
    EXPECT_EQ(reg.service().port(), 8300);
    EXPECT_EQ(reg.check().status(), "passing");
  }
  CatalogNodeRow done = row("passing");
  done.consul_service_port = 8300;
  EXPECT_TRUE(reconcile_commands(input_of({server}, {{"s1", done}})).empty());
  // A failed server's registration is the check alone.
  server.health = MemberHealth::kFailed;
  auto cmds = reconcile_commands(input_of({server}, {{"s1", done}}));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_FALSE(cmds[0].catalog_register().has_service());
  EXPECT_EQ(cmds[0].catalog_register().check().status(), "critical");
}

TEST(LanReconcile, ConsulServiceMetaAsConsulWritesIt) {
  const proto::Service s = consul_service(8300, "1.2.3");
  std::map<std::string, std::string> meta;
  for (const auto& pair : s.meta()) meta[pair.key()] = pair.value();
  EXPECT_EQ(meta, (std::map<std::string, std::string>{{"raft_version", "3"},
                                                      {"serf_protocol_current", "2"},
                                                      {"serf_protocol_max", "5"},
                                                      {"serf_protocol_min", "1"},
                                                      {"version", "1.2.3"}}));
  EXPECT_EQ(s.weights().passing(), 1);
  EXPECT_EQ(s.weights().warning(), 1);
}

TEST(LanReconcile, MembersOfAnotherDatacenterAreIgnored) {
  ReconcileMember other = member("x1", MemberHealth::kAlive);
  other.datacenter = "dc2";
  EXPECT_TRUE(reconcile_commands(input_of({other})).empty());
}

TEST(LanReconcile, OneCommandPerMemberInOrder) {
  auto cmds = reconcile_commands(
      input_of({member("a", MemberHealth::kAlive), member("b", MemberHealth::kFailed),
                member("c", MemberHealth::kLeft), member("d", MemberHealth::kAlive)},
               {{"b", row("passing")}, {"c", row("passing")}, {"d", row("passing")}}));
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[0].catalog_register().node(), "a");
  EXPECT_EQ(cmds[1].catalog_register().node(), "b");
  EXPECT_EQ(cmds[2].catalog_deregister().node(), "c");
}

// Consul's reconcileReaped: serfHealth nodes the pool no longer knows under any status.
TEST(LanReconcile, ReapedNodesAreDeregisteredUnlessSelfOrARaftServer) {
  ReconcileInput in = input_of({member("c1", MemberHealth::kAlive)}, {{"c1", row("passing")}});
  in.pool_settled = true;
  SerfCheckedNode raft_server{"s9", true, true};
  in.serf_nodes = {{"c1", false, true},
                   {"gone", false, true},
                   {"leader", false, true},
                   raft_server,
                   {"gone2", false, false}};
  auto cmds = reconcile_commands(in);
  ASSERT_EQ(cmds.size(), 2u);
  ASSERT_TRUE(cmds[0].has_catalog_deregister());
  EXPECT_EQ(cmds[0].catalog_deregister().node(), "gone");
  ASSERT_TRUE(cmds[1].has_catalog_deregister());
  EXPECT_EQ(cmds[1].catalog_deregister().node(), "gone2");
}

TEST(LanReconcile, AnUnsettledPoolReapsOnlyWhatItSawAndForgot) {
  // A leader whose pool has not joined yet knows nobody: that is not everyone reaped.
  ReconcileInput in = input_of({member("leader", MemberHealth::kAlive)});
  in.serf_nodes = {{"never-seen", false, false}, {"forgotten", false, true}};
  auto cmds = reconcile_commands(in);
  ASSERT_EQ(cmds.size(), 2u);  // the leader's own serfHealth, then the one reap
  ASSERT_TRUE(cmds[1].has_catalog_deregister());
  EXPECT_EQ(cmds[1].catalog_deregister().node(), "forgotten");
  in.pool_settled = true;
  EXPECT_EQ(reconcile_commands(in).size(), 3u);
}

TEST(LanReconcile, MembersUnderAnyStatusAreNotReaped) {
  // Failed and left members are still known to the pool: their own rules apply, not reaping.
  ReconcileInput in =
      input_of({member("f", MemberHealth::kFailed), member("l", MemberHealth::kLeft)},
               {{"f", row("critical")}});
  in.pool_settled = true;
  in.serf_nodes = {{"f", false, true}, {"l", false, true}};
  EXPECT_TRUE(reconcile_commands(in).empty());
  // A member of another datacenter is ignored by the member rules but still known.
  ReconcileMember other = member("x", MemberHealth::kAlive);
  other.datacenter = "dc2";
  ReconcileInput in2 = input_of({other});
  in2.pool_settled = true;
  in2.serf_nodes = {{"x", false, true}};
  EXPECT_TRUE(reconcile_commands(in2).empty());
}

TEST(LanReconcile, ReapingFollowsTheMemberCommands) {
  ReconcileInput in = input_of({member("c1", MemberHealth::kAlive)});
  in.serf_nodes = {{"old", false, true}};
  auto cmds = reconcile_commands(in);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_TRUE(cmds[0].has_catalog_register());
  ASSERT_TRUE(cmds[1].has_catalog_deregister());
  EXPECT_EQ(cmds[1].catalog_deregister().node(), "old");
}

}  // namespace
}  // namespace pc::daemon
