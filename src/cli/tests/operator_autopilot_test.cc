// operator autopilot get-config / set-config: Consul's lines, requests and texts.
#include <gtest/gtest.h>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

constexpr const char* kConfig = R"({"CleanupDeadServers":false,"LastContactThreshold":"200ms",
  "MaxTrailingLogs":250,"MinQuorum":3,"ServerStabilizationTime":"10s","RedundancyZoneTag":"",
  "DisableUpgradeMigration":false,"UpgradeVersionTag":"","CreateIndex":4,"ModifyIndex":9})";

TEST(OperatorAutopilot, GetConfigPrintsOneLinePerSetting) {
  Harness h;
  h.reply(200, kConfig);
  EXPECT_EQ(h.run({"operator", "autopilot", "get-config"}), 0) << h.err.str();
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/operator/autopilot/configuration");
  EXPECT_EQ(h.out.str(),
            "CleanupDeadServers = false\n"
            "LastContactThreshold = 200ms\n"
            "MaxTrailingLogs = 250\n"
            "MinQuorum = 3\n"
            "ServerStabilizationTime = 10s\n"
            "RedundancyZoneTag = \"\"\n"
            "DisableUpgradeMigration = false\n"
            "UpgradeVersionTag = \"\"\n");
}

TEST(OperatorAutopilot, GetConfigReportsFailures) {
  Harness h;
  h.reply(500, "No cluster leader");
  EXPECT_EQ(h.run({"operator", "autopilot", "get-config"}), 1);
  EXPECT_EQ(h.err.str(),
            "Error querying Autopilot configuration: Unexpected response code: 500 (No cluster "
            "leader)\n");
}

TEST(OperatorAutopilot, SetConfigChangesOnlyTheGivenFlagsWithCas) {
  Harness h;
  h.reply(200, kConfig);
  h.reply(200, "true");
  EXPECT_EQ(h.run({"operator", "autopilot", "set-config", "-cleanup-dead-servers=true",
                   "-last-contact-threshold=1s"}),
            0)
      << h.err.str();
  EXPECT_EQ(h.out.str(), "Configuration updated!\n");
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[1].method, "PUT");
  EXPECT_EQ(h.requests[1].path, "/v1/operator/autopilot/configuration?cas=9");
  const std::string& body = h.requests[1].body;
  EXPECT_NE(body.find("\"CleanupDeadServers\":true"), std::string::npos) << body;
  EXPECT_NE(body.find("\"LastContactThreshold\":\"1s\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"MinQuorum\":3"), std::string::npos) << body;
  EXPECT_NE(body.find("\"ServerStabilizationTime\":\"10s\""), std::string::npos) << body;
}

TEST(OperatorAutopilot, SetConfigLostRaceAndRefusal) {
  Harness h;
  h.reply(200, kConfig);
  h.reply(200, "false");
  EXPECT_EQ(h.run({"operator", "autopilot", "set-config", "-min-quorum=5"}), 1);
  EXPECT_EQ(h.out.str(), "Configuration could not be atomically updated, please try again\n");

  Harness h2;
  h2.reply(200, kConfig);
  h2.reply(501, "not supported");
  EXPECT_EQ(h2.run({"operator", "autopilot", "set-config", "-min-quorum=5"}), 1);
  EXPECT_EQ(h2.err.str(),
            "Error setting Autopilot configuration: Unexpected response code: 501 (not "
            "supported)\n");
}

}  // namespace
}  // namespace pc::cli
