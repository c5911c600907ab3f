// operator raft list-peers / remove-peer / transfer-leader: Consul's table, requests, texts.
#include <gtest/gtest.h>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

// (A delimiter, since "(unknown)" holds the default one.)
constexpr const char* kConfiguration = R"json({"Servers":[
  {"ID":"aaaa","Node":"s1","Address":"127.0.0.1:8300","Leader":false,"ProtocolVersion":"3",
   "Voter":true,"LastIndex":120},
  {"ID":"bbbb","Node":"server-2","Address":"127.0.0.1:8301","Leader":true,
   "ProtocolVersion":"3","Voter":true,"LastIndex":131},
  {"ID":"cccc","Node":"s3","Address":"127.0.0.1:8302","Leader":false,"ProtocolVersion":"",
   "Voter":false,"LastIndex":130},
  {"ID":"127.0.0.1:9","Node":"(unknown)","Address":"127.0.0.1:9","Leader":false,
   "ProtocolVersion":"unknown","Voter":true,"LastIndex":0}],"Index":131})json";

constexpr const char* kHealth = R"({"Healthy":false,"FailureTolerance":0,"Servers":[
  {"ID":"aaaa","LastIndex":120},{"ID":"bbbb","LastIndex":131},{"ID":"cccc","LastIndex":130}]})";

TEST(OperatorRaft, ListPeersPrintsConsulsTable) {
  Harness h;
  h.reply(200, kConfiguration);
  h.reply(429, kHealth);  // unhealthy clusters answer 429 with the same body
  EXPECT_EQ(h.run({"operator", "raft", "list-peers", "-stale"}), 0) << h.err.str();
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/operator/raft/configuration?stale=");
  EXPECT_EQ(h.requests[1].path, "/v1/operator/autopilot/health?stale=");
  EXPECT_EQ(h.out.str(),
            "Node       ID           Address         State     Voter  RaftProtocol  "
            "Commit Index  Trails Leader By\n"
            "s1         aaaa         127.0.0.1:8300  follower  true   3             "
            "120           11 Commits\n"
            "server-2   bbbb         127.0.0.1:8301  leader    true   3             "
            "131           _\n"
            "s3         cccc         127.0.0.1:8302  follower  false  <=1           "
            "130           1 Commit\n"
            "(unknown)  127.0.0.1:9  127.0.0.1:9     follower  true   unknown       _\n");
}

TEST(OperatorRaft, ListPeersReportsFailuresWithConsulsPrefixes) {
  Harness h;
  h.reply(500, "No cluster leader");
  EXPECT_EQ(h.run({"operator", "raft", "list-peers"}), 1);
  EXPECT_EQ(h.err.str(),
            "Error getting peers: Failed to retrieve raft configuration: Unexpected response "
            "code: 500 (No cluster leader)\n");

  Harness h2;
  h2.reply(200, kConfiguration);
  h2.fail("Error querying agent at http://127.0.0.1:8500: connection refused");
  EXPECT_EQ(h2.run({"operator", "raft", "list-peers"}), 1);
  EXPECT_EQ(h2.err.str(),
            "Error getting peers: Failed to retrieve autopilot health: Error querying agent at "
            "http://127.0.0.1:8500: connection refused\n");
}

TEST(OperatorRaft, RemovePeerByAddressOrId) {
  Harness h;
  h.reply(200, "");
  EXPECT_EQ(h.run({"operator", "raft", "remove-peer", "-address=127.0.0.1:8301"}), 0);
  EXPECT_EQ(h.out.str(), "Removed peer with address \"127.0.0.1:8301\"\n");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "DELETE");
  EXPECT_EQ(h.requests[0].path, "/v1/operator/raft/peer?address=127.0.0.1%3A8301");

  Harness h2;
  h2.reply(200, "");
  EXPECT_EQ(h2.run({"operator", "raft", "remove-peer", "-id", "bbbb"}), 0);
  EXPECT_EQ(h2.out.str(), "Removed peer with id \"bbbb\"\n");
  EXPECT_EQ(h2.requests[0].path, "/v1/operator/raft/peer?id=bbbb");
}

TEST(OperatorRaft, RemovePeerNeedsExactlyOneOfAddressAndId) {
  Harness h;
  EXPECT_EQ(h.run({"operator", "raft", "remove-peer"}), 1);
  EXPECT_EQ(h.err.str(),
            "Error removing peer: an address or id is required for the peer to "
            "remove\n");
  Harness h2;
  EXPECT_EQ(h2.run({"operator", "raft", "remove-peer", "-address=a:1", "-id=b"}), 1);
  EXPECT_EQ(h2.err.str(), "Error removing peer: cannot give both an address and id\n");
  EXPECT_TRUE(h.requests.empty());
  EXPECT_TRUE(h2.requests.empty());

  Harness h3;
  h3.reply(500, "address \"a:1\" was not found in the Raft configuration");
  EXPECT_EQ(h3.run({"operator", "raft", "remove-peer", "-address=a:1"}), 1);
  EXPECT_EQ(h3.err.str(),
            "Error removing peer: Unexpected response code: 500 (address \"a:1\" was not found "
            "in the Raft configuration)\n");
}

TEST(OperatorRaft, TransferLeader) {
  Harness h;
  h.reply(200, R"({"Success":true})");
  EXPECT_EQ(h.run({"operator", "raft", "transfer-leader"}), 0);
  EXPECT_EQ(h.out.str(), "Success\n");
  EXPECT_EQ(h.requests[0].method, "POST");
  EXPECT_EQ(h.requests[0].path, "/v1/operator/raft/transfer-leader");

  Harness h2;
  h2.reply(200, R"({"Success":true})");
  EXPECT_EQ(h2.run({"operator", "raft", "transfer-leader", "-id=bbbb"}), 0);
  EXPECT_EQ(h2.requests[0].path, "/v1/operator/raft/transfer-leader?id=bbbb");

  Harness h3;
  h3.reply(500, "Could not find address for server id nope");
  EXPECT_EQ(h3.run({"operator", "raft", "transfer-leader", "-id=nope"}), 1);
  EXPECT_EQ(h3.err.str(),
            "Error transfering leadership: Failed to transfer leadership Unexpected response "
            "code: 500 (Could not find address for server id nope)\n");

  Harness h4;
  h4.reply(200, R"({"Success":false})");
  EXPECT_EQ(h4.run({"operator", "raft", "transfer-leader"}), 1);
  EXPECT_EQ(h4.err.str(), "Error transfering leadership: Failed to transfer leadership\n");
}

TEST(OperatorRaft, BareCommandsShowTheirSubcommands) {
  Harness h;
  EXPECT_EQ(h.run({"operator", "raft"}), 1);
  EXPECT_NE(h.err.str().find("list-peers"), std::string::npos) << h.err.str();
  EXPECT_NE(h.err.str().find("transfer-leader"), std::string::npos);
  Harness h2;
  EXPECT_EQ(h2.run({"operator"}), 1);
  EXPECT_NE(h2.err.str().find("raft"), std::string::npos);
}

}  // namespace
}  // namespace pc::cli
