// `proconsul info`: Consul's layout of /v1/agent/self "Stats".
#include <gtest/gtest.h>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

TEST(Info, PrintsSortedSectionsAndKeys) {
  Harness h;
  h.reply(200, R"({"Config":{"Datacenter":"dc1"},"Member":{},
    "Stats":{"raft":{"state":"Leader","applied_index":"12"},
             "agent":{"checks":"0","services":"1"},
             "build":{"version":"0.1.0","prerelease":""}}})");
  EXPECT_EQ(h.run({"info"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "agent:\n"
            "\tchecks = 0\n"
            "\tservices = 1\n"
            "build:\n"
            "\tprerelease = \n"
            "\tversion = 0.1.0\n"
            "raft:\n"
            "\tapplied_index = 12\n"
            "\tstate = Leader\n");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/self");
}

TEST(Info, NonStringStatsPrintAsJson) {
  Harness h;
  h.reply(200, R"({"Stats":{"runtime":{"goroutines":3,"arch":"amd64"}}})");
  EXPECT_EQ(h.run({"info"}), 0);
  EXPECT_EQ(h.out.str(), "runtime:\n\tarch = amd64\n\tgoroutines = 3\n");
}

TEST(Info, Errors) {
  Harness missing;
  missing.reply(200, R"({"Config":{}})");
  EXPECT_EQ(missing.run({"info"}), 1);
  EXPECT_EQ(missing.err.str(), "Agent response did not contain 'Stats' key: {\"Config\":{}}\n");

  Harness denied;
  denied.reply(403, "Permission denied");
  EXPECT_EQ(denied.run({"info", "-token", "t"}), 1);
  EXPECT_EQ(denied.err.str(),
            "Error querying agent: Unexpected response code: 403 (Permission denied)\n");
  EXPECT_EQ(*denied.requests[0].header("X-Consul-Token"), "t");

  Harness down;
  down.fail("Error querying agent at http://127.0.0.1:8500: connection refused");
  EXPECT_EQ(down.run({"info"}), 1);
  EXPECT_EQ(down.err.str(), "Error querying agent at http://127.0.0.1:8500: connection refused\n");

  // Consul's info takes only the client flags.
  Harness stale;
  EXPECT_EQ(stale.run({"info", "-stale"}), 1);
  EXPECT_EQ(stale.err.str().rfind("flag provided but not defined: -stale\n", 0), 0u);
}

}  // namespace
}  // namespace pc::cli
