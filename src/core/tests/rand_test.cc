#include "core/rand.h"

#include <gtest/gtest.h>

#include <set>

namespace pc::core {
namespace {

TEST(Uuid, HasConsulsShapeAndIsUnique) {
  SystemRand rand(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = make_uuid(rand);
    EXPECT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id[14], '4');
    EXPECT_TRUE(seen.insert(id).second);
  }
  EXPECT_FALSE(is_uuid("not-a-uuid"));
}

TEST(Uuid, SameSeedSameSequence) {
  SystemRand a(7), b(7);
  EXPECT_EQ(make_uuid(a), make_uuid(b));
}

}  // namespace
}  // namespace pc::core
