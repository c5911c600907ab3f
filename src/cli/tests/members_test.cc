// members: Consul's Community Edition columns, ordering, -status, -detailed, errors.
#include <gtest/gtest.h>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

// A server, two clients (one failed, one with an IPv6 address) and a member of unknown role,
// listed out of order, as /v1/agent/members answers (api.AgentMember).
constexpr const char* kMembers = R"([
  {"Name":"zeta","Addr":"10.0.0.9","Port":8301,"Tags":{"role":"node","dc":"dc1",
   "build":"0.1.0:abcdef","vsn":"2","id":"x"},"Status":4,"ProtocolMin":1,"ProtocolMax":5,
   "ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},
  {"Name":"alpha","Addr":"::1","Port":8301,"Tags":{"role":"node","dc":"dc1","build":"0.1.0",
   "vsn":"2"},"Status":1},
  {"Name":"server-1","Addr":"127.0.0.1","Port":8301,"Tags":{"role":"consul","dc":"dc1",
   "build":"0.1.0","vsn":"2","port":"8300"},"Status":1},
  {"Name":"odd","Addr":"not-an-ip","Port":1,"Tags":{},"Status":9}])";

TEST(Members, CommunityEditionColumns) {
  Harness h;
  h.reply(200, kMembers);
  EXPECT_EQ(h.run({"members"}), 0) << h.err.str();
  EXPECT_EQ(h.err.str(), "");
  // Servers first, then (one partition, one segment here) by name.
  EXPECT_EQ(h.out.str(),
            "Node      Address         Status                  Type     Build  Protocol  DC   "
            "Partition  Segment\n"
            "server-1  127.0.0.1:8301  alive                   server   0.1.0  2         dc1  "
            "default    <all>\n"
            "alpha     [::1]:8301      alive                   client   0.1.0  2         dc1  "
            "default    <default>\n"
            "odd       :1              unknown MemberStatus 9  unknown                        "
            "           \n"
            "zeta      10.0.0.9:8301   failed                  client   0.1.0  2         dc1  "
            "default    <default>\n");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/members?segment=_all");
}

TEST(Members, DetailedPrintsAllTags) {
  Harness h;
  h.reply(200, R"([{"Name":"server-1","Addr":"127.0.0.1","Port":8301,
    "Tags":{"role":"consul","dc":"dc1","vsn":"2"},"Status":1}])");
  EXPECT_EQ(h.run({"members", "-detailed"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "Node      Address         Status  Tags\n"
            "server-1  127.0.0.1:8301  alive   "
            "dc=dc1,partition=default,role=consul,segment=<all>,vsn=2\n");
}

TEST(Members, StatusFilter) {
  Harness failed;
  failed.reply(200, kMembers);
  EXPECT_EQ(failed.run({"members", "-status=fail"}), 0);
  EXPECT_EQ(failed.out.str(),
            "Node  Address        Status  Type    Build  Protocol  DC   Partition  Segment\n"
            "zeta  10.0.0.9:8301  failed  client  0.1.0  2         dc1  default    <default>\n");

  // Nothing matches: nothing printed, exit 2, as Consul.
  Harness none;
  none.reply(200, kMembers);
  EXPECT_EQ(none.run({"members", "-status", "^left$"}), 2);
  EXPECT_EQ(none.out.str(), "");
  EXPECT_EQ(none.err.str(), "");

  Harness bad;
  EXPECT_EQ(bad.run({"members", "-status=("}), 1);
  EXPECT_EQ(bad.err.str().rfind("Failed to compile status regexp: ", 0), 0u) << bad.err.str();
  EXPECT_TRUE(bad.requests.empty());
}

TEST(Members, BuildWithoutATagAndFilter) {
  Harness h;
  h.reply(200, R"([{"Name":"old","Addr":"10.1.1.1","Port":8301,"Tags":{"role":"node"},
                    "Status":3}])");
  EXPECT_EQ(h.run({"members", "-filter", "Name == old"}), 0);
  EXPECT_EQ(h.requests[0].path, "/v1/agent/members?filter=Name%20%3D%3D%20old&segment=_all");
  EXPECT_EQ(h.out.str(),
            "Node  Address        Status  Type    Build  Protocol  DC  Partition  Segment\n"
            "old   10.1.1.1:8301  left    client  < 0.3                default    <default>\n");
}

TEST(Members, WanListsTheServersOfEveryDatacenter) {
  Harness h;
  h.reply(200, R"([
    {"Name":"s2.dc2","Addr":"127.0.0.2","Port":8302,"Tags":{"role":"consul","dc":"dc2",
     "build":"0.1.0","vsn":"2","port":"8300"},"Status":4},
    {"Name":"s1.dc1","Addr":"127.0.0.1","Port":8302,"Tags":{"role":"consul","dc":"dc1",
     "build":"0.1.0","vsn":"2","port":"8300"},"Status":1}])");
  EXPECT_EQ(h.run({"members", "-wan"}), 0) << h.err.str();
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].path, "/v1/agent/members?segment=_all&wan=1");
  EXPECT_EQ(h.out.str(),
            "Node    Address         Status  Type    Build  Protocol  DC   Partition  Segment\n"
            "s1.dc1  127.0.0.1:8302  alive   server  0.1.0  2         dc1  default    <all>\n"
            "s2.dc2  127.0.0.2:8302  failed  server  0.1.0  2         dc2  default    <all>\n");
  // A client agent has no WAN pool: no members, nothing printed, exit 2 (Consul's).
  Harness client;
  client.reply(200, "[]");
  EXPECT_EQ(client.run({"members", "-wan"}), 2);
  EXPECT_EQ(client.out.str(), "");
}

TEST(Members, Errors) {
  Harness status;
  status.reply(403, "Permission denied");
  EXPECT_EQ(status.run({"members"}), 1);
  EXPECT_EQ(status.err.str(),
            "Error retrieving members: Unexpected response code: 403 (Permission denied)\n");

  Harness down;
  down.fail("Error querying agent at http://127.0.0.1:8500: connection refused");
  EXPECT_EQ(down.run({"members"}), 1);
  EXPECT_EQ(down.err.str(), "Error querying agent at http://127.0.0.1:8500: connection refused\n");

  Harness garbage;
  garbage.reply(200, R"([{"Name":"x","Status":"alive"}])");
  EXPECT_EQ(garbage.run({"members"}), 1);
  EXPECT_EQ(garbage.err.str(),
            "Error retrieving members: Error decoding agent response: field Status: expected an "
            "integer\n");

  // Consul's members takes the client flags only.
  Harness dc;
  EXPECT_EQ(dc.run({"members", "-datacenter=dc1"}), 1);
  EXPECT_EQ(dc.err.str().rfind("flag provided but not defined: -datacenter\n", 0), 0u);
}

}  // namespace
}  // namespace pc::cli
