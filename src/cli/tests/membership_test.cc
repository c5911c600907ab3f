// join, leave and force-leave: Consul's requests, output texts and exit codes.
#include <gtest/gtest.h>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

TEST(Join, EachAddressIsJoinedAndCounted) {
  Harness h;
  h.reply(200, "");
  h.reply(500, "Failed to join any of 10.0.0.9: no member answered at those addresses");
  h.reply(200, "");
  EXPECT_EQ(h.run({"join", "-wan", "10.0.0.1", "10.0.0.9", "10.0.0.2:8302"}), 0);
  ASSERT_EQ(h.requests.size(), 3u);
  EXPECT_EQ(h.requests[0].method, "PUT");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/join/10.0.0.1?wan=1");
  EXPECT_EQ(h.requests[2].path, "/v1/agent/join/10.0.0.2:8302?wan=1");
  EXPECT_EQ(h.out.str(), "Successfully joined cluster by contacting 2 nodes.\n");
  EXPECT_EQ(h.err.str(),
            "Error joining address '10.0.0.9': Unexpected response code: 500 (Failed to join "
            "any of 10.0.0.9: no member answered at those addresses)\n");
}

TEST(Join, LanByDefaultAndFailureWhenNoneAnswers) {
  Harness h;
  h.reply(500, "no");
  EXPECT_EQ(h.run({"join", "127.0.0.1:8301"}), 1);
  EXPECT_EQ(h.requests[0].path, "/v1/agent/join/127.0.0.1:8301");
  EXPECT_NE(h.err.str().find("Failed to join any nodes.\n"), std::string::npos) << h.err.str();
  EXPECT_EQ(h.out.str(), "");

  Harness none;
  EXPECT_EQ(none.run({"join"}), 1);
  EXPECT_EQ(none.err.str().rfind("At least one address to join must be specified.\n", 0), 0u);
  EXPECT_TRUE(none.requests.empty());
}

TEST(Leave, GracefulLeaveComplete) {
  Harness h;
  h.reply(200, "");
  EXPECT_EQ(h.run({"leave"}), 0);
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "PUT");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/leave");
  EXPECT_EQ(h.out.str(), "Graceful leave complete\n");

  Harness failed;
  failed.fail("dial tcp 127.0.0.1:8500: connect: connection refused");
  EXPECT_EQ(failed.run({"leave"}), 1);
  EXPECT_EQ(failed.out.str(), "");
  EXPECT_NE(failed.err.str().find("connection refused"), std::string::npos) << failed.err.str();

  Harness extra;
  EXPECT_EQ(extra.run({"leave", "now"}), 1);
  EXPECT_EQ(extra.err.str(), "Error found unexpected args: [now]\n");
  EXPECT_TRUE(extra.requests.empty());
}

TEST(ForceLeave, PutsTheNodeWithPruneAndWan) {
  Harness h;
  h.reply(200, "");
  EXPECT_EQ(h.run({"force-leave", "-prune", "-wan", "s2.dc2"}), 0);
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "PUT");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/force-leave/s2.dc2?prune=1&wan=1");
  EXPECT_EQ(h.out.str(), "") << "Consul prints nothing on success";

  Harness plain;
  plain.reply(200, "");
  EXPECT_EQ(plain.run({"force-leave", "node-1"}), 0);
  EXPECT_EQ(plain.requests[0].path, "/v1/agent/force-leave/node-1");
}

TEST(ForceLeave, ErrorsAndUsage) {
  Harness h;
  h.reply(500, "agent: No node found with name 'ghost'");
  EXPECT_EQ(h.run({"force-leave", "ghost"}), 1);
  EXPECT_EQ(h.err.str(),
            "Error force leaving: Unexpected response code: 500 (agent: No node found with name "
            "'ghost')\n");

  for (std::vector<std::string> args :
       {std::vector<std::string>{"force-leave"}, {"force-leave", "a", "b"}}) {
    Harness usage;
    EXPECT_EQ(usage.run(args), 1);
    EXPECT_EQ(usage.err.str().rfind("A single node name must be specified to force leave.\n", 0),
              0u);
    EXPECT_TRUE(usage.requests.empty());
  }
}

TEST(Reload, PutsAgentReloadAndReportsTheAgentsError) {
  Harness h;
  h.reply(200, "");
  EXPECT_EQ(h.run({"reload"}), 0);
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "PUT");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/reload");
  EXPECT_EQ(h.out.str(), "Configuration reload triggered\n");

  Harness failed;
  failed.reply(500, "Error parsing /etc/pc/web.json: At 2:3: invalid config key service.prot");
  EXPECT_EQ(failed.run({"reload"}), 1);
  EXPECT_EQ(failed.out.str(), "");
  EXPECT_EQ(failed.err.str().rfind("Error reloading: ", 0), 0u) << failed.err.str();
  EXPECT_NE(failed.err.str().find("invalid config key service.prot"), std::string::npos)
      << failed.err.str();

  Harness extra;
  EXPECT_EQ(extra.run({"reload", "now"}), 1);
  EXPECT_EQ(extra.err.str(), "Too many arguments (expected 0, got 1)\n");
  EXPECT_TRUE(extra.requests.empty());
}

}  // namespace
}  // namespace pc::cli
