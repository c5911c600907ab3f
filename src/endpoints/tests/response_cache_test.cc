#include "endpoints/response_cache.h"

#include <gtest/gtest.h>

namespace pc::endpoints {
namespace {

std::shared_ptr<const std::string> body(std::size_t n, char c = 'x') {
  return std::make_shared<const std::string>(n, c);
}

TEST(ResponseCache, HitsOnlyAtTheSameIndex) {
  ResponseCache cache(1000);
  cache.insert("k", 5, body(10));
  ASSERT_TRUE(cache.find("k", 5));
  EXPECT_EQ(*cache.find("k", 5), std::string(10, 'x'));
  EXPECT_FALSE(cache.find("k", 6));
  EXPECT_FALSE(cache.find("other", 5));
}

TEST(ResponseCache, ANewerRenderingReplacesAndAnOlderOneDoesNot) {
  ResponseCache cache(1000);
  cache.insert("k", 5, body(10, 'a'));
  cache.insert("k", 7, body(20, 'b'));
  EXPECT_FALSE(cache.find("k", 5));
  EXPECT_EQ(*cache.find("k", 7), std::string(20, 'b'));
  cache.insert("k", 6, body(30, 'c'));  // a slower reader of an older snapshot
  EXPECT_EQ(*cache.find("k", 7), std::string(20, 'b'));
  EXPECT_EQ(cache.bytes(), 20u);
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(ResponseCache, EvictsTheLeastRecentlyUsedPastTheBudget) {
  ResponseCache cache(100);
  cache.insert("a", 1, body(40));
  cache.insert("b", 1, body(40));
  ASSERT_TRUE(cache.find("a", 1));  // a is now the most recent
  cache.insert("c", 1, body(40));
  EXPECT_TRUE(cache.find("a", 1));
  EXPECT_FALSE(cache.find("b", 1));
  EXPECT_TRUE(cache.find("c", 1));
  EXPECT_LE(cache.bytes(), 100u);
  cache.insert("huge", 1, body(101));
  EXPECT_FALSE(cache.find("huge", 1));
  EXPECT_TRUE(cache.find("a", 1));
}

}  // namespace
}  // namespace pc::endpoints
