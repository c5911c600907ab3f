// serf tags in member meta: round trips, the size limit, malformed bytes, Consul's LAN tags.
#include "gossip/tags.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gossip/core/config.h"

namespace pc::gossip {
namespace {

Tags server_tags() {
  LanTagsInput in;
  in.server = true;
  in.datacenter = "dc1";
  in.node_id = "0f5c6a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f";
  in.build = "1.17.0:proconsul";
  in.server_port = 8300;
  in.wan_join_port = 8302;
  in.bootstrap_expect = 3;
  return consul_lan_tags(in);
}

TEST(GossipTags, RoundTrip) {
  for (const Tags& tags :
       {Tags{}, Tags{{"role", "node"}}, Tags{{"a", ""}, {"b", "x"}}, server_tags()}) {
    auto bytes = encode_tags(tags);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(static_cast<std::uint8_t>((*bytes)[0]), kTagsMagicByte);
    auto back = decode_tags(*bytes);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, tags);
  }
  // No meta at all is no tags.
  auto none = decode_tags("");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(GossipTags, LimitIsTheMemberMetaSize) {
  Tags tags{{"k", std::string(kMetaSizeMax - 1 - 1 - 1 - 2, 'v')}};  // magic, len, key, len(2)
  auto fits = encode_tags(tags);
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->size(), kMetaSizeMax);
  tags["k"].push_back('v');
  auto over = encode_tags(tags);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, core::Code::kTooLarge);
  EXPECT_NE(over.error().message.find("513 bytes"), std::string::npos) << over.error().message;
  EXPECT_EQ(encode_tags({{"", "x"}}).error().code, core::Code::kInvalidArgument);
}

TEST(GossipTags, MalformedIsRefused) {
  const std::string good = *encode_tags({{"dc", "dc1"}, {"role", "node"}});
  // Every truncation but the empty one and the whole.
  for (std::size_t n = 1; n < good.size(); ++n) {
    auto t = decode_tags(good.substr(0, n));
    if (n == 1 || n == 1 + 1 + 2 + 1 + 3) continue;  // magic alone; after the first tag
    EXPECT_FALSE(t) << n;
  }
  EXPECT_FALSE(decode_tags("role=node"));                     // no magic byte
  EXPECT_FALSE(decode_tags(std::string("\xff\x00\x00", 3)));  // empty key
  EXPECT_FALSE(
      decode_tags(std::string("\xff\x01"
                              "b\x00\x01"
                              "a\x00",
                              7)));  // out of order
  EXPECT_FALSE(
      decode_tags(std::string("\xff\x01"
                              "a\x00\x01"
                              "a\x00",
                              7)));  // duplicate
  EXPECT_FALSE(
      decode_tags(std::string("\xff\x81\x00"
                              "a\x00",
                              5)));                               // non-minimal length
  EXPECT_FALSE(decode_tags(std::string("\xff\xff\xff\xff", 4)));  // length runs on
  EXPECT_FALSE(decode_tags(std::string(kMetaSizeMax + 1, '\xff')));
}

TEST(GossipTags, ConsulLanTags) {
  LanTagsInput client;
  client.datacenter = "dc1";
  client.node_id = "id-1";
  client.build = "1.17.0";
  EXPECT_EQ(consul_lan_tags(client), (Tags{{"role", "node"},
                                           {"dc", "dc1"},
                                           {"segment", ""},
                                           {"id", "id-1"},
                                           {"vsn", "2"},
                                           {"vsn_min", "2"},
                                           {"vsn_max", "3"},
                                           {"build", "1.17.0"}}));
  Tags server = server_tags();
  EXPECT_EQ(server["role"], "consul");
  EXPECT_EQ(server["port"], "8300");
  EXPECT_EQ(server["raft_vsn"], "3");
  EXPECT_EQ(server["expect"], "3");
  EXPECT_EQ(server["wan_join_port"], "8302");
  EXPECT_EQ(server["acls"], "0");
  EXPECT_EQ(server.count("bootstrap"), 0u);
  EXPECT_EQ(server.count("grpc_port"), 0u);
  // A server's tags fit the meta with room to spare.
  auto bytes = encode_tags(server);
  ASSERT_TRUE(bytes);
  EXPECT_LT(bytes->size(), kMetaSizeMax / 2);
}

// GOSSIP_WRITE_CORPUS=<dir> writes the seed corpus of gossip_tags_fuzz.
TEST(GossipTags, SeedCorpus) {
  const char* dir = std::getenv("GOSSIP_WRITE_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "set GOSSIP_WRITE_CORPUS=<dir> to write the corpus";
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
  };
  write("server", *encode_tags(server_tags()));
  write("client", *encode_tags({{"role", "node"}, {"dc", "dc1"}}));
  write("empty_tags", *encode_tags({}));
  write("not_tags", "role=node");
  write("out_of_order", std::string("\xff\x01"
                                    "b\x00\x01"
                                    "a\x00",
                                    7));
  write("truncated", encode_tags(server_tags())->substr(0, 40));
}

}  // namespace
}  // namespace pc::gossip
