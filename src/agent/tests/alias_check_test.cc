// The alias rule (Consul's CheckAlias.processChecks) on hand-made check lists.
#include "agent/alias_check.h"

#include <gtest/gtest.h>

namespace pc::agent {
namespace {

state::HealthCheck check(std::string node, std::string id, std::string service_id,
                         std::string status, std::string output = "") {
  state::HealthCheck c;
  c.node = std::move(node);
  c.check_id = id;
  c.name = "check " + id;
  c.service_id = std::move(service_id);
  c.status = std::move(status);
  c.output = std::move(output);
  return c;
}

TEST(AliasCheck, WorstOfTheServiceAndNodeChecks) {
  AliasTarget web{"", "web-1", "alias"};
  std::vector<state::HealthCheck> checks = {
      check("n1", "a", "web-1", "passing"),
      check("n1", "b", "other", "critical", "ignored: another service"),
  };
  EXPECT_EQ(alias_outcome(web, checks, true), (AliasOutcome{"passing", "All checks passing."}));
  checks.push_back(check("n1", "node-disk", "", "warning", "disk 91%"));
  EXPECT_EQ(alias_outcome(web, checks, true),
            (AliasOutcome{"warning", "Aliased check \"check node-disk\" failing: disk 91%"}));
  checks.push_back(check("n1", "c", "web-1", "critical", "connection refused"));
  checks.push_back(check("n1", "d", "web-1", "warning", "later warning"));
  EXPECT_EQ(alias_outcome(web, checks, true),
            (AliasOutcome{"critical", "Aliased check \"check c\" failing: connection refused"}));
}

TEST(AliasCheck, AServiceWithoutChecksPassesAMissingOneIsCritical) {
  AliasTarget web{"n2", "web-1", "alias"};
  EXPECT_EQ(alias_outcome(web, {}, true), (AliasOutcome{"passing", "No checks found."}));
  EXPECT_EQ(alias_outcome(web, {}, false),
            (AliasOutcome{"critical", "Service web-1 could not be found on node n2"}));
  // Checks of another node do not count when AliasNode is set.
  EXPECT_EQ(alias_outcome(web, {check("n3", "a", "web-1", "critical")}, true),
            (AliasOutcome{"passing", "No checks found."}));
}

TEST(AliasCheck, ANodeAliasFollowsTheNodesOwnChecks) {
  AliasTarget node{"n2", "", "alias"};
  std::vector<state::HealthCheck> checks = {check("n2", "serfHealth", "", "passing"),
                                            check("n2", "svc", "web-1", "critical")};
  EXPECT_EQ(alias_outcome(node, checks, false), (AliasOutcome{"passing", "All checks passing."}));
  checks[0].status = "critical";
  checks[0].output = "Agent not live or unreachable";
  EXPECT_EQ(alias_outcome(node, checks, false).status, "critical");
}

TEST(AliasCheck, TheAliasCheckItselfIsNeverCounted) {
  AliasTarget local{"", "web-1", "alias"};
  std::vector<state::HealthCheck> checks = {check("n1", "alias", "", "critical"),
                                            check("n1", "a", "web-1", "passing")};
  EXPECT_EQ(alias_outcome(local, checks, true).status, "passing");
}

}  // namespace
}  // namespace pc::agent
