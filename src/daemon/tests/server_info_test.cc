// kRpcServerInfo's reply (daemon/server_info.h): the eighth line carries the LAN gossip
// address, and a reply of an older server (seven lines) still decodes.
#include "daemon/server_info.h"

#include <gtest/gtest.h>

namespace pc::daemon {
namespace {

TEST(ServerInfo, RoundTripsWithTheLanAddress) {
  ServerInfo info;
  info.node_id = "f0e1d2c3-0000-4000-8000-000000000001";
  info.node_name = "server-1";
  info.datacenter = "dc1";
  info.rpc_address = "10.0.0.1:8300";
  info.leader_address = "10.0.0.2:8300";
  info.leader_id = 42;
  info.members = {42, 7, 18446744073709551615ULL};
  info.serf_lan_address = "10.0.0.1:8301";
  const std::string bytes = encode_server_info(info);
  EXPECT_EQ(bytes,
            "f0e1d2c3-0000-4000-8000-000000000001\nserver-1\ndc1\n10.0.0.1:8300\n"
            "10.0.0.2:8300\n42\n42,7,18446744073709551615\n10.0.0.1:8301");
  auto decoded = decode_server_info(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, info);
}

TEST(ServerInfo, AnOlderServersReplyHasNoLanAddress) {
  // What servers before gossip sent: seven lines, no leader known, no configuration.
  auto decoded = decode_server_info("id\nname\ndc1\n10.0.0.1:8300\n\n0\n");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->rpc_address, "10.0.0.1:8300");
  EXPECT_EQ(decoded->leader_id, 0u);
  EXPECT_TRUE(decoded->members.empty());
  EXPECT_TRUE(decoded->serf_lan_address.empty());
}

TEST(ServerInfo, RefusesMalformedReplies) {
  for (const char* bad : {"", "a\nb\nc", "a\nb\nc\nd\ne\nx\n", "a\nb\nc\nd\ne\n1\n1,,2",
                          "a\nb\nc\nd\ne\n1\n-1", "a\nb\nc\nd\ne\n99999999999999999999\n"}) {
    auto decoded = decode_server_info(bad);
    EXPECT_FALSE(decoded) << bad;
    if (!decoded) {
      EXPECT_EQ(decoded.error().code, core::Code::kInvalidArgument);
    }
  }
  std::string many = "a\nb\nc\nd\ne\n1\n";
  for (std::size_t i = 0; i <= kServerInfoMembersMax; ++i) many += "1,";
  many.pop_back();
  EXPECT_FALSE(decode_server_info(many));
  EXPECT_FALSE(decode_server_info(std::string(kServerInfoSizeMax + 1, '\n')));
}

}  // namespace
}  // namespace pc::daemon
