#include "consensus/runtime/message_codec.h"

#include <gtest/gtest.h>

namespace pc::consensus {
namespace {

raft::Message full_message() {
  raft::Message m;
  m.type = raft::MessageType::kSnap;
  m.from = 1;
  m.to = 0xffffffffffffull;
  m.term = 7;
  m.log_term = 6;
  m.index = 100;
  m.entries = {raft::Entry{6, 101, raft::EntryType::kNormal, std::string("a\0b", 3)},
               raft::Entry{7, 102, raft::EntryType::kConfChange, "cc"}};
  m.commit = 99;
  m.reject = true;
  m.reject_hint = 42;
  m.snapshot.meta.index = 90;
  m.snapshot.meta.term = 5;
  m.snapshot.meta.conf.voters = {1, 2, 3};
  m.snapshot.meta.conf.learners = {4};
  m.snapshot.data = "state";
  m.context = "ctx";
  return m;
}

TEST(RaftMessageCodec, RoundTripsEveryField) {
  raft::Message heartbeat;
  heartbeat.type = raft::MessageType::kHeartbeat;
  heartbeat.from = 2;
  heartbeat.to = 1;
  heartbeat.index = 12345;  // lease reads carry the leader's tick here
  std::vector<raft::Message> batch{full_message(), heartbeat};
  auto decoded = decode_raft_batch(encode_raft_batch(batch));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, batch);
}

TEST(RaftMessageCodec, RefusesGarbageAndLocalTypes) {
  EXPECT_FALSE(decode_raft_batch("\xff\xff\xff"));
  raft::Message local;
  local.type = raft::MessageType::kHup;
  EXPECT_FALSE(decode_raft_batch(encode_raft_batch({local})));
  raft::Message odd = full_message();
  std::string bytes = encode_raft_batch({odd});
  // Every truncation either fails or decodes to something; never crashes.
  for (std::size_t n = 0; n < bytes.size(); ++n) (void)decode_raft_batch(bytes.substr(0, n));
}

TEST(RaftConfigurationCodec, RoundTripsAndRefusesGarbage) {
  RaftConfiguration c;
  c.last_index = 42;
  c.term = 7;
  c.servers.push_back(RaftServerInfo{"127.0.0.1:8300", true, true, 42, true});
  c.servers.push_back(RaftServerInfo{"127.0.0.2:8300", true, false, 40, true});
  c.servers.push_back(RaftServerInfo{"127.0.0.3:8300", false, false, 0, false});
  auto back = decode_configuration(encode_configuration(c));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(decode_configuration("\xff\xff\xff"));
  RaftConfiguration huge;
  huge.servers.push_back(RaftServerInfo{std::string(300, 'a'), true, false, 0, false});
  EXPECT_FALSE(decode_configuration(encode_configuration(huge)));
}

}  // namespace
}  // namespace pc::consensus
