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

TEST(Rtt, LanNamesMatchWithoutRegardToCase) {
  Harness h;
  h.reply(200, std::string(kCoordinates));
  EXPECT_EQ(h.run({"rtt", "A", "b"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "Estimated A <-> b rtt: 10.200 ms (using LAN coordinates)\n");
}

// Two datacenters' servers, named without their ".<dc>" suffix as Consul lists them: s1 in
// dc1 at the origin, s2 in dc2 20 ms away (heights 0.1 ms each: 20.2 ms).
constexpr std::string_view kDatacenters = R"([
  {"Datacenter":"dc1","AreaID":"wan","Coordinates":[
    {"Node":"s1","Segment":"","Coord":{"Vec":[0,0,0,0,0,0,0,0],"Error":0.2,"Adjustment":0,"Height":0.0001}}]},
  {"Datacenter":"dc2","AreaID":"wan","Coordinates":[
    {"Node":"s2","Segment":"","Coord":{"Vec":[0.02,0,0,0,0,0,0,0],"Error":0.2,"Adjustment":0,"Height":0.0001}}]}
])";

TEST(Rtt, WanEstimatesBetweenServersOfTwoDatacenters) {
  Harness h;
  h.reply(200, std::string(kDatacenters));
  EXPECT_EQ(h.run({"rtt", "-wan", "s1.dc1", "S2.dc2"}), 0) << h.err.str();
  EXPECT_EQ(h.requests[0].path, "/v1/coordinate/datacenters");
  EXPECT_EQ(h.out.str(), "Estimated s1.dc1 <-> S2.dc2 rtt: 20.200 ms (using WAN coordinates)\n");
}

TEST(Rtt, WanOneNameMeansTheAgentsServerInItsDatacenter) {
  Harness h;
  h.reply(200, R"({"Config":{"NodeName":"s1","Datacenter":"dc1"}})");
  h.reply(200, std::string(kDatacenters));
  EXPECT_EQ(h.run({"rtt", "-wan", "s2.dc2"}), 0) << h.err.str();
  EXPECT_EQ(h.requests[0].path, "/v1/agent/self");
  EXPECT_EQ(h.out.str(), "Estimated s2.dc2 <-> s1.dc1 rtt: 20.200 ms (using WAN coordinates)\n");
}

TEST(Rtt, WanNamesNeedTheirDatacenterAndMustBeKnown) {
  for (const char* bad : {"s1", "s1.dc1.consul"}) {
    Harness h;
    EXPECT_EQ(h.run({"rtt", "-wan", "s2.dc2", bad}), 1) << bad;
    EXPECT_EQ(h.err.str(), "Node names must be specified as <node name>.<datacenter> with -wan\n");
    EXPECT_TRUE(h.requests.empty());
  }
  Harness unknown;
  unknown.reply(200, std::string(kDatacenters));
  EXPECT_EQ(unknown.run({"rtt", "-wan", "s1.dc1", "s1.dc2"}), 1);
  EXPECT_EQ(unknown.err.str(), "Could not find a coordinate for node \"s1.dc2\"\n");
  Harness first;
  first.reply(200, std::string(kDatacenters));
  EXPECT_EQ(first.run({"rtt", "-wan", "s9.dc1", "s9.dc9"}), 1);
  EXPECT_EQ(first.err.str(), "Could not find a coordinate for node \"s9.dc1\"\n");
  // LAN names are not WAN names: a LAN-only node is not found with -wan.
  Harness lan;
  lan.reply(200, std::string(kDatacenters));
  EXPECT_EQ(lan.run({"rtt", "-wan", "a.dc1", "s1.dc1"}), 1);
}

}  // namespace
}  // namespace pc::cli
