// PMap against std::map as its naive twin: random operations with fixed seeds, checking every
// version kept along the way is still exactly what it was when made.
#include "state/pmap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace pc::state {
namespace {

using Model = std::map<std::string, int>;

void expect_same(const PMap<int>& m, const Model& model) {
  ASSERT_EQ(m.size(), model.size());
  ASSERT_TRUE(m.check_invariants_for_test());
  auto it = m.begin();
  for (const auto& [k, v] : model) {
    ASSERT_TRUE(it != m.end());
    EXPECT_EQ(it->key, k);
    EXPECT_EQ(it->value, v);
    ++it;
  }
  EXPECT_TRUE(it == m.end());
}

std::string random_key(std::mt19937_64& rng, int alphabet) {
  std::uniform_int_distribution<int> len(0, 4);
  std::uniform_int_distribution<int> ch(0, alphabet - 1);
  std::string k;
  for (int n = len(rng); n > 0; --n) k.push_back(static_cast<char>('a' + ch(rng)));
  if (rng() % 8 == 0) k.push_back('\0');  // keys are bytes, not C strings
  return k;
}

TEST(PMap, EmptyMap) {
  PMap<int> m;
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find("a"), nullptr);
  EXPECT_TRUE(m.begin() == m.end());
  EXPECT_TRUE(m.lower_bound("") == m.end());
  EXPECT_TRUE(m.erase("a").same_root(m));
}

TEST(PMap, SetFindEraseBasics) {
  PMap<int> m = PMap<int>().set("b", 2).set("a", 1).set("c", 3);
  ASSERT_NE(m.find("b"), nullptr);
  EXPECT_EQ(*m.find("b"), 2);
  m = m.set("b", 20);
  EXPECT_EQ(*m.find("b"), 20);
  EXPECT_EQ(m.size(), 3u);
  m = m.erase("b");
  EXPECT_EQ(m.find("b"), nullptr);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_TRUE(m.check_invariants_for_test());
}

// Property: after every random operation the map equals its std::map twin, and every earlier
// version still equals the twin as it was then.
TEST(PMap, RandomOpsMatchStdMapAndOldVersionsStayUnchanged) {
  for (std::uint64_t seed : {1u, 2u, 3u, 42u, 1234u}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    PMap<int> m;
    Model model;
    std::vector<std::pair<PMap<int>, Model>> history;
    for (int step = 0; step < 3000; ++step) {
      std::string k = random_key(rng, 6);
      const int op = static_cast<int>(rng() % 10);
      if (op < 6) {
        const int v = static_cast<int>(rng() % 1000);
        m = m.set(k, v);
        model[k] = v;
      } else if (op < 9) {
        m = m.erase(k);
        model.erase(k);
      } else {
        const int* found = m.find(k);
        auto it = model.find(k);
        ASSERT_EQ(found != nullptr, it != model.end());
        if (found != nullptr) {
          EXPECT_EQ(*found, it->second);
        }
      }
      if (step % 100 == 0) history.emplace_back(m, model);
    }
    expect_same(m, model);
    for (const auto& [old_map, old_model] : history) expect_same(old_map, old_model);
  }
}

TEST(PMap, LowerBoundAndPrefixScanMatchStdMap) {
  std::mt19937_64 rng(7);
  PMap<int> m;
  Model model;
  for (int i = 0; i < 500; ++i) {
    std::string k = random_key(rng, 4);
    m = m.set(k, i);
    model[k] = i;
  }
  for (int i = 0; i < 300; ++i) {
    const std::string probe = random_key(rng, 4);
    auto it = m.lower_bound(probe);
    auto mit = model.lower_bound(probe);
    for (; mit != model.end(); ++mit, ++it) {
      ASSERT_TRUE(it != m.end());
      ASSERT_EQ(it->key, mit->first);
    }
    EXPECT_TRUE(it == m.end());

    std::vector<std::string> got;
    m.scan_prefix(probe, [&](const auto& e) {
      got.push_back(e.key);
      return true;
    });
    std::vector<std::string> want;
    for (auto j = model.lower_bound(probe); j != model.end() && j->first.starts_with(probe); ++j) {
      want.push_back(j->first);
    }
    EXPECT_EQ(got, want) << "prefix " << probe;
  }
}

TEST(PMap, ScanPrefixStopsWhenToldTo) {
  PMap<int> m = PMap<int>().set("a/1", 1).set("a/2", 2).set("a/3", 3).set("b", 4);
  int seen = 0;
  m.scan_prefix("a/", [&](const auto&) { return ++seen < 2; });
  EXPECT_EQ(seen, 2);
}

TEST(PMap, StaysBalancedOnSortedInsertsAndDeletes) {
  PMap<int> m;
  constexpr int kCount = 1 << 14;
  for (int i = 0; i < kCount; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08d", i);
    m = m.set(buf, i);
  }
  ASSERT_TRUE(m.check_invariants_for_test());
  EXPECT_LE(m.height_for_test(), static_cast<int>(1.45 * std::log2(kCount + 2)));
  for (int i = 0; i < kCount; i += 2) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08d", i);
    m = m.erase(buf);
  }
  EXPECT_EQ(m.size(), static_cast<std::size_t>(kCount / 2));
  ASSERT_TRUE(m.check_invariants_for_test());
  EXPECT_LE(m.height_for_test(), static_cast<int>(1.45 * std::log2(kCount / 2 + 2)));
}

// SortedBuilder (how a decoded snapshot becomes a table) builds a valid AVL tree of every
// size, and the result behaves like any other map under later updates.
TEST(PMap, SortedBuilderIsBalancedAndEqualsInserts) {
  for (int n = 0; n <= 300; ++n) {
    PMap<int>::SortedBuilder builder;
    Model model;
    for (int i = 0; i < n; ++i) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%05d", i * 3);
      if (!builder.empty()) {
        ASSERT_LT(builder.last_key(), buf);
      }
      builder.append(buf, i);
      model[buf] = i;
    }
    EXPECT_EQ(builder.size(), static_cast<std::size_t>(n));
    PMap<int> m = std::move(builder).build();
    expect_same(m, model);
    EXPECT_LE(m.height_for_test(), static_cast<int>(std::log2(n + 1)) + 1);
    m = m.set("00001", -1).erase("00000");
    model["00001"] = -1;
    model.erase("00000");
    expect_same(m, model);
  }
}

TEST(PMap, UpdateSharesUntouchedSubtrees) {
  // An old version is unchanged after updates, and pointers into it stay valid after the new
  // version drops the nodes they point to.
  PMap<std::string> v1;
  for (int i = 0; i < 100; ++i) v1 = v1.set("k" + std::to_string(i), "v" + std::to_string(i));
  const std::string* p = v1.find("k50");
  PMap<std::string> v2 = v1.set("k50", "changed").erase("k10");
  EXPECT_EQ(*p, "v50");
  EXPECT_EQ(*v1.find("k50"), "v50");
  EXPECT_NE(v1.find("k10"), nullptr);
  EXPECT_EQ(*v2.find("k50"), "changed");
  EXPECT_EQ(v2.find("k10"), nullptr);
  EXPECT_EQ(v1.size(), 100u);
  EXPECT_EQ(v2.size(), 99u);
  // Path copying copies nodes, never entries: every entry but the replaced one is the very
  // same object in both versions.
  int shared = 0;
  for (const auto& e : v2) shared += v1.find(e.key) == &e.value ? 1 : 0;
  EXPECT_EQ(shared, 98);
}

}  // namespace
}  // namespace pc::state
