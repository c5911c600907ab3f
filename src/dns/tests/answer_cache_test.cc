#include "dns/answer_cache.h"

#include <gtest/gtest.h>

#include <set>

#include "dns/wire/message.h"

namespace pc::dns {
namespace {

std::vector<std::uint8_t> query(std::uint16_t id, const std::string& name, bool edns = false) {
  wire::Message q;
  q.header.id = id;
  q.header.rd = true;
  q.questions.push_back(wire::Question{name, wire::type::kA, wire::kClassIn});
  if (edns) {
    q.edns = wire::Edns{};
    q.edns->udp_payload_size = 1232;
  }
  return wire::encode(q, wire::kMaxMessageSize)->bytes;
}

std::vector<std::uint8_t> answer(std::uint8_t marker) {
  return {0, 0, 0x81, 0x80, marker};
}

TEST(AnswerCache, KeyIgnoresTheIdAndSeparatesEverythingElse) {
  auto a = AnswerCache::key_of(query(1, "web.service.consul."), false);
  auto b = AnswerCache::key_of(query(2, "web.service.consul."), false);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *AnswerCache::key_of(query(1, "web.service.consul."), true));         // transport
  EXPECT_NE(*a, *AnswerCache::key_of(query(1, "WEB.service.consul."), false));        // echoed case
  EXPECT_NE(*a, *AnswerCache::key_of(query(1, "web.service.consul.", true), false));  // EDNS0
  auto no_rd = query(1, "web.service.consul.");
  no_rd[2] &= 0xfe;
  EXPECT_NE(*a, *AnswerCache::key_of(no_rd, false));
  // Not plain queries: never cached.
  auto response = query(1, "web.service.consul.");
  response[2] |= 0x80;
  EXPECT_FALSE(AnswerCache::key_of(response, false));
  auto two_questions = query(1, "web.service.consul.");
  two_questions[5] = 2;
  EXPECT_FALSE(AnswerCache::key_of(two_questions, false));
  auto notify = query(1, "web.service.consul.");
  notify[2] |= 4 << 3;
  EXPECT_FALSE(AnswerCache::key_of(notify, false));
  EXPECT_FALSE(AnswerCache::key_of(std::vector<std::uint8_t>(12, 0), false));
}

TEST(AnswerCache, ServesVariantsOfOneGenerationWithTheQueryId) {
  AnswerCache cache(16, 3);
  const std::string key = *AnswerCache::key_of(query(1, "web.service.consul."), false);
  EXPECT_FALSE(cache.lookup(key, 5, 9));
  cache.insert(key, 5, answer(1));
  cache.insert(key, 5, answer(2));
  EXPECT_FALSE(cache.lookup(key, 5, 9));  // still collecting variants
  cache.insert(key, 5, answer(3));
  std::set<std::uint8_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto hit = cache.lookup(key, 5, 0xabcd);
    ASSERT_TRUE(hit);
    EXPECT_EQ((*hit)[0], 0xab);
    EXPECT_EQ((*hit)[1], 0xcd);
    seen.insert((*hit)[4]);
  }
  EXPECT_EQ(seen, (std::set<std::uint8_t>{1, 2, 3}));
  EXPECT_FALSE(cache.lookup(key, 6, 1));  // the store moved on
  cache.insert(key, 6, answer(4));        // starts over for the new generation
  EXPECT_FALSE(cache.lookup(key, 5, 1));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AnswerCache, BoundedByEntries) {
  AnswerCache cache(4, 1);
  for (int i = 0; i < 10; ++i) {
    cache.insert(*AnswerCache::key_of(query(1, "s" + std::to_string(i) + ".consul."), false), 1,
                 answer(static_cast<std::uint8_t>(i)));
    EXPECT_LE(cache.size(), 4u);
  }
}

}  // namespace
}  // namespace pc::dns
