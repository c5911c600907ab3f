// `proconsul rtt`: Consul's output line, the agent's own node when one name is given, and
// its errors for unknown nodes and bad arguments.
#include <gtest/gtest.h>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

// Two nodes 10 ms apart on the first axis, with heights of 0.1 ms each: 10.2 ms.
constexpr std::string_view kCoordinates = R"([
  {"Node":"a","Segment":"","Coord":{"Vec":[0,0,0,0,0,0,0,0],"Error":0.2,"Adjustment":0,"Height":0.0001}},
  {"Node":"b","Segment":"","Coord":{"Vec":[0.01,0,0,0,0,0,0,0],"Error":0.2,"Adjustment":0,"Height":0.0001}}
])";

TEST(Rtt, EstimatesBetweenTwoNodes) {
  Harness h;
  h.reply(200, std::string(kCoordinates));
  EXPECT_EQ(h.run({"rtt", "a", "b"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "Estimated a <-> b rtt: 10.200 ms (using LAN coordinates)\n");
  EXPECT_EQ(h.requests[0].path, "/v1/coordinate/nodes");
}

TEST(Rtt, OneNameMeansTheAgentsOwnNode) {
  Harness h;
  h.reply(200, R"({"Config":{"NodeName":"b"}})");
  h.reply(200, std::string(kCoordinates));
  EXPECT_EQ(h.run({"rtt", "a"}), 0) << h.err.str();
  EXPECT_EQ(h.requests[0].path, "/v1/agent/self");
  EXPECT_EQ(h.out.str(), "Estimated a <-> b rtt: 10.200 ms (using LAN coordinates)\n");
}

TEST(Rtt, UnknownNodeAndBadArguments) {
  Harness h;
  h.reply(200, std::string(kCoordinates));
  EXPECT_EQ(h.run({"rtt", "a", "ghost"}), 1);
  EXPECT_EQ(h.err.str(), "Could not find a coordinate for node \"ghost\"\n");
  Harness none;
  EXPECT_EQ(none.run({"rtt"}), 1);
  EXPECT_EQ(none.err.str().rfind("One or two node names must be specified", 0), 0u);
  Harness three;
  EXPECT_EQ(three.run({"rtt", "a", "b", "c"}), 1);
  EXPECT_TRUE(three.requests.empty());
}

}  // namespace
}  // namespace pc::cli
